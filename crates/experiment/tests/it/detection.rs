//! Detector defenses as experiment arms: the poisoned encoder they read, the files they
//! leave, and the report's table and histogram.
use std::path::Path;

use super::{Record, opts, tiny};
use corruptencoder_defense::{
    DecreeConfig, DefenseConfig, EmbeddingDetectorConfig, PatchSearchConfig,
};
use corruptencoder_experiment::*;
use corruptencoder_train::{ClipConfig, MethodConfig};

fn detector(kind: &str) -> DefenseConfig {
    let c = EmbeddingDetectorConfig { k: 4, flag_fraction: 0.1, ..Default::default() };
    match kind {
        "dao" => DefenseConfig::Dao(c),
        "decree" => DefenseConfig::Decree(DecreeConfig { epochs: 60, ..Default::default() }),
        "patch-search" => DefenseConfig::PatchSearch(PatchSearchConfig {
            clusters: Some(3),
            topk_poisons: 2,
            model_count: 1,
            max_iterations: 6,
            ..Default::default()
        }),
        _ => DefenseConfig::KDistance(c),
    }
}

/// An error with its causes, as the CLI prints it.
pub(crate) fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        text += &format!(": {e}");
        source = e.source();
    }
    text
}

fn arm(name: &str, attack: &ArmConfig, kind: &str) -> ArmConfig {
    ArmConfig { name: name.into(), attack: attack.attack.clone(), defense: Some(detector(kind)) }
}

#[test]
fn detector_arms_filter_with_the_undefended_arms_encoder_and_report_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("exp");
    let mut config = tiny();
    config.pretrain.monitor.every = 0;
    let (clean, ce) = (config.arms[0].clone(), config.arms[1].clone());
    config.arms.push(arm("ce-k-distance", &ce, "k-distance"));
    config.arms.push(arm("ce-dao", &ce, "dao"));
    config.arms.push(arm("clean-dao", &clean, "dao"));
    config.arms.push(arm("ce-decree", &ce, "decree"));
    config.arms.push(arm("ce-patch-search", &ce, "patch-search"));
    let results = run_experiment(&config, &opts(&out), &Record::default()).unwrap();
    let ce_run = results.runs.iter().find(|r| r.arm == "corruptencoder").unwrap();
    for (name, scored_by, poisons) in [
        ("ce-k-distance", "corruptencoder", ce_run.poisons),
        ("ce-dao", "corruptencoder", ce_run.poisons),
        ("clean-dao", "clean", 0),
    ] {
        let run = results.runs.iter().find(|r| r.arm == name).unwrap();
        let d = run.detection.as_ref().expect("a detector arm records its detection");
        let images = 24 + poisons;
        assert_eq!((d.images, d.poisons), (images, poisons), "{name}");
        assert_eq!(d.flagged, (0.1 * images as f64).round() as usize, "{name}");
        assert_eq!(d.encoder, format!("runs/{scored_by}/seed-0/pretrain/encoder.safetensors"));
        assert_eq!(d.auroc.is_some(), poisons > 0, "{name}");
        let dir = out.join(format!("runs/{name}/seed-0"));
        assert!(!dir.join("poisoned-pretrain").exists(), "{name} reused its sibling's encoder");
        let kept = std::fs::read_to_string(dir.join("detection/kept.txt")).unwrap();
        assert_eq!(kept.lines().count(), images - d.flagged, "{name}");
        for line in kept.lines() {
            let (path, _) = line.rsplit_once(' ').unwrap();
            assert!(Path::new(path).is_relative(), "{path}");
            assert!(dir.join("detection").join(path).is_file(), "{path} after the rename");
        }
        let csv = std::fs::read_to_string(dir.join("detection/scores.csv")).unwrap();
        assert_eq!(csv.lines().count(), images + 1);
        // `index,image,poison,score,flagged`: poisons flagged.
        let hits = csv.lines().skip(1).filter(|l| {
            let f: Vec<&str> = l.rsplitn(4, ',').collect();
            f[0] == "1" && f[2] == "1"
        });
        assert_eq!(hits.count(), d.flagged_poisons, "{name}");
    }
    // PatchSearch reads the same encoder and leaves its own files beside the scores; its
    // classifier decides how many are flagged.
    let run = results.runs.iter().find(|r| r.arm == "ce-patch-search").unwrap();
    let d = run.detection.as_ref().expect("PatchSearch records its detection");
    assert_eq!(d.encoder, "runs/corruptencoder/seed-0/pretrain/encoder.safetensors");
    let dir = out.join("runs/ce-patch-search/seed-0/detection");
    let kept = std::fs::read_to_string(dir.join("kept.txt")).unwrap();
    assert_eq!(kept.lines().count(), d.images - d.flagged);
    let own: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("patch-search/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(own["clusters"], 3);
    assert_eq!(own["flagged"].as_u64(), Some(d.flagged as u64));
    assert!(dir.join("patch-search/search.csv").is_file());
    // DECREE inspects the undefended arm's encoder: the same numbers, no training of its own.
    let inspected = results.runs.iter().find(|r| r.arm == "ce-decree").unwrap();
    let d = inspected.decree.as_ref().expect("a DECREE arm records its verdict");
    assert_eq!(d.encoder, "runs/corruptencoder/seed-0/pretrain/encoder.safetensors");
    assert!(d.steps > 0 && d.steps <= 60);
    assert_eq!((inspected.accuracy, inspected.asr), (ce_run.accuracy, ce_run.asr));
    let dir = out.join("runs/ce-decree/seed-0");
    assert!(!dir.join("pretrain").exists() && dir.join("decree/summary.json").is_file());
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("### Poison detection") && md.contains("| ce-dao seed 0 |"), "{md}");
    assert!(md.contains("### Encoder inspection (DECREE)") && md.contains("| ce-decree seed 0 |"));
    assert!(out.join("figures/detection-ce-dao.svg").is_file());
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("data:image/svg+xml;base64,"));
}

