//! SSL-Backdoor and PoisonedEncoder geometry on the kit's photos.
use corruptencoder_core::{NoProgress, item_rng};
use corruptencoder_data::{ImageLimits, load_rgb};
use corruptencoder_poison::*;
use image::imageops;

use crate::{backgrounds, hunting_dog_photos, trigger_path};

fn ssl(n: usize) -> SslBackdoor {
    let limits = ImageLimits::default();
    let targets =
        TargetImages::from_files(hunting_dog_photos(), "hunting-dog").choose(n, 1).unwrap();
    let trigger = TriggerSource::File(trigger_path()).load_width(50, &limits).unwrap();
    assert_eq!(trigger.dimensions(), (50, 50));
    SslBackdoor::new(SslBackdoorConfig::default(), targets, trigger, limits).unwrap()
}

#[test]
fn ssl_backdoor_pastes_the_trigger_inside_the_central_band() {
    let attack = ssl(8);
    let limits = ImageLimits::default();
    let trigger = TriggerSource::File(trigger_path()).load_width(50, &limits).unwrap();
    for i in 0..attack.len() {
        let item = attack.poison(i, &mut item_rng(3, 1, i as u64)).unwrap();
        let (w, h) = item.image.dimensions();
        let b = item.trigger_box.unwrap();
        assert_eq!((b.w, b.h), (50, 50));
        let lo = |len: u32| (0.25 * f64::from(len)) as u32;
        let hi = |len: u32, t: u32| (0.75 * f64::from(len)) as u32 - t;
        assert!((lo(w)..=hi(w, 50)).contains(&b.x), "x {} not in band of {w}", b.x);
        assert!((lo(h)..=hi(h, 50)).contains(&b.y), "y {} not in band of {h}", b.y);
        let original = hunting_dog_photos()
            .into_iter()
            .find(|p| p.file_name().unwrap().to_string_lossy() == *item.reference.as_ref().unwrap())
            .map(|p| load_rgb(&p, &limits).unwrap())
            .unwrap();
        for (x, y, p) in item.image.enumerate_pixels() {
            let inside = (b.x..b.x + 50).contains(&x) && (b.y..b.y + 50).contains(&y);
            let want =
                if inside { trigger.get_pixel(x - b.x, y - b.y) } else { original.get_pixel(x, y) };
            assert_eq!(p, want, "({x},{y}) inside={inside}");
        }
    }
}

#[test]
fn a_failing_poison_leaves_no_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.jpg");
    fs_err::write(&bad, b"not a jpeg").unwrap();
    let mut files = hunting_dog_photos();
    files.push(bad);
    let limits = ImageLimits::default();
    let targets = TargetImages::from_files(files, "mixed").choose(9, 0).unwrap();
    let trigger = TriggerSource::White.load_width(50, &limits).unwrap();
    let attack = SslBackdoor::new(SslBackdoorConfig::default(), targets, trigger, limits).unwrap();
    let out = dir.path().join("out");
    let opts = OutputOptions {
        out: out.clone(),
        force: false,
        seed: 0,
        clean_list: None,
        config_toml: String::new(),
        preview_count: 2,
        list_root: None,
    };
    let err = write_poison_set(&attack, &opts, &NoProgress).unwrap_err().to_string();
    assert!(err.contains("broken.jpg"), "{err}");
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "staging folder left behind");
    // The same run without the broken file succeeds and records every trigger box.
    let summary = write_poison_set(&ssl(3), &opts, &NoProgress).unwrap();
    assert_eq!(summary.records.len(), 3);
    assert!(
        summary
            .records
            .iter()
            .all(|r| r.kind == PoisonKind::new("ssl-backdoor") && r.trigger_box.is_some())
    );
    assert!(out.join("poison_00002.png").is_file() && out.join("filelist.txt").is_file());
}

#[test]
fn poisoned_encoder_puts_reference_and_triggered_image_side_by_side() {
    let limits = ImageLimits::default();
    let photo = hunting_dog_photos().remove(0);
    let reference = load_rgb(&photo, &limits).unwrap();
    let targets = TargetImages::from_files(vec![photo], "one photo");
    let trigger = TriggerSource::File(trigger_path()).load(40, &limits).unwrap();
    let config = PoisonedEncoderConfig { num_poisons: 6, ..PoisonedEncoderConfig::default() };
    let attack =
        PoisonedEncoder::new(config, targets, backgrounds(3), trigger.clone(), limits).unwrap();
    let n_w = reference.width().min(400);
    let n_h =
        (f64::from(n_w) / f64::from(reference.width()) * f64::from(reference.height())) as u32;
    let expected =
        corruptencoder_data::resize_rgb(&reference, n_w, n_h, corruptencoder_data::Filter::Bicubic);
    let mut sides = [false; 2];
    for i in 0..6 {
        let item = attack.poison(i, &mut item_rng(5, 1, i as u64)).unwrap();
        assert_eq!(item.image.dimensions(), (2 * n_w, n_h));
        let o = item.object_box.unwrap();
        assert_eq!((o.y, o.w, o.h), (0, n_w, n_h));
        sides[(o.x / n_w) as usize] = true;
        let half = imageops::crop_imm(&item.image, o.x, 0, n_w, n_h).to_image();
        assert_eq!(half, expected, "reference half of poison {i}");
        let t = item.trigger_box.unwrap();
        let trig_x0 = n_w - o.x;
        assert!(t.x >= trig_x0 && t.x + t.w <= trig_x0 + n_w, "trigger leaves its half");
        let lo = trig_x0 + (0.25 * f64::from(n_w)) as u32;
        assert!(t.x >= lo && t.y >= (0.25 * f64::from(n_h)) as u32, "trigger outside the band");
        let patch = imageops::crop_imm(&item.image, t.x, t.y, 40, 40).to_image();
        assert_eq!(patch, trigger);
        assert_eq!(item.background.as_deref(), backgrounds(3)[i % 3].file_name().unwrap().to_str());
    }
    assert_eq!(sides, [true, true], "both orders occur");
}
