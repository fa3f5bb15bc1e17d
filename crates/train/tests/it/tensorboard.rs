//! `pretrain.tensorboard`: the event file holds every step's loss and learning rate and
//! every monitor measurement, the same numbers as `log.jsonl`, and a run killed and resumed
//! writes the same scalars as an uninterrupted one.
use std::path::Path;

use corruptencoder_data::open_dataset;
use corruptencoder_train::burn::prelude::Device;
use corruptencoder_train::{
    EVENTS_FILE, EvalTransform, FeatureJob, MethodConfig, MonitorConfig, MonitorSets, NoReporter,
    PretrainConfig, PretrainRun, SimclrConfig, pretrain, read_scalars,
};

use crate::util::{tiny_config, tiny_dataset};

/// `(step, tag, value)` of every scalar in `run`'s event file.
fn scalars(run: &Path) -> Vec<(u64, String, f32)> {
    let read = read_scalars(&run.join(EVENTS_FILE)).unwrap();
    read.into_iter().map(|s| (s.step, s.tag, s.value)).collect()
}

/// `field` of every `log.jsonl` line that has it, as TensorBoard stores it (f32).
fn logged(run: &Path, field: &str) -> Vec<(u64, f32)> {
    fs_err::read_to_string(run.join("log.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter_map(|v| Some((v["step"].as_u64()?, v[field].as_f64()? as f32)))
        .collect()
}

fn tagged(all: &[(u64, String, f32)], tag: &str) -> Vec<(u64, f32)> {
    all.iter().filter(|(_, t, _)| t == tag).map(|(s, _, v)| (*s, *v)).collect()
}

#[test]
fn event_file_matches_the_step_log_and_survives_a_resume() {
    let dir = tempfile::tempdir().unwrap();
    let list = tiny_dataset(dir.path(), 24);
    // The pre-training images, labelled `i % 3`, as the monitor's downstream set.
    let text = fs_err::read_to_string(&list).unwrap();
    let down: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| format!("{} {}\n", l.split(' ').next().unwrap(), i % 3))
        .collect();
    fs_err::write(dir.path().join("down.txt"), down).unwrap();
    let ds = open_dataset(&dir.path().join("down.txt"), None).unwrap();
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
        batch_size: 12,
        device: &device,
    };
    let simclr = SimclrConfig { hidden_dim: Some(16), projection_dim: 8, ..Default::default() };
    let config = PretrainConfig {
        tensorboard: true,
        monitor: MonitorConfig { every: 1, ..Default::default() },
        ..tiny_config(MethodConfig::Simclr(simclr), 2)
    };
    let train = |out: &Path, resume: bool, stop_after: Option<u64>| {
        let run = PretrainRun {
            data: &list,
            format: None,
            out,
            resume,
            force: false,
            device: device.clone(),
            progress: &corruptencoder_core::NoProgress,
            reporter: &mut NoReporter,
            stop_after,
            monitor: Some(sets),
        };
        pretrain(&config, run).unwrap()
    };
    let whole = dir.path().join("whole");
    train(&whole, false, None);
    let all = scalars(&whole);
    // 24 images, batch 8: 6 steps, each a loss and a learning rate; the monitor before
    // training and after each epoch, each a kNN accuracy and an ASR.
    assert_eq!(all.len(), 6 * 2 + 3 * 2, "{all:?}");
    assert_eq!(tagged(&all, "train/loss"), logged(&whole, "loss"));
    assert_eq!(tagged(&all, "train/lr"), logged(&whole, "lr"));
    assert_eq!(tagged(&all, "monitor/knn_accuracy"), logged(&whole, "knn_accuracy"));
    assert_eq!(tagged(&all, "monitor/asr"), logged(&whole, "asr"));
    let at: Vec<u64> = tagged(&all, "monitor/asr").iter().map(|(s, _)| *s).collect();
    assert_eq!(at, [0, 3, 6]);

    // Killed after step 4 (mid epoch 2), resumed from the step-3 checkpoint: step 4's
    // event is dropped and written again, so the file reads like the uninterrupted one.
    let killed = dir.path().join("killed");
    train(&killed, false, Some(4));
    assert_eq!(tagged(&scalars(&dir.path().join(".killed.partial")), "train/loss").len(), 4);
    train(&killed, true, None);
    assert_eq!(scalars(&killed), all);
}

#[test]
fn no_event_file_unless_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let list = tiny_dataset(dir.path(), 16);
    let simclr = SimclrConfig { hidden_dim: Some(16), projection_dim: 8, ..Default::default() };
    let out = dir.path().join("plain");
    crate::util::run(&tiny_config(MethodConfig::Simclr(simclr), 1), &list, &out, false, None)
        .unwrap();
    assert!(out.join("log.jsonl").is_file());
    assert!(!out.join(EVENTS_FILE).exists());
}
