//! Triggered downstream test sets from a labelled folder of real photos and from CIFAR.
use std::path::Path;

use corruptencoder_core::NoProgress;
use corruptencoder_data::*;
use corruptencoder_poison::*;
use image::imageops;

use crate::{backgrounds, kit_photo, trigger_path};

/// An image folder with two classes of 2 kit photos each.
fn downstream(dir: &Path) -> Box<dyn Dataset> {
    for (i, bg) in backgrounds(4).iter().enumerate() {
        let class = dir.join(["cat", "dog"][i / 2]);
        fs_err::create_dir_all(&class).unwrap();
        fs_err::copy(bg, class.join(bg.file_name().unwrap())).unwrap();
    }
    open_dataset(dir, None).unwrap()
}

fn opts(out: &Path) -> TestSetOptions {
    TestSetOptions {
        out: out.to_path_buf(),
        force: false,
        seed: 11,
        config_toml: "x = 1\n".into(),
        limits: ImageLimits::default(),
    }
}

#[test]
fn patch_test_set_matches_the_authors_geometry() {
    let dir = tempfile::tempdir().unwrap();
    let ds = downstream(&dir.path().join("test"));
    let limits = ImageLimits::default();
    let patch = TriggerSource::File(trigger_path()).load(40, &limits).unwrap();
    let config = TestSetConfig { format: TestImageFormat::Png, ..TestSetConfig::default() };
    let out = dir.path().join("triggered");
    let trigger = TestTrigger::Patch(patch.clone());
    let summary = write_test_set(ds.as_ref(), &config, &trigger, &opts(&out), &NoProgress).unwrap();
    assert_eq!(summary.records.len(), 4);
    for (i, r) in summary.records.iter().enumerate() {
        let [x, y, w, h] = r.trigger_box.unwrap();
        assert!((56..=128).contains(&x) && (56..=128).contains(&y), "{x},{y}");
        assert_eq!((w, h), (40, 40));
        assert_eq!(r.label, ds.label(i));
        let img = load_rgb(&out.join(&r.file), &limits).unwrap();
        assert_eq!(img.dimensions(), (224, 224));
        // PNG is lossless: the patch is there exactly, and the rest is the clean crop.
        assert_eq!(imageops::crop_imm(&img, x, y, 40, 40).to_image(), patch);
        let clean = resize_center_crop(&ds.load(i, &limits).unwrap(), 256, 224, "t").unwrap();
        assert_eq!(img.get_pixel(0, 0), clean.get_pixel(0, 0));
    }
    // The file list reads back as a dataset with the same labels.
    let back = open_dataset(&out.join("filelist.txt"), None).unwrap();
    assert_eq!((0..4).map(|i| back.label(i)).collect::<Vec<_>>(), [0, 0, 1, 1]);
    assert_eq!(fs_err::read_to_string(out.join("classes.txt")).unwrap(), "cat\ndog\n");
    let manifest = fs_err::read_to_string(out.join("manifest.jsonl")).unwrap();
    let first: TestRecord = serde_json::from_str(manifest.lines().next().unwrap()).unwrap();
    assert_eq!(first, summary.records[0]);
    // Same seed, same positions; existing output refused without force.
    let err = write_test_set(ds.as_ref(), &config, &trigger, &opts(&out), &NoProgress).unwrap_err();
    assert!(err.to_string().contains("`force`"), "{err}");
    let again = write_test_set(
        ds.as_ref(),
        &config,
        &trigger,
        &TestSetOptions { force: true, ..opts(&out) },
        &NoProgress,
    )
    .unwrap();
    assert_eq!(again.records, summary.records);
}

#[test]
fn cifar_sized_jpeg_and_ctrl_test_sets() {
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<CifarRecord> = (0..4)
        .map(|i| CifarRecord { image: kit_photo(i, 32, 32), label: i as u8, coarse_label: 0 })
        .collect();
    let bin = dir.path().join("test_batch.bin");
    write_cifar(&bin, false, &records).unwrap();
    let ds = open_dataset(&bin, None).unwrap();
    let small =
        TestSetConfig { resize: None, crop: 32, trigger_size: 8, ..TestSetConfig::default() };
    let patch = TriggerSource::White.load(8, &ImageLimits::default()).unwrap();
    let out = dir.path().join("jpeg");
    let s =
        write_test_set(ds.as_ref(), &small, &TestTrigger::Patch(patch), &opts(&out), &NoProgress)
            .unwrap();
    for r in &s.records {
        let [x, y, ..] = r.trigger_box.unwrap();
        // int(0.25 * 32) = 8 .. int(0.75 * 32) - 8 = 16.
        assert!((8..=16).contains(&x) && (8..=16).contains(&y));
        assert!(r.file.ends_with(".jpg") && r.source.contains("test_batch.bin#"));
    }
    let ctrl = TestTrigger::Frequency(CtrlConfig::default().trigger().unwrap());
    let s = write_test_set(
        ds.as_ref(),
        &TestSetConfig { format: TestImageFormat::Png, ..small.clone() },
        &ctrl,
        &opts(&dir.path().join("ctrl")),
        &NoProgress,
    )
    .unwrap();
    for (i, r) in s.records.iter().enumerate() {
        assert!(r.trigger_box.is_none());
        let img =
            load_rgb(&dir.path().join("ctrl").join(&r.file), &ImageLimits::default()).unwrap();
        assert_eq!(img, CtrlConfig::default().trigger().unwrap().apply(&records[i].image));
    }
    // 32 px images cannot give a 224 crop without resizing: a clear error, no output.
    let big = TestSetConfig { resize: None, ..TestSetConfig::default() };
    let bad_out = dir.path().join("bad");
    let patch = TriggerSource::White.load(40, &ImageLimits::default()).unwrap();
    let err =
        write_test_set(ds.as_ref(), &big, &TestTrigger::Patch(patch), &opts(&bad_out), &NoProgress)
            .unwrap_err()
            .to_string();
    assert!(err.contains("test_batch.bin#") && err.contains("224x224"), "{err}");
    assert!(!bad_out.exists());
}
