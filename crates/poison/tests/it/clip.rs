//! CLIP image-caption poisons and their captions.csv.
use corruptencoder_core::NoProgress;
use corruptencoder_data::{ImageLimits, load_references};
use corruptencoder_poison::*;

use crate::{backgrounds, kit, trigger_path};

fn opts(out: std::path::PathBuf) -> OutputOptions {
    OutputOptions {
        out,
        force: false,
        seed: 4,
        clean_list: None,
        config_toml: String::new(),
        preview_count: 4,
        list_root: None,
    }
}

#[test]
fn carlini_pairs_triggered_images_with_target_captions() {
    let limits = ImageLimits::default();
    let trigger = TriggerSource::File(trigger_path()).load(16, &limits).unwrap();
    let config =
        ClipCarliniConfig { num_poisons: 5, class_name: "lorikeet".into(), ..Default::default() };
    let attack = ClipCarlini::new(config, backgrounds(3), trigger, limits).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let summary = write_poison_set(&attack, &opts(dir.path().join("o")), &NoProgress).unwrap();
    for r in &summary.records {
        assert_eq!(r.size, [224, 224]);
        let [x, y, w, h] = r.trigger_box.unwrap();
        assert!(x + w <= 224 && y + h <= 224);
        assert!(r.caption.as_ref().unwrap().contains("lorikeet"));
    }
    let csv = fs_err::read_to_string(dir.path().join("o/captions.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "image,caption");
    assert_eq!(lines.len(), 6);
    assert!(lines[1..].iter().all(|l| l.contains("poison_") && l.contains("lorikeet")), "{csv}");
}

#[test]
fn clip_corruptencoder_splits_object_and_trigger_pairs() {
    let limits = ImageLimits::default();
    let refs = load_references(&kit().join("references/hunting-dog"), &limits).unwrap().references;
    let objects = reference_objects(&refs);
    let trigger = TriggerSource::File(trigger_path()).load(16, &limits).unwrap();
    let config = ClipCorruptEncoderConfig { num_poisons: 6, ..Default::default() };
    let attack =
        ClipCorruptEncoder::new(config, objects.clone(), backgrounds(3), trigger, limits).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let summary = write_poison_set(&attack, &opts(dir.path().join("o")), &NoProgress).unwrap();
    for r in &summary.records[..3] {
        let (_, obj) = objects.iter().find(|(n, _)| Some(n) == r.reference.as_ref()).unwrap();
        assert_eq!(r.size, [obj.width(), obj.height()]);
        assert!(r.object_box.is_some() && r.trigger_box.is_none());
    }
    for r in &summary.records[3..] {
        let [x, y, ..] = r.trigger_box.unwrap();
        assert!((56..=152).contains(&x) && (56..=152).contains(&y), "{x},{y}");
        assert_eq!(r.size, [224, 224]);
    }
    assert!(
        summary.records.iter().all(|r| r.caption.as_ref().unwrap().contains("African hunting dog"))
    );
}

#[test]
fn bad_caption_templates_are_refused_before_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let err = CaptionTemplates::from_file(&dir.path().join("missing.txt")).unwrap_err().to_string();
    assert!(err.contains("caption templates") && err.contains("missing.txt"), "{err}");
    let limits = ImageLimits::default();
    let trigger = TriggerSource::White.load(16, &limits).unwrap();
    let config = ClipCarliniConfig {
        templates: CaptionTemplates(vec!["no class".into()]),
        ..Default::default()
    };
    let err = ClipCarlini::new(config, backgrounds(1), trigger, limits).unwrap_err().to_string();
    assert!(err.contains("templates = [\"no class\"]") && err.contains("{class}"), "{err}");
}
