use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use corruptencoder_core::NoProgress;
use corruptencoder_data::{ImageLimits, Reference, list_images, load_references, load_rgb};
use corruptencoder_poison::{
    Attack, CorruptEncoder, CorruptEncoderConfig, Error, Layout, Layouts, ManifestRecord,
    OutputOptions, PoisonKind, PoisonSummary, TriggerPlacement, TriggerSource, write_poison_set,
};
use image::RgbImage;
use image::imageops;

use crate::kit;

const LIMITS: ImageLimits = ImageLimits { max_pixels: 100_000_000, allow_truncated: false };

fn trigger() -> RgbImage {
    TriggerSource::File(kit().join("triggers/trigger_10.png")).load(40, &LIMITS).unwrap()
}

fn backgrounds(n: usize) -> Vec<PathBuf> {
    list_images(&kit().join("backgrounds")).unwrap().into_iter().take(n).collect()
}

fn supports() -> Vec<(String, RgbImage)> {
    list_images(&kit().join("references/hunting-dog/support-images"))
        .unwrap()
        .iter()
        .map(|p| {
            (p.file_name().unwrap().to_string_lossy().into_owned(), load_rgb(p, &LIMITS).unwrap())
        })
        .collect()
}

/// The hunting-dog references, loaded once for all tests.
fn refs() -> &'static [Reference] {
    static REFS: OnceLock<Vec<Reference>> = OnceLock::new();
    REFS.get_or_init(|| {
        load_references(&kit().join("references/hunting-dog"), &LIMITS).unwrap().references
    })
}

fn generate(
    config: CorruptEncoderConfig,
    out: &Path,
    threads: usize,
) -> Result<PoisonSummary, Error> {
    let attack =
        CorruptEncoder::new(config, refs(), backgrounds(16), supports(), trigger(), LIMITS)?;
    let opts = OutputOptions {
        out: out.to_path_buf(),
        force: false,
        seed: 7,
        clean_list: None,
        config_toml: String::new(),
        preview_count: 4,
        list_root: None,
    };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| write_poison_set(&attack, &opts, &NoProgress))
}

/// The resized object of the reference a record names, and its nearest-resized mask.
fn expected_object(name: &str, w: u32, h: u32) -> (RgbImage, image::GrayImage) {
    let r = refs().iter().find(|r| r.name == name).unwrap();
    let b = r.object_box;
    let img = imageops::crop_imm(&r.image, b.x, b.y, b.w, b.h).to_image();
    let mask = imageops::crop_imm(&r.mask.0, b.x, b.y, b.w, b.h).to_image();
    (
        corruptencoder_data::resize_rgb(&img, w, h, corruptencoder_data::Filter::Bicubic),
        corruptencoder_data::resize_gray(&mask, w, h, corruptencoder_data::Filter::Nearest),
    )
}

