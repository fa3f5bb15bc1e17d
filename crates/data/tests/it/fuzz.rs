//! Arbitrary bytes into every parser of user files: each returns `Ok` or `Err`, never
//! panics (and never allocates what a header merely claims). Few cases per property keep
//! the suite fast; CI runs them on stable Rust, with no fuzzing toolchain.
use std::path::Path;

use corruptencoder_data::{
    CifarBinary, Dataset, FileList, Idx, ImageLimits, load_references, load_rgb, open_dataset,
    png_bytes,
};
use image::{Rgb, RgbImage};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() }
}

/// Small limits so a claimed size cannot take time or memory even when accepted.
const LIMITS: ImageLimits = ImageLimits { max_pixels: 1 << 20, allow_truncated: false };

/// Loads every sample of an opened dataset; any result is fine, a panic is not.
fn load_all(ds: &dyn Dataset) {
    for i in 0..ds.len().min(16) {
        let _ = ds.load(i, &LIMITS);
        let _ = ds.source(i);
    }
}

fn small_png(w: u32, h: u32, seed: u8) -> Vec<u8> {
    png_bytes(&RgbImage::from_fn(w, h, |x, y| Rgb([seed ^ x as u8, y as u8, seed])))
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    fs_err::write(&p, bytes).unwrap();
    p
}

