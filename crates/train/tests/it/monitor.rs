use std::path::{Path, PathBuf};

use corruptencoder_data::open_dataset;
use corruptencoder_train::burn::prelude::Device;
use corruptencoder_train::{
    EvalTransform, FeatureJob, MethodConfig, MonitorConfig, MonitorReport, MonitorSets,
    PretrainConfig, PretrainRun, Reporter, SimclrConfig, StepReport, pretrain,
};

use crate::clip::{captioned, clip_config};
use crate::util::{logged_losses, run, tiny_config, tiny_dataset};

#[derive(Default)]
struct Seen(Vec<MonitorReport>);

impl Reporter for Seen {
    fn on_step(&mut self, _report: &StepReport) {}
    fn on_monitor(&mut self, report: &MonitorReport) {
        self.0.push(*report);
    }
}

/// `images` (one per line, first field) as a labelled downstream list, image `i` in
/// class `i % 3`, written to `dir/down.txt`.
fn downstream(dir: &Path, images: &[&str]) -> PathBuf {
    let labelled: String =
        images.iter().enumerate().map(|(i, p)| format!("{p} {}\n", i % 3)).collect();
    let down = dir.join("down.txt");
    fs_err::write(&down, labelled).unwrap();
    down
}

/// Trains `plain` with the monitor on (every epoch, on `down` as train, test and triggered
/// set with target class 1) into `dir/watched` and without it into `dir/plain`, checks
/// that the monitor changed no weight and no step line, and returns what it measured.
fn watched_and_plain(
    plain: &PretrainConfig,
    data: &Path,
    down: &Path,
    dir: &Path,
) -> Vec<MonitorReport> {
    let ds = open_dataset(down, None).unwrap();
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
    let mut config = plain.clone();
    config.monitor = MonitorConfig { every: 1, ..Default::default() };
    config.monitor.knn.k = 5;
    let watched = dir.join("watched");
    let mut seen = Seen::default();
    let watched_run = PretrainRun {
        data,
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
    let plain_out = dir.join("plain");
    run(plain, data, &plain_out, false, None).unwrap();

    let read = |p: &Path| fs_err::read(p.join("encoder.safetensors")).unwrap();
    assert!(read(&watched) == read(&plain_out), "the monitor changed the weights");
    // The log holds the same lines between the step lines; the step lines are unchanged.
    let log = fs_err::read_to_string(watched.join("log.jsonl")).unwrap();
    let logged: Vec<MonitorReport> = log
        .lines()
        .filter(|l| l.contains("knn_accuracy"))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(logged, seen.0);
    let losses: Vec<f64> = log
        .lines()
        .filter(|l| l.contains("\"loss\""))
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["loss"].as_f64().unwrap())
        .collect();
    assert_eq!(losses, logged_losses(&plain_out));

    // Without sets the setting is inert: the run trains and logs no monitor line.
    let no_sets = dir.join("no-sets");
    run(&config, data, &no_sets, false, None).unwrap();
    let log = fs_err::read_to_string(no_sets.join("log.jsonl")).unwrap();
    assert!(!log.contains("knn_accuracy"));
    seen.0
}

/// The monitor scores the encoder before training, every epoch and at the end, logs it
/// beside the steps, and leaves training exactly as it is without it.
#[test]
fn the_monitor_logs_knn_accuracy_and_asr_and_changes_no_weight() {
    let dir = tempfile::tempdir().unwrap();
    let list = tiny_dataset(dir.path(), 24);
    // The same images as a labelled downstream set (the pre-training list marks poisons -1).
    let text = fs_err::read_to_string(&list).unwrap();
    let images: Vec<&str> = text.lines().map(|l| l.split(' ').next().unwrap()).collect();
    let down = downstream(dir.path(), &images);
    let simclr = SimclrConfig { hidden_dim: Some(16), projection_dim: 8, ..Default::default() };
    let seen =
        watched_and_plain(&tiny_config(MethodConfig::Simclr(simclr), 3), &list, &down, dir.path());

    // 24 images, batch 8: 3 steps per epoch; measured before training and after each epoch.
    let at: Vec<(usize, u64)> = seen.iter().map(|r| (r.epoch, r.step)).collect();
    assert_eq!(at, [(0, 0), (1, 3), (2, 6), (3, 9)]);
    for r in &seen {
        assert!((0.0..=100.0).contains(&r.knn_accuracy), "{r:?}");
        // 8 of 24 images are of the target class; the ASR counts the other 16.
        let asr = r.asr.unwrap();
        assert!((0.0..=100.0).contains(&asr) && (asr * 16.0 / 100.0).fract().abs() < 1e-9, "{r:?}");
        assert_eq!(r.ceiling, None);
    }
}

/// The image-text loop keeps the same monitor: a CLIP run's image encoder is scored at the
/// same points, and training is unchanged by it.
#[test]
fn clip_runs_are_monitored_like_image_only_runs() {
    let dir = tempfile::tempdir().unwrap();
    let csv = captioned(dir.path(), 24);
    let text = fs_err::read_to_string(&csv).unwrap();
    // Caption colour `i % 3` is the downstream label.
    let images: Vec<&str> = text.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    let down = downstream(dir.path(), &images);
    let seen = watched_and_plain(&clip_config(3), &csv, &down, dir.path());
    let at: Vec<(usize, u64)> = seen.iter().map(|r| (r.epoch, r.step)).collect();
    assert_eq!(at, [(0, 0), (1, 3), (2, 6), (3, 9)]);
    assert!(seen.iter().all(|r| (0.0..=100.0).contains(&r.knn_accuracy)), "{seen:?}");
}
