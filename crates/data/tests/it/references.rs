use corruptencoder_data::{Error, ImageLimits, MaskSource, load_references, png_bytes};
use image::{Rgb, RgbImage, Rgba, RgbaImage};

use crate::kit;

#[test]
fn kit_references_use_the_authors_layout() {
    let lim = ImageLimits::default();
    for class in ["hunting-dog", "komondor", "lorikeet", "rottweiler"] {
        let set = load_references(&kit().join("references").join(class), &lim).unwrap();
        // `1/`, `1.json`, `1.JPEG` describe one reference: three, not nine.
        assert_eq!(set.references.len(), 3, "{class}");
        assert!(set.warnings.is_empty());
        for r in &set.references {
            assert_eq!(r.source, MaskSource::AuthorsLabel);
            let (w, h) = r.image.dimensions();
            let b = r.object_box;
            assert!(b.x + b.w <= w && b.y + b.h <= h);
            // Objects are big in these photos, and never the whole frame.
            let frac = r.mask.count() as f64 / f64::from(w * h);
            assert!((0.05..0.95).contains(&frac), "{class}/{}: {frac}", r.name);
        }
    }
}

#[test]
fn labelme_polygons_agree_with_authors_label_png() {
    // Copy only the JSON + JPEG of hunting-dog 2 (it has an nmask hole) so labelme is used.
    let dir = tempfile::tempdir().unwrap();
    let src = kit().join("references/hunting-dog");
    for f in ["2.json", "2.JPEG"] {
        fs_err::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    let lim = ImageLimits::default();
    let from_json = load_references(dir.path(), &lim).unwrap().references.remove(0);
    assert_eq!(from_json.source, MaskSource::Labelme);
    let authors = load_references(&src, &lim).unwrap();
    let from_png = authors.references.iter().find(|r| r.name == "2").unwrap();
    assert_eq!(from_json.mask.dimensions(), from_png.mask.dimensions());
    let differ =
        from_json.mask.0.pixels().zip(from_png.mask.0.pixels()).filter(|(a, b)| a.0 != b.0).count()
            as f64;
    // Rasterisers differ only along polygon edges.
    assert!(differ / (from_png.mask.count() as f64) < 0.02, "{differ}");
    let (a, b) = (from_json.object_box, from_png.object_box);
    assert!(a.x.abs_diff(b.x) <= 2 && a.w.abs_diff(b.w) <= 3, "{a:?} {b:?}");
}

#[test]
fn mask_image_alpha_and_plain_sources() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // image + .mask image
    RgbImage::from_pixel(20, 10, Rgb([200, 10, 10])).save(d.join("a.png")).unwrap();
    let mut m = RgbImage::new(20, 10);
    for x in 5..9 {
        for y in 2..7 {
            m.put_pixel(x, y, Rgb([1, 0, 0]));
        }
    }
    m.save(d.join("a.mask.png")).unwrap();
    // RGBA with an opaque square
    let mut rgba = RgbaImage::from_pixel(16, 16, Rgba([0, 0, 255, 0]));
    for x in 3..7 {
        for y in 4..12 {
            rgba.put_pixel(x, y, Rgba([0, 0, 255, 255]));
        }
    }
    rgba.save(d.join("b.png")).unwrap();
    // plain JPEG-like image without mask
    fs_err::write(d.join("c.png"), png_bytes(&RgbImage::new(8, 8))).unwrap();
    let set = load_references(d, &ImageLimits::default()).unwrap();
    let got: Vec<_> = set
        .references
        .iter()
        .map(|r| (r.name.as_str(), r.source, r.object_box.to_array()))
        .collect();
    assert_eq!(
        got,
        [
            ("a", MaskSource::MaskImage, [5, 2, 4, 5]),
            ("b", MaskSource::Alpha, [3, 4, 4, 8]),
            ("c", MaskSource::WholeImage, [0, 0, 8, 8]),
        ]
    );
    assert_eq!(set.warnings.len(), 1);
    assert!(set.warnings[0].contains("c.png"));
}

#[test]
fn bad_references_name_the_file() {
    let lim = ImageLimits::default();
    // empty mask
    let dir = tempfile::tempdir().unwrap();
    RgbImage::new(10, 10).save(dir.path().join("a.png")).unwrap();
    RgbImage::new(10, 10).save(dir.path().join("a.mask.png")).unwrap();
    let err = load_references(dir.path(), &lim).unwrap_err();
    assert!(matches!(err, Error::EmptyMask { .. }), "{err}");
    assert!(err.to_string().contains("a.mask.png"));
    // mask of another size
    RgbImage::from_pixel(12, 10, Rgb([255, 255, 255])).save(dir.path().join("a.mask.png")).unwrap();
    let err = load_references(dir.path(), &lim).unwrap_err();
    assert!(matches!(err, Error::MaskSize { mask_w: 12, image_w: 10, .. }), "{err}");
    // empty folder
    let empty = tempfile::tempdir().unwrap();
    let err = load_references(empty.path(), &lim).unwrap_err();
    assert!(err.to_string().contains("no reference images"), "{err}");
    // labelme without its image
    let lm = tempfile::tempdir().unwrap();
    fs_err::write(lm.path().join("x.json"), r#"{"shapes":[],"imagePath":"x.jpg"}"#).unwrap();
    let err = load_references(lm.path(), &lim).unwrap_err();
    assert!(err.to_string().contains("x.json"), "{err}");
    // corrupt label.png in the authors' layout
    let au = tempfile::tempdir().unwrap();
    let k = au.path().join("1");
    fs_err::create_dir(&k).unwrap();
    RgbImage::new(4, 4).save(k.join("img.png")).unwrap();
    fs_err::write(k.join("label.png"), b"\x89PNG broken").unwrap();
    let err = load_references(au.path(), &lim).unwrap_err();
    assert!(matches!(err, Error::Decode { .. }) && err.to_string().contains("label.png"), "{err}");
}