fn check_geometry(rec: &ManifestRecord, img: &RgbImage, trig: &RgbImage) {
    let [p_w, p_h] = rec.size;
    assert_eq!(img.dimensions(), (p_w, p_h));
    let [o_x, o_y, o_w, o_h] = rec.object_box.unwrap();
    let [t_x, t_y, t_w, t_h] = rec.trigger_box.unwrap();
    let layout = rec.layout.unwrap();
    let (pu, pv, ou, ov, opos, tu, tpos, tv) = if layout.is_horizontal() {
        (p_w, p_h, o_w, o_h, o_x, t_w, t_x, t_y)
    } else {
        (p_h, p_w, o_h, o_w, o_y, t_h, t_y, t_x)
    };
    // p_h == o_h and p_w == int(2 o_w) (roles swapped for vertical layouts).
    assert_eq!(pv, ov, "{rec:?}");
    assert_eq!(pu, (2.0 * f64::from(ou)) as u32, "{rec:?}");
    let band = 0.05 * f64::from(pu);
    let dx = 0.125 * f64::from(pu);
    let dy = 0.25 * f64::from(pv);
    let (tu0, tu1) = (f64::from(tpos), f64::from(tpos + tu));
    match layout {
        Layout::Left | Layout::Top => {
            assert!(f64::from(opos) <= band, "{rec:?}");
            assert!(tu0 >= f64::from(opos + ou) + dx - 1.0, "{rec:?}");
            assert!(tu1 <= f64::from(pu) - dx + 1.0, "{rec:?}");
        }
        Layout::Right | Layout::Bottom => {
            assert!(f64::from(opos) >= f64::from(pu - ou) - band - 1.0, "{rec:?}");
            assert!(tu0 >= dx - 1.0, "{rec:?}");
            assert!(tu1 <= f64::from(opos) - dx + 1.0, "{rec:?}");
        }
    }
    assert!(f64::from(tv) >= dy - 1.0 && f64::from(tv + t_w.min(t_h)) <= f64::from(pv) - dy + 1.0);
    // Trigger pixels are exactly the resized trigger.
    assert_eq!(&imageops::crop_imm(img, t_x, t_y, t_w, t_h).to_image(), trig, "{rec:?}");
    // Object pixels come from the reference where the blurred mask is 255, i.e. inside
    // the mask away from its edge (3 px in from any non-object pixel).
    let (obj, mask) = expected_object(rec.reference.as_deref().unwrap(), o_w, o_h);
    let inside = |x: u32, y: u32| {
        (x.saturating_sub(3)..=(x + 3).min(o_w - 1)).all(|xx| {
            (y.saturating_sub(3)..=(y + 3).min(o_h - 1)).all(|yy| mask.get_pixel(xx, yy).0[0] > 0)
        })
    };
    let mut checked = 0;
    for y in (0..o_h).step_by(7) {
        for x in (0..o_w).step_by(7) {
            if inside(x, y) && x >= 3 && y >= 3 && x + 3 < o_w && y + 3 < o_h {
                assert_eq!(
                    img.get_pixel(o_x + x, o_y + y),
                    obj.get_pixel(x, y),
                    "{rec:?} at {x},{y}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "{checked}");
}

#[test]
fn kit_poisons_follow_the_spec_geometry() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p");
    let cfg = CorruptEncoderConfig { num_poisons: 12, ..Default::default() };
    let s = generate(cfg, &out, 2).unwrap();
    assert_eq!(s.records.len(), 12);
    let trig = trigger();
    let mut sides = [0; 2];
    for rec in &s.records {
        assert_eq!(rec.kind, PoisonKind::new("corruptencoder"));
        let img = load_rgb(&out.join(&rec.file), &LIMITS).unwrap();
        check_geometry(rec, &img, &trig);
        sides[usize::from(rec.layout == Some(Layout::Right))] += 1;
        // Backgrounds are used in sorted order, one each.
        assert_eq!(
            rec.background.as_deref(),
            backgrounds(16)[rec.index].file_name().unwrap().to_str()
        );
    }
    assert!(sides[0] > 0 && sides[1] > 0, "{sides:?}");
    for f in ["manifest.jsonl", "filelist.txt", "config.toml", "preview.png"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let list = fs_err::read_to_string(out.join("filelist.txt")).unwrap();
    assert_eq!(list.lines().count(), 12);
    assert!(
        list.lines().all(|l| l.ends_with(" -1") && Path::new(l.trim_end_matches(" -1")).is_file())
    );
}

#[test]
fn vertical_layouts_swap_width_and_height() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p");
    let cfg = CorruptEncoderConfig { num_poisons: 16, layouts: Layouts::All, ..Default::default() };
    let s = generate(cfg, &out, 2).unwrap();
    let trig = trigger();
    let vertical = s.records.iter().filter(|r| !r.layout.unwrap().is_horizontal()).count();
    assert!(vertical > 0 && vertical < 16, "{vertical}");
    for rec in &s.records {
        check_geometry(rec, &load_rgb(&out.join(&rec.file), &LIMITS).unwrap(), &trig);
    }
}

#[test]
fn against_object_placement_puts_the_trigger_beside_the_object() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p");
    let cfg = CorruptEncoderConfig {
        num_poisons: 12,
        layouts: Layouts::All,
        trigger_placement: TriggerPlacement::AgainstObject,
        ..Default::default()
    };
    let s = generate(cfg, &out, 2).unwrap();
    let trig = trigger();
    for rec in &s.records {
        let img = load_rgb(&out.join(&rec.file), &LIMITS).unwrap();
        let [p_w, p_h] = rec.size;
        let [o_x, o_y, o_w, o_h] = rec.object_box.unwrap();
        let [t_x, t_y, t_w, t_h] = rec.trigger_box.unwrap();
        // The trigger's near edge is the object box's far edge; across, it is centred.
        match rec.layout.unwrap() {
            Layout::Left => assert_eq!((t_x, t_y), (o_x + o_w, (p_h - t_h) / 2), "{rec:?}"),
            Layout::Right => assert_eq!((t_x + t_w, t_y), (o_x, (p_h - t_h) / 2), "{rec:?}"),
            Layout::Top => assert_eq!((t_y, t_x), (o_y + o_h, (p_w - t_w) / 2), "{rec:?}"),
            Layout::Bottom => assert_eq!((t_y + t_h, t_x), (o_y, (p_w - t_w) / 2), "{rec:?}"),
        }
        assert_eq!(&imageops::crop_imm(&img, t_x, t_y, t_w, t_h).to_image(), &trig, "{rec:?}");
    }
}

#[test]
fn support_images_make_corruptencoder_plus() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p");
    let cfg = CorruptEncoderConfig { num_poisons: 10, support_ratio: 0.2, ..Default::default() };
    let s = generate(cfg, &out, 2).unwrap();
    let kinds: Vec<_> = s.records.iter().map(|r| r.kind.clone()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == PoisonKind::new("support")).count(), 2);
    // Support images are the last ones, and no CorruptEncoder image lost its background.
    assert_eq!(kinds[8..], [PoisonKind::new("support"), PoisonKind::new("support")]);
    for rec in &s.records[8..] {
        let [w, h] = rec.size;
        let [x, _, n_w, n_h] = rec.object_box.unwrap();
        assert_eq!((w, h), (2 * n_w, n_h));
        assert!(n_w <= 400 && (x == 0 || x == n_w));
        assert!(rec.trigger_box.is_none());
    }
}