#[test]
fn a_detector_arm_alone_trains_its_own_poisoned_encoder() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("exp");
    let mut config = tiny();
    config.pretrain.monitor.every = 0;
    let ce = config.arms[1].clone();
    config.arms = vec![arm("ce-k-distance", &ce, "k-distance")];
    let results = run_experiment(&config, &opts(&out), &Record::default()).unwrap();
    let d = results.runs[1].detection.as_ref().unwrap();
    let own = "runs/ce-k-distance/seed-0/poisoned-pretrain/encoder.safetensors";
    assert_eq!(d.encoder, own);
    assert!(out.join(own).is_file());
}

#[test]
fn detector_settings_are_checked_before_anything_runs() {
    let mut config = tiny();
    let ce = config.arms[1].clone();
    let mut bad = arm("ce-dao", &ce, "dao");
    bad.defense = Some(DefenseConfig::Dao(EmbeddingDetectorConfig { k: 0, ..Default::default() }));
    config.arms.push(bad);
    let chain = chain(&config.validate().unwrap_err());
    assert!(chain.contains("arm `ce-dao`") && chain.contains("defense.k = 0"), "{chain}");
}

#[test]
fn a_defense_that_pre_training_cannot_take_is_refused_before_anything_runs() {
    let mut config = tiny_clip();
    let icutmix = DefenseConfig::named("i-cutmix").unwrap();
    config.arms =
        vec![ArmConfig { name: "clean-i-cutmix".into(), attack: None, defense: Some(icutmix) }];
    let chain = chain(&config.validate().unwrap_err());
    assert!(chain.contains("pretrain.method.name = clip"), "{chain}");
}

/// `tiny()` with a small CLIP as its pre-training.
pub(crate) fn tiny_clip() -> ExperimentConfig {
    let mut config = tiny();
    config.pretrain.monitor.every = 0;
    config.pretrain.method = MethodConfig::Clip(ClipConfig {
        embed_dim: 8,
        text_width: 8,
        text_layers: 1,
        text_heads: 2,
        ..Default::default()
    });
    config
}

#[test]
fn a_detector_filters_an_image_text_set_by_its_rows_and_keeps_the_captions() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("exp");
    let mut config = tiny_clip();
    let attack = ArmConfig {
        name: "clip-ce".into(),
        attack: Some(
            toml::from_str(
                "kind = \"clip-corruptencoder\"\ntrigger_size = 4\nimage_size = 16\nclass_name = \"c00-stripes\"",
            )
            .unwrap(),
        ),
        defense: None,
    };
    config.arms = vec![attack.clone(), arm("clip-ce-dao", &attack, "dao")];
    let results = run_experiment(&config, &opts(&out), &Record::default()).unwrap();
    let run = results.runs.iter().find(|r| r.arm == "clip-ce-dao").unwrap();
    let d = run.detection.as_ref().expect("the detector ran on the caption set");
    assert_eq!((d.images, d.poisons), (26, 2), "24 clean pairs, then the 2 poisons");
    assert_eq!(d.encoder, "runs/clip-ce/seed-0/pretrain/encoder.safetensors");
    let kept = out.join("runs/clip-ce-dao/seed-0/detection/kept.csv");
    let text = std::fs::read_to_string(&kept).unwrap();
    assert_eq!(text.lines().count(), 1 + 26 - d.flagged, "header and the kept pairs: {text}");
    assert!(run.zero_shot.is_some(), "the filtered set trained a CLIP model");
}

#[test]
fn decree_inspects_the_image_tower_of_an_image_text_encoder() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("exp");
    let mut config = tiny_clip();
    let clean = config.arms[0].clone();
    config.arms = vec![clean.clone(), arm("clean-decree", &clean, "decree")];
    config.validate().unwrap();
    let results = run_experiment(&config, &opts(&out), &Record::default()).unwrap();
    let run = results.runs.iter().find(|r| r.arm == "clean-decree").unwrap();
    let d = run.decree.as_ref().expect("DECREE ran on the image tower");
    assert_eq!(d.encoder, "runs/clean/seed-0/pretrain/encoder.safetensors");
    assert!(run.zero_shot.is_some(), "the inspected arm is scored as its encoder is");
}

#[test]
fn a_set_too_small_for_a_detectors_k_fails_before_any_run_trains() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("exp");
    let mut config = tiny();
    let ce = config.arms[1].clone();
    let mut big_k = arm("ce-dao", &ce, "dao");
    big_k.defense =
        Some(DefenseConfig::Dao(EmbeddingDetectorConfig { k: 30, ..Default::default() }));
    config.arms.push(big_k);
    let err = run_experiment(&config, &opts(&out), &Record::default()).unwrap_err();
    let text = chain(&err);
    assert!(text.contains("arm `ce-dao`") && text.contains("defense.k = 30"), "{text}");
    assert!(text.contains("the set has 26"), "24 clean images and 2 poisons: {text}");
    let staged = tmp.path().join(".exp.partial/runs");
    assert!(!staged.join("clean/seed-0/result.json").exists(), "nothing trained");
}
