use corruptencoder_eval::{
    Features, LabelledFeatures, LinearProbe, LinearProbeConfig, TriggeredSet, evaluate,
};

use crate::clusters::split;

#[test]
fn separable_clusters_reach_95_percent_with_paper_defaults() {
    let ((train, train_y), (test, test_y)) = split(1, 10, 60, 32, 12.0);
    let (probe, history) =
        LinearProbe::fit(&LinearProbeConfig::default(), &train, &train_y, 10, 5).unwrap();
    assert_eq!(history.epoch_loss.len(), 40);
    assert!(history.epoch_loss[39] < history.epoch_loss[0]);
    assert!((history.epoch_lr[39] - 1e-4).abs() < 1e-9);
    let result =
        evaluate(&probe, LabelledFeatures { features: &test, labels: &test_y }, None).unwrap();
    assert!(result.clean.accuracy.top1 >= 0.95, "{:?}", result.clean.accuracy);
}

#[test]
fn same_seed_same_probe_other_seed_other_probe() {
    let ((train, y), (test, _)) = split(2, 5, 40, 16, 6.0);
    let cfg = LinearProbeConfig { epochs: 4, batch_size: 32, ..Default::default() };
    let (a, ha) = LinearProbe::fit(&cfg, &train, &y, 5, 9).unwrap();
    let (b, hb) = LinearProbe::fit(&cfg, &train, &y, 5, 9).unwrap();
    assert_eq!(a, b);
    assert_eq!(ha, hb);
    assert_eq!(a.logits(&test).unwrap(), b.logits(&test).unwrap());
    let (c, _) = LinearProbe::fit(&cfg, &train, &y, 5, 10).unwrap();
    assert_ne!(a, c);
}

#[test]
fn same_probe_on_one_thread_and_many() {
    let ((train, y), _) = split(3, 4, 50, 24, 6.0);
    let cfg = LinearProbeConfig { epochs: 3, batch_size: 16, ..Default::default() };
    let many = LinearProbe::fit(&cfg, &train, &y, 4, 1).unwrap();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let one = pool.install(|| LinearProbe::fit(&cfg, &train, &y, 4, 1).unwrap());
    assert_eq!(many, one);
}

#[test]
fn triggered_features_that_collapse_to_target_give_full_asr() {
    let ((train, y), (test, test_y)) = split(4, 4, 50, 16, 12.0);
    let (probe, _) = LinearProbe::fit(&LinearProbeConfig::default(), &train, &y, 4, 2).unwrap();
    // A perfect backdoor: every triggered image's feature is a target-class feature.
    let target = 3;
    let target_row = (0..test.rows()).find(|&i| test_y[i] == target).unwrap();
    let triggered = Features::from_rows(&vec![test.row(target_row); test.rows()]).unwrap();
    let result = evaluate(
        &probe,
        LabelledFeatures { features: &test, labels: &test_y },
        Some(TriggeredSet {
            set: LabelledFeatures { features: &triggered, labels: &test_y },
            target,
        }),
    )
    .unwrap();
    let attack = result.attack.unwrap();
    assert_eq!(attack.eligible, 150);
    assert_eq!(attack.excluded, 50);
    assert_eq!(attack.asr, 1.0);
}

#[test]
fn mismatched_inputs_are_errors_not_panics() {
    let ((train, y), _) = split(5, 3, 10, 8, 5.0);
    let cfg = LinearProbeConfig::default();
    assert!(LinearProbe::fit(&cfg, &train, &y[1..], 3, 0).is_err());
    assert!(LinearProbe::fit(&cfg, &train, &y, 2, 0).is_err());
    let (probe, _) =
        LinearProbe::fit(&LinearProbeConfig { epochs: 1, ..cfg }, &train, &y, 3, 0).unwrap();
    assert!(probe.predict(&Features::new(vec![0.0; 4], 4).unwrap()).is_err());
}
