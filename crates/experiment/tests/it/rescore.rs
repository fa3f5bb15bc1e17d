//! Re-scoring a tiny experiment's saved encoders without training.
use std::path::Path;

use super::{Record, opts, tiny};
use corruptencoder_data::ImageLimits;
use corruptencoder_experiment::*;
use corruptencoder_train::burn::prelude::Device;

fn options(dir: &Path) -> RescoreOptions {
    RescoreOptions {
        dir: dir.into(),
        trigger_sizes: Vec::new(),
        targets: Vec::new(),
        probe_seeds: Vec::new(),
        force: false,
        device: Device::flex(),
        limits: ImageLimits::default(),
        provenance: Default::default(),
    }
}

#[test]
fn rescoring_reproduces_the_runs_and_scores_other_sizes_targets_and_probe_seeds() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("exp");
    let mut config = tiny();
    config.seeds = vec![0, 1];
    config.pretrain.monitor.every = 0;
    let results = run_experiment(&config, &opts(&out), &Record::default()).unwrap();

    // By default each run's own trigger size, target and probe seed: the run's numbers,
    // from the features its run cached (nothing extracted).
    let same = rescore(&options(&out), &Record::default()).unwrap();
    assert_eq!(same.runs.len(), results.runs.len());
    for (again, run) in same.runs.iter().zip(&results.runs) {
        assert_eq!((&again.arm, again.seed), (&run.arm, run.seed));
        let [probe] = &again.probes[..] else { panic!("one probe seed") };
        let [t] = &probe.triggers[..] else { panic!("one target and size") };
        assert_eq!(probe.probe_seed, run.seed);
        assert_eq!(
            (probe.accuracy, t.asr, t.hits, t.eligible),
            (run.accuracy, run.asr, run.asr_hits, run.asr_eligible)
        );
        assert_eq!(t.target_patch_asr, run.target_patch_asr, "{}", run.arm);
        assert_eq!(again.feature_seconds, 0.0, "every set came from the run's cache");
    }
    assert!(out.join("rescore.json").is_file() && out.join("rescore.md").is_file());
    let err = rescore(&options(&out), &Record::default()).unwrap_err();
    assert!(matches!(err, Error::OutputExists { .. }), "{err}");
    assert!(err.to_string().contains("`force`"), "{err}");

    // Other sizes, a second target class and two probe seeds, with one encoder missing as
    // in an experiment still running.
    std::fs::remove_file(out.join("runs/corruptencoder/seed-1/pretrain/encoder.safetensors"))
        .unwrap();
    let wider = RescoreOptions {
        trigger_sizes: vec![4, 6],
        targets: vec![0, 1],
        probe_seeds: vec![3, 4],
        force: true,
        ..options(&out)
    };
    let r = rescore(&wider, &Record::default()).unwrap();
    assert_eq!(r.runs.len(), 5, "two baselines, two clean, one corruptencoder");
    assert!(
        r.notes.iter().any(|n| n.contains("corruptencoder seed 1: no saved encoder")),
        "{:?}",
        r.notes
    );
    for run in &r.runs {
        let seeds: Vec<u64> = run.probes.iter().map(|p| p.probe_seed).collect();
        assert_eq!(seeds, [3, 4]);
        let keys: Vec<(usize, u32)> =
            run.probes[0].triggers.iter().map(|t| (t.target, t.trigger_size)).collect();
        assert_eq!(keys, [(0, 4), (0, 6), (1, 4), (1, 6)]);
        // Three of the nine test images belong to each class: six are eligible.
        assert!(
            run.probes[0].triggers.iter().all(|t| t.eligible == 6 && t.target_patch_asr.is_some())
        );
        assert!(run.feature_seconds > 0.0 && run.seconds >= run.feature_seconds);
    }
    let trigger_box = |set: &str| -> serde_json::Value {
        let text =
            std::fs::read_to_string(out.join("rescore/testsets").join(set).join("manifest.jsonl"))
                .unwrap();
        serde_json::from_str::<serde_json::Value>(text.lines().next().unwrap()).unwrap()["trigger_box"].clone()
    };
    assert_eq!(trigger_box("trigger-6px")[2], 6);
    assert_eq!(trigger_box("target-patch-1-6px"), trigger_box("trigger-6px"), "same placement");
    assert!(!out.join("rescore/testsets/trigger-4px").exists(), "the experiment's own set");
    assert!(out.join("rescore/references/class-1").is_dir());
    assert!(out.join("runs/clean/seed-0/rescore/target-patch-1-6px.safetensors").is_file());
    let summary: Vec<(String, usize)> = r.summary.iter().map(|s| (s.label(), s.seeds)).collect();
    assert_eq!(
        summary,
        [("random-encoder".into(), 2), ("clean".into(), 2), ("corruptencoder".into(), 1)]
    );
    let md = std::fs::read_to_string(out.join("rescore.md")).unwrap();
    assert!(md.contains("## Target class 1") && md.contains("target-patch ASR % at 6 px"), "{md}");

    // Again: every set is cached now, and the numbers are the same.
    let cached = rescore(&wider, &Record::default()).unwrap();
    assert!(cached.runs.iter().all(|r| r.feature_seconds == 0.0));
    let probes = |r: &corruptencoder_report::Rescore| {
        r.runs.iter().map(|r| r.probes.clone()).collect::<Vec<_>>()
    };
    assert_eq!(probes(&cached), probes(&r));

    let bad = RescoreOptions { targets: vec![3], force: true, ..options(&out) };
    let err = rescore(&bad, &Record::default()).unwrap_err().to_string();
    assert!(err.contains("targets = 3: class 3") && err.contains("3 downstream classes"), "{err}");
}