#[test]
fn same_seed_same_bytes_whatever_the_threads() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = CorruptEncoderConfig { num_poisons: 8, support_ratio: 0.25, ..Default::default() };
    generate(cfg.clone(), &dir.path().join("a"), 1).unwrap();
    generate(cfg, &dir.path().join("b"), 2).unwrap();
    let read = |d: &str, f: &str| fs_err::read(dir.path().join(d).join(f)).unwrap();
    assert_eq!(read("a", "manifest.jsonl"), read("b", "manifest.jsonl"));
    for i in 0..8 {
        let f = format!("poison_{i:05}.png");
        assert_eq!(read("a", &f), read("b", &f), "{f}");
    }
}

#[test]
fn bad_inputs_fail_cleanly_without_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p");
    // A trigger larger than the free part: refused before any poison is made.
    let refs = refs();
    let big = TriggerSource::White.load(390, &LIMITS).unwrap();
    let cfg = CorruptEncoderConfig { num_poisons: 4, ..Default::default() };
    let err =
        CorruptEncoder::new(cfg.clone(), refs, backgrounds(4), vec![], big, LIMITS).unwrap_err();
    assert!(matches!(&err, Error::Setting(s) if s.key == "trigger_size"), "{err}");
    assert!(err.to_string().contains("390x390"), "{err}");
    let opts = OutputOptions {
        out: out.clone(),
        force: false,
        seed: 0,
        clean_list: None,
        config_toml: String::new(),
        preview_count: 0,
        list_root: None,
    };

    // A corrupt background names its file.
    let bgs = tempfile::tempdir().unwrap();
    fs_err::write(bgs.path().join("broken.jpg"), b"\xff\xd8\xff garbage").unwrap();
    let attack = CorruptEncoder::new(
        cfg.clone(),
        refs,
        list_images(bgs.path()).unwrap(),
        vec![],
        trigger(),
        LIMITS,
    )
    .unwrap();
    let err = write_poison_set(&attack, &opts, &NoProgress).unwrap_err();
    assert!(err.to_string().contains("broken.jpg"), "{err}");
    assert!(!out.exists());

    // Zero backgrounds, and support images asked for without any.
    assert!(CorruptEncoder::new(cfg.clone(), refs, vec![], vec![], trigger(), LIMITS).is_err());
    let plus = CorruptEncoderConfig { support_ratio: 0.5, ..cfg.clone() };
    assert!(CorruptEncoder::new(plus, refs, backgrounds(2), vec![], trigger(), LIMITS).is_err());

    // An existing output folder is refused before any work.
    fs_err::create_dir(&out).unwrap();
    let attack = CorruptEncoder::new(cfg, refs, backgrounds(4), vec![], trigger(), LIMITS).unwrap();
    let err = write_poison_set(&attack, &opts, &NoProgress).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
}

#[test]
fn optimal_area_ratio_comes_from_the_layout_theory() {
    use corruptencoder_poison::AreaRatio;
    let ratio: AreaRatio = "optimal".parse().unwrap();
    assert!(matches!(ratio, AreaRatio::Optimal { .. }));
    assert_eq!("2.5".parse::<AreaRatio>().unwrap(), AreaRatio::Fixed(2.5));
    assert!("twice".parse::<AreaRatio>().is_err());
    let cfg = CorruptEncoderConfig { num_poisons: 3, area_ratio: ratio, ..Default::default() };
    let text = toml::to_string(&cfg).unwrap();
    assert!(text.contains("area_ratio = \"optimal\""), "{text}");
    // The count is the budget's, not a setting in files (`#[serde(skip)]`).
    assert!(!text.contains("num_poisons"), "{text}");
    let back = toml::from_str::<CorruptEncoderConfig>(&text).unwrap();
    assert_eq!(CorruptEncoderConfig { num_poisons: 3, ..back }, cfg);

    let one = &refs()[..1];
    let attack = CorruptEncoder::new(cfg, one, backgrounds(3), vec![], trigger(), LIMITS).unwrap();
    let (_, r, _) = attack.area_ratios()[0].clone();
    // Under RandomResizedCrop the theory prefers a background narrower than the paper's 2x.
    assert!((1.2..2.0).contains(&r), "{r}");
    for i in 0..3 {
        let p = attack.poison(i, &mut corruptencoder_core::item_rng(0, 1, i as u64)).unwrap();
        let o_w = p.object_box.unwrap().w;
        assert_eq!(p.image.width(), (r * f64::from(o_w)) as u32);
    }
}