/// A labelme-shaped JSON with arbitrary geometry, labels and shape types.
fn labelme_json() -> impl Strategy<Value = String> {
    let point = (-1e6f64..1e6, -1e6f64..1e6);
    let shape = (
        prop::sample::select(vec!["dog", "nmask", "_background_", ""]),
        prop::collection::vec(point, 0..8),
        prop::sample::select(vec!["polygon", "rectangle", "circle", "null"]),
    );
    (
        prop::collection::vec(shape, 0..4),
        prop::option::of((0u32..100, 0u32..100)),
        prop::sample::select(vec!["a.png", "../a.png", "", "missing.png", "/"]),
    )
        .prop_map(|(shapes, size, image)| {
            let shapes: Vec<String> = shapes
                .iter()
                .map(|(label, pts, kind)| {
                    let pts: Vec<String> = pts.iter().map(|(x, y)| format!("[{x}, {y}]")).collect();
                    let kind = if *kind == "null" { "null".into() } else { format!("\"{kind}\"") };
                    format!(
                        "{{\"label\": \"{label}\", \"points\": [{}], \"shape_type\": {kind}}}",
                        pts.join(", ")
                    )
                })
                .collect();
            let size = size.map_or(String::new(), |(w, h)| {
                format!(", \"imageWidth\": {w}, \"imageHeight\": {h}")
            });
            format!("{{\"shapes\": [{}], \"imagePath\": \"{image}\"{size}}}", shapes.join(", "))
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn image_decoders_take_any_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        ext in prop::sample::select(vec!["png", "jpg", "bmp", "webp"]),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let _ = load_rgb(&write(dir.path(), &format!("x.{ext}"), &bytes), &LIMITS);
    }

    #[test]
    fn cut_or_damaged_images_are_errors_or_images(
        w in 1u32..40, h in 1u32..40, cut in 0.0f64..1.0, flip in any::<(usize, u8)>(),
        jpeg in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let img = RgbImage::from_fn(w, h, |x, y| Rgb([(x * 7) as u8, (y * 3) as u8, 50]));
        let mut bytes = if jpeg {
            let mut out = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
                .encode_image(&img)
                .unwrap();
            out
        } else {
            png_bytes(&img)
        };
        let i = flip.0 % bytes.len();
        bytes[i] ^= flip.1;
        bytes.truncate(((bytes.len() as f64) * cut) as usize + 1);
        let name = if jpeg { "x.jpg" } else { "x.png" };
        if let Ok(loaded) = load_rgb(&write(dir.path(), name, &bytes), &LIMITS) {
            prop_assert!(loaded.width() > 0 && loaded.height() > 0);
        }
    }

    #[test]
    fn labelme_files_of_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.png", &small_png(20, 16, 1));
        write(dir.path(), "a.json", &bytes);
        let _ = load_references(dir.path(), &LIMITS);
    }

    #[test]
    fn labelme_files_of_any_geometry(json in labelme_json()) {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.png", &small_png(30, 20, 2));
        write(dir.path(), "a.json", json.as_bytes());
        if let Ok(set) = load_references(dir.path(), &LIMITS) {
            for r in &set.references {
                let b = r.object_box;
                prop_assert!(b.x + b.w <= r.image.width() && b.y + b.h <= r.image.height());
            }
        }
    }

    #[test]
    fn palette_and_mask_images_of_any_content(
        label in prop::collection::vec(any::<u8>(), 0..300),
        mw in 1u32..40, mh in 1u32..40, colour in any::<[u8; 3]>(), raw in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("k");
        fs_err::create_dir(&k).unwrap();
        write(&k, "img.png", &small_png(24, 24, 3));
        // Either junk bytes, or a real image of any size with any colour as the label.
        let label = if raw {
            label
        } else {
            png_bytes(&RgbImage::from_fn(mw, mh, |x, _| if x % 2 == 0 { Rgb(colour) } else { Rgb([128, 0, 0]) }))
        };
        write(&k, "label.png", &label);
        write(dir.path(), "b.png", &small_png(24, 24, 4));
        write(dir.path(), "b.mask.png", &small_png(mw, mh, colour[0]));
        let _ = load_references(dir.path(), &LIMITS);
    }

    #[test]
    fn file_lists_of_any_text(lines in prop::collection::vec("[ -~]{0,30}", 0..8),
                              junk in prop::collection::vec(any::<u8>(), 0..60)) {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.png", &small_png(8, 8, 5));
        let mut text = lines.join("\n").into_bytes();
        text.extend(b"\na.png 3\n");
        text.extend(&junk);
        let list = write(dir.path(), "list.txt", &text);
        if let Ok(ds) = FileList::open(&list) {
            load_all(&ds);
        }
        if let Ok(ds) = open_dataset(&list, None) {
            load_all(ds.as_ref());
        }
    }

    #[test]
    fn cifar_files_of_any_bytes(
        records in 0usize..3, extra in prop::collection::vec(any::<u8>(), 0..8),
        fill in any::<u8>(), cifar100 in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let rec = if cifar100 { 3074 } else { 3073 };
        let mut bytes = vec![fill; records * rec];
        bytes.extend(&extra);
        let path = write(dir.path(), "data_batch_1.bin", &bytes);
        if let Ok(ds) = CifarBinary::open(&path, cifar100) {
            load_all(&ds);
        }
        if let Ok(ds) = open_dataset(&path, None) {
            load_all(ds.as_ref());
        }
    }

    #[test]
    fn idx_files_of_any_header(
        magic in any::<[u8; 4]>(), real_magic in any::<bool>(), dims in any::<[u32; 3]>(),
        small in any::<bool>(), labels in any::<u32>(),
        data in prop::collection::vec(any::<u8>(), 0..200), gz in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let magic = if real_magic { [0, 0, 8, 3] } else { magic };
        // Half the cases declare a header that matches small data, half anything at all.
        let dims = if small { [dims[0] % 3, dims[1] % 5, dims[2] % 5] } else { dims };
        let mut images = magic.to_vec();
        dims.iter().for_each(|d| images.extend(d.to_be_bytes()));
        // Saturating: the header may declare more than u64 holds, which the reader must refuse.
        let want = dims.iter().fold(1usize, |a, &d| a.saturating_mul(d as usize)).min(4096);
        images.extend(if small { vec![7u8; want] } else { data.clone() });
        let mut lab = vec![0, 0, 8, 1];
        lab.extend(if small { dims[0] } else { labels }.to_be_bytes());
        lab.extend(if small { vec![1u8; dims[0] as usize] } else { data });
        if gz {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(&images).unwrap();
            images = e.finish().unwrap();
        }
        let img = write(dir.path(), "t-images-idx3-ubyte", &images);
        let lbl = write(dir.path(), "t-labels-idx1-ubyte", &lab);
        if let Ok(ds) = Idx::open(&img, &lbl) {
            load_all(&ds);
        }
        if let Ok(ds) = open_dataset(&img, None) {
            load_all(ds.as_ref());
        }
    }
}
