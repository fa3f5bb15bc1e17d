//! Dataset readers and writers on the kit's real images.
use std::path::{Path, PathBuf};

use corruptencoder_data::*;
use image::imageops::{self, FilterType};
use image::{GrayImage, RgbImage};

use crate::kit;

/// The first `n` kit backgrounds, shrunk to `side x side` (real photo content).
fn kit_thumbs(n: usize, side: u32) -> Vec<RgbImage> {
    let files = list_images(&kit().join("backgrounds")).unwrap();
    files[..n]
        .iter()
        .map(|p| {
            let img = load_rgb(p, &ImageLimits::default()).unwrap();
            imageops::resize(&img, side, side, FilterType::Triangle)
        })
        .collect()
}

#[test]
fn image_folder_reads_kit_references_with_sorted_classes() {
    let ds = open_dataset(&kit().join("references"), None).unwrap();
    let names = ds.class_names().unwrap();
    assert_eq!(names, ["hunting-dog", "komondor", "lorikeet", "rottweiler"]);
    // Recursive like torchvision: k.JPEG, k/img.png, k/label.png, and 5 support photos.
    let counts: Vec<usize> = (0..4).map(|c| samples_of_class(ds.as_ref(), c).len()).collect();
    assert_eq!(counts, [14, 9, 9, 9]);
    assert_eq!(class_label(ds.as_ref(), "lorikeet").unwrap(), 2);
    assert_eq!(class_label(ds.as_ref(), "3").unwrap(), 3);
    let first = samples_of_class(ds.as_ref(), 2)[0];
    assert!(ds.source(first).ends_with("lorikeet/1.JPEG"), "{}", ds.source(first));
    let img = ds.load(first, &ImageLimits::default()).unwrap();
    assert!(img.width() > 100 && img.height() > 100);
    let err = class_label(ds.as_ref(), "tiger").unwrap_err();
    assert!(matches!(err, Error::UnknownClass { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("tiger") && msg.contains("references") && msg.contains("komondor"),
        "{msg}"
    );
}

#[test]
fn file_list_resolves_relative_paths_against_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let thumbs = kit_thumbs(3, 48);
    fs_err::create_dir(dir.path().join("imgs")).unwrap();
    let mut entries = Vec::new();
    for (i, t) in thumbs.iter().enumerate() {
        let rel = PathBuf::from(format!("imgs/{i}.png"));
        t.save(dir.path().join(&rel)).unwrap();
        entries.push((rel, i as i64 - 1));
    }
    let trigger = kit().join("triggers/trigger_10.png");
    entries.push((trigger.clone(), 7));
    let list = dir.path().join("list.txt");
    write_file_list(&list, &entries).unwrap();
    let ds = open_dataset(&list, None).unwrap();
    assert_eq!(ds.len(), 4);
    assert_eq!((0..4).map(|i| ds.label(i)).collect::<Vec<_>>(), [-1, 0, 1, 7]);
    assert_eq!(ds.load(1, &ImageLimits::default()).unwrap(), thumbs[1]);
    assert_eq!(ds.load(3, &ImageLimits::default()).unwrap().dimensions(), (80, 80));
    assert!(ds.class_names().is_none());
    // A missing image is found on load, naming the file.
    fs_err::write(&list, "imgs/none.png 0\n").unwrap();
    let err = open_dataset(&list, None).unwrap().load(0, &ImageLimits::default()).unwrap_err();
    assert!(err.to_string().contains("none.png"), "{err}");
}

#[test]
fn cifar10_and_cifar100_round_trip_kit_images() {
    let dir = tempfile::tempdir().unwrap();
    let thumbs = kit_thumbs(12, 32);
    let records: Vec<CifarRecord> = thumbs
        .iter()
        .enumerate()
        .map(|(i, t)| CifarRecord {
            image: t.clone(),
            label: (i % 10) as u8,
            coarse_label: (i % 3) as u8,
        })
        .collect();
    let p10 = dir.path().join("data_batch_1.bin");
    write_cifar(&p10, false, &records).unwrap();
    let names: String = (0..10).map(|c| format!("class{c}\n")).collect();
    fs_err::write(dir.path().join("batches.meta.txt"), names).unwrap();
    assert_eq!(fs_err::metadata(&p10).unwrap().len(), 12 * 3073);
    let ds = open_dataset(&p10, None).unwrap();
    check_round_trip(ds.as_ref(), &records);
    assert_eq!(ds.class_names().unwrap()[9], "class9");
    assert_eq!(class_label(ds.as_ref(), "class4").unwrap(), 4);

    let p100 = dir.path().join("train.bin");
    write_cifar(&p100, true, &records).unwrap();
    let ds = CifarBinary::open(&p100, true).unwrap();
    check_round_trip(&ds, &records);
    assert_eq!(ds.coarse_label(5), Some(2));
    assert_eq!(DatasetFormat::detect(&p100).unwrap(), DatasetFormat::Cifar100);

    // A cut file is refused, naming it.
    let bytes = fs_err::read(&p10).unwrap();
    fs_err::write(&p10, &bytes[..bytes.len() - 10]).unwrap();
    let err = CifarBinary::open(&p10, false).unwrap_err();
    assert!(
        matches!(err, Error::Truncated { .. }) && err.to_string().contains("data_batch_1"),
        "{err}"
    );
    let big = RgbImage::new(33, 32);
    let bad = [CifarRecord { image: big, label: 0, coarse_label: 0 }];
    assert!(write_cifar(&dir.path().join("x.bin"), false, &bad).is_err());
}

fn check_round_trip(ds: &dyn Dataset, records: &[CifarRecord]) {
    assert_eq!(ds.len(), records.len());
    for (i, r) in records.iter().enumerate() {
        assert_eq!(ds.label(i), i64::from(r.label));
        assert_eq!(ds.load(i, &ImageLimits::default()).unwrap(), r.image, "record {i}");
    }
}

#[test]
fn idx_round_trips_plain_and_gzipped() {
    let dir = tempfile::tempdir().unwrap();
    let items: Vec<(GrayImage, u8)> = kit_thumbs(6, 28)
        .iter()
        .enumerate()
        .map(|(i, t)| (image::DynamicImage::ImageRgb8(t.clone()).into_luma8(), i as u8))
        .collect();
    for (gzip, suffix) in [(false, ""), (true, ".gz")] {
        let images = dir.path().join(format!("t10k-images-idx3-ubyte{suffix}"));
        let labels = dir.path().join(format!("t10k-labels-idx1-ubyte{suffix}"));
        write_idx(&images, &labels, &items, gzip).unwrap();
        assert_eq!(fs_err::read(&images).unwrap().starts_with(&[0x1f, 0x8b]), gzip);
        let ds = open_dataset(&images, None).unwrap();
        assert_eq!(ds.len(), 6);
        for (i, (g, l)) in items.iter().enumerate() {
            assert_eq!(ds.label(i), i64::from(*l));
            let rgb = ds.load(i, &ImageLimits::default()).unwrap();
            assert_eq!(rgb.dimensions(), (28, 28));
            assert!(rgb.pixels().zip(g.pixels()).all(|(c, g)| c.0 == [g.0[0]; 3]));
        }
    }
    // Wrong magic and label-count mismatch are named errors.
    let images = dir.path().join("t10k-images-idx3-ubyte");
    let labels = dir.path().join("t10k-labels-idx1-ubyte");
    write_idx(&dir.path().join("o-images-idx3-ubyte"), &labels, &items[..2], false).unwrap();
    let err = Idx::open(&images, &labels).unwrap_err();
    assert!(err.to_string().contains("2 labels for 6 images"), "{err}");
    let err = Idx::open(&labels, &labels).unwrap_err();
    assert!(err.to_string().contains("t10k-labels-idx1-ubyte"), "{err}");
    assert!(Idx::labels_path_for(Path::new("foo.bin")).is_err());
}

/// Hostile IDX headers: dimensions whose product passes u64, zero-sized images, and one
/// image larger than the pixel limit are named errors, not overflows or huge allocations.
#[test]
fn idx_headers_that_lie_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, dims: &[u32], data: &[u8]| {
        let mut bytes = vec![0, 0, 8, dims.len() as u8];
        dims.iter().for_each(|d| bytes.extend(d.to_be_bytes()));
        bytes.extend_from_slice(data);
        let p = dir.path().join(name);
        fs_err::write(&p, bytes).unwrap();
        p
    };
    let labels = write("t-labels-idx1-ubyte", &[1], &[3]);
    let images = write("t-images-idx3-ubyte", &[u32::MAX, u32::MAX, u32::MAX], &[0; 9]);
    let err = Idx::open(&images, &labels).unwrap_err().to_string();
    assert!(err.contains("t-images-idx3-ubyte") && err.contains("more data bytes"), "{err}");

    let images = write("z-images-idx3-ubyte", &[1, 0, 5], &[]);
    let err = Idx::open(&images, &labels).unwrap_err().to_string();
    assert!(err.contains("z-images-idx3-ubyte") && err.contains("0x5 pixels"), "{err}");

    let images = write("b-images-idx3-ubyte", &[1, 100, 100], &[9; 10_000]);
    let ds = Idx::open(&images, &labels).unwrap();
    let small = ImageLimits { max_pixels: 5_000, ..ImageLimits::default() };
    let err = ds.load(0, &small).unwrap_err().to_string();
    assert!(err.contains("b-images-idx3-ubyte") && err.contains("100x100"), "{err}");
    assert_eq!(ds.load(0, &ImageLimits::default()).unwrap().dimensions(), (100, 100));
}
