use corruptencoder_data::open_dataset;
use corruptencoder_train::burn::prelude::Device;
use corruptencoder_train::{
    EvalTransform, FeatureJob, MethodConfig, MonitorConfig, MonitorReport, MonitorSets,
    PretrainRun, Reporter, SimclrConfig, StepReport, pretrain,
};

use crate::util::{logged_losses, run, tiny_config, tiny_dataset};

#[derive(Default)]
struct Seen(Vec<MonitorReport>);

impl Reporter for Seen {
    fn on_step(&mut self, _report: &StepReport) {}
    fn on_monitor(&mut self, report: &MonitorReport) {
        self.0.push(*report);
    }
}

/// The monitor scores the encoder before training, every epoch and at the end, logs it
/// beside the steps, and leaves training exactly as it is without it.
#[test]
fn the_monitor_logs_knn_accuracy_and_asr_and_changes_no_weight() {
    let dir = tempfile::tempdir().unwrap();
    let list = tiny_dataset(dir.path(), 24);
    // The same images as a labelled downstream set (the pre-training list marks poisons -1).
    let text = fs_err::read_to_string(&list).unwrap();
    let labelled: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| format!("{} {}\n", l.split(' ').next().unwrap(), i % 3))
        .collect();
    let down = dir.path().join("down.txt");
    fs_err::write(&down, labelled).unwrap();
    let ds = open_dataset(&down, None).unwrap();
    let job =
        FeatureJob { name: "set", dataset: ds.as_ref(), transform: EvalTransform::crop_only(16) };
    let device = Device::flex();
    let sets = MonitorSets {
        train: job,
        test: job,
        triggered: Some(job),
        ceiling: None,
        target: 1,
        classes: 3,
        batch_size: 10,
        device: &device,
    };
    let simclr = SimclrConfig { hidden_dim: Some(16), projection_dim: 8, ..Default::default() };
    let plain = tiny_config(MethodConfig::Simclr(simclr), 3);
    let mut config = plain.clone();
    config.monitor = MonitorConfig { every: 1, ..Default::default() };
    config.monitor.knn.k = 5;

    let watched = dir.path().join("watched");
    let mut seen = Seen::default();
    let watched_run = PretrainRun {
        data: &list,
        format: None,
        out: &watched,
        resume: false,
        force: false,
        device: device.clone(),
        progress: &corruptencoder_core::NoProgress,
        reporter: &mut seen,
        stop_after: None,
        monitor: Some(sets),
    };
    pretrain(&config, watched_run).unwrap();
    let plain_out = dir.path().join("plain");
    run(&plain, &list, &plain_out, false, None).unwrap();

    let read = |p: &std::path::Path| fs_err::read(p.join("encoder.safetensors")).unwrap();
    assert!(read(&watched) == read(&plain_out), "the monitor changed the weights");

    // 24 images, batch 8: 3 steps per epoch; measured before training and after each epoch.
    let at: Vec<(usize, u64)> = seen.0.iter().map(|r| (r.epoch, r.step)).collect();
    assert_eq!(at, [(0, 0), (1, 3), (2, 6), (3, 9)]);
    for r in &seen.0 {
        assert!((0.0..=100.0).contains(&r.knn_accuracy), "{r:?}");
        // 8 of 24 images are of the target class; the ASR counts the other 16.
        let asr = r.asr.unwrap();
        assert!((0.0..=100.0).contains(&asr) && (asr * 16.0 / 100.0).fract().abs() < 1e-9, "{r:?}");
        assert_eq!(r.ceiling, None);
    }
    // The log holds the same lines between the step lines; the step lines are unchanged.
    let log = fs_err::read_to_string(watched.join("log.jsonl")).unwrap();
    let logged: Vec<MonitorReport> = log
        .lines()
        .filter(|l| l.contains("knn_accuracy"))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(logged, seen.0);
    let steps: Vec<&str> = log.lines().filter(|l| l.contains("\"loss\"")).collect();
    assert_eq!(steps.len(), 9);
    let losses: Vec<f64> = steps
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["loss"].as_f64().unwrap())
        .collect();
    assert_eq!(losses, logged_losses(&plain_out));

    // Without sets the setting is inert: the run trains and logs no monitor line.
    let no_sets = dir.path().join("no-sets");
    run(&config, &list, &no_sets, false, None).unwrap();
    let log = fs_err::read_to_string(no_sets.join("log.jsonl")).unwrap();
    assert!(!log.contains("knn_accuracy"));
}
