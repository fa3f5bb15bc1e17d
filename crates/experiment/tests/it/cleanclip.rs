//! CleanCLIP as an experiment arm: the undefended arm's model fine-tuned on the clean
//! pairs, scored before and after, and the refusals made before anything trains.
use super::detection::{chain, tiny_clip};
use super::{Record, opts, tiny};
use corruptencoder_defense::DefenseConfig;
use corruptencoder_experiment::*;
use corruptencoder_train::CleanClipConfig;

fn cleanclip(batch_size: usize) -> DefenseConfig {
    let settings =
        CleanClipConfig { epochs: 1, batch_size, lr: 1e-3, warmup_steps: 1, ..Default::default() };
    DefenseConfig::Cleanclip(settings)
}

fn clip_attack() -> ArmConfig {
    let attack = "kind = \"clip-corruptencoder\"\ntrigger_size = 4\nimage_size = 16\nclass_name = \"c00-stripes\"";
    ArmConfig {
        name: "clip-ce".into(),
        attack: Some(toml::from_str(attack).unwrap()),
        defense: None,
    }
}

#[test]
fn a_cleanclip_arm_fine_tunes_the_undefended_arms_model_and_scores_both() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("exp");
    let mut config = tiny_clip();
    let attack = clip_attack();
    let defended = ArmConfig {
        name: "clip-ce-cleanclip".into(),
        defense: Some(cleanclip(8)),
        ..attack.clone()
    };
    config.arms = vec![attack, defended];
    let results = run_experiment(&config, &opts(&out), &Record::default()).unwrap();
    let find = |arm: &str| results.runs.iter().find(|r| r.arm == arm).unwrap();
    let (poisoned, run) = (find("clip-ce"), find("clip-ce-cleanclip"));
    let c = run.cleanclip.as_ref().expect("a CleanCLIP arm records its fine-tuning");
    assert_eq!(c.source, "runs/clip-ce/seed-0/pretrain");
    assert_eq!((c.pairs, c.steps), (24, 3), "the 24 clean pairs, batch 8, one epoch");
    assert_eq!(Some(c.before), poisoned.zero_shot, "before: the undefended model's scores");
    assert_eq!(Some(c.after), run.zero_shot, "after: the arm's own, the fine-tuned model's");
    assert_eq!(run.defense.as_deref(), Some("cleanclip"));
    let dir = out.join("runs/clip-ce-cleanclip/seed-0");
    assert!(!dir.join("pretrain").exists(), "the undefended arm's model was reused");
    for f in ["clip.safetensors", "encoder.safetensors", "pairs.csv", "cleanclip.toml", "log.jsonl"]
    {
        assert!(dir.join("cleanclip").join(f).is_file(), "{f}");
    }
    let record = std::fs::read_to_string(dir.join("cleanclip/cleanclip.toml")).unwrap();
    assert!(record.contains("seed = 0") && record.contains("batch_size = 8"), "{record}");
    assert_eq!(run.epoch_loss.len(), 1, "the fine-tuning's log");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("### CleanCLIP fine-tuning") && md.contains("| clip-ce-cleanclip seed 0 |"),
        "{md}"
    );
    // CLIP's pre-training is stated with the optimiser it runs, AdamW.
    assert!(md.contains("| pre-training | 1 epochs, batch 8, AdamW lr "), "{md}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("CleanCLIP fine-tuning"));
}

#[test]
fn cleanclip_is_refused_for_image_only_methods_and_for_a_batch_above_the_pairs() {
    let mut config = tiny();
    let ce = config.arms[1].clone();
    config.arms.push(ArmConfig { name: "ce-cleanclip".into(), defense: Some(cleanclip(8)), ..ce });
    let err = chain(&config.validate().unwrap_err());
    assert!(
        err.contains("arm `ce-cleanclip`") && err.contains("pretrain.method.name = simclr"),
        "{err}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("exp");
    let mut config = tiny_clip();
    config.arms = vec![ArmConfig {
        name: "clip-ce-cleanclip".into(),
        defense: Some(cleanclip(64)),
        ..clip_attack()
    }];
    config.validate().unwrap();
    let err = chain(&run_experiment(&config, &opts(&out), &Record::default()).unwrap_err());
    assert!(err.contains("defense.batch_size = 64") && err.contains("24 clean pairs"), "{err}");
    let staged = corruptencoder_core::OutputDir::partial_path(&out);
    assert!(!staged.join("runs/clip-ce-cleanclip").exists(), "nothing trained");
}
