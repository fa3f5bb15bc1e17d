//! The embedded synthetic image set: determinism, balance, masks, separability, output.
use corruptencoder_core::NoProgress;
use corruptencoder_data::{
    ImageLimits, MaskSource, SyntheticConfig, SyntheticSet, SyntheticSplit, SyntheticWorld,
    load_references, load_rgb, write_references,
};
use image::RgbImage;

fn set(seed: u64) -> SyntheticSet {
    SyntheticSet::new(SyntheticConfig { seed, ..Default::default() }).unwrap()
}

#[test]
fn same_seed_same_images_in_any_order() {
    let a = set(1).labelled(SyntheticSplit::DownstreamTrain, 24);
    for i in [23, 0, 7] {
        let s = set(1).sample(SyntheticSplit::DownstreamTrain, i);
        assert_eq!(s.image, a.images[i]);
        assert_eq!(s.label, a.labels[i]);
    }
    assert_ne!(set(2).sample(SyntheticSplit::DownstreamTrain, 0).image, a.images[0]);
    assert_ne!(set(1).sample(SyntheticSplit::Pretrain, 0).image, a.images[0]);
    assert_ne!(set(1).sample(SyntheticSplit::DownstreamTest, 0).image, a.images[0]);
}

#[test]
fn labels_are_balanced_and_named() {
    let s = set(0);
    let data = s.labelled(SyntheticSplit::Pretrain, 105);
    let mut counts = [0usize; 10];
    data.labels.iter().for_each(|&l| counts[l] += 1);
    assert!(counts.iter().all(|&c| c == 10 || c == 11), "{counts:?}");
    assert_eq!(data.class_names[3], "c03-stripes");
    let mut sorted = data.class_names.clone();
    sorted.sort();
    assert_eq!(sorted, data.class_names, "sorted folder names must keep class order");
    assert!(data.images.iter().all(|i| i.dimensions() == (64, 64)));
}

#[test]
fn masks_are_non_empty_and_references_match_their_boxes() {
    let s = SyntheticSet::new(SyntheticConfig { size: 32, ..Default::default() }).unwrap();
    for i in 0..50 {
        let sample = s.sample(SyntheticSplit::Pretrain, i);
        let area = sample.mask.count();
        // Radius 0.22..0.38 of the side: roughly 8%..45% of the image.
        assert!(area > 32 * 32 / 20 && area < 32 * 32 / 2, "area {area}");
    }
    let refs = s.references(4, 3).unwrap();
    assert_eq!(refs.len(), 3);
    for r in &refs {
        assert_eq!(r.image.dimensions(), (128, 128));
        assert!(r.mask.count() > 128 * 128 / 8);
        assert_eq!(r.mask.largest_component_box(), Some(r.object_box));
    }
    // Reference k does not depend on how many were asked for.
    assert_eq!(s.references(4, 1).unwrap()[0].image, refs[0].image);
    assert!(s.references(10, 1).is_err());
    let supports = s.supports(4, 2).unwrap();
    assert_eq!(supports[1].0, "c04-checker-support1");
    assert_eq!(supports[0].1.dimensions(), (128, 128));
    assert_ne!(supports[0].1, refs[0].image);
}

/// A crop statistic a linear reader could compute: mean colour and directional gradient
/// energy of an 8x8 window lying wholly inside the object.
fn crop_statistic(image: &RgbImage, inside: impl Fn(u32, u32) -> bool) -> Option<[f32; 7]> {
    let (w, h) = image.dimensions();
    let k = 8;
    let (x0, y0) = (0..=h - k)
        .flat_map(|y| (0..=w - k).map(move |x| (x, y)))
        .find(|&(x, y)| (y..y + k).all(|yy| (x..x + k).all(|xx| inside(xx, yy))))?;
    let grey = |x: u32, y: u32| {
        let p = image.get_pixel(x, y).0;
        (p[0] as f32 + p[1] as f32 + p[2] as f32) / 3.0
    };
    let mut s = [0.0f32; 7];
    for y in y0..y0 + k - 1 {
        for x in x0..x0 + k - 1 {
            let p = image.get_pixel(x, y).0;
            (0..3).for_each(|c| s[c] += p[c] as f32);
            let g = grey(x, y);
            s[3] += (grey(x + 1, y) - g).abs();
            s[4] += (grey(x, y + 1) - g).abs();
            s[5] += (grey(x + 1, y + 1) - g).abs();
            s[6] += (grey(x + 1, y) - grey(x, y + 1)).abs();
        }
    }
    Some(s.map(|v| v / 49.0))
}

#[test]
fn classes_separate_on_crops_inside_objects() {
    let s = set(3);
    let stats = |split, n| {
        (0..n)
            .filter_map(|i| {
                let sample = s.sample(split, i);
                let m = &sample.mask.0;
                crop_statistic(&sample.image, |x, y| m.get_pixel(x, y).0[0] > 0)
                    .map(|f| (f, sample.label))
            })
            .collect::<Vec<_>>()
    };
    let train = stats(SyntheticSplit::DownstreamTrain, 300);
    let test = stats(SyntheticSplit::DownstreamTest, 200);
    assert!(train.len() > 280 && test.len() > 185, "objects too small for an 8x8 crop");
    // Nearest class centroid.
    let mut centroid = [[0.0f32; 7]; 10];
    let mut count = [0.0f32; 10];
    for (f, l) in &train {
        (0..7).for_each(|k| centroid[*l][k] += f[k]);
        count[*l] += 1.0;
    }
    centroid.iter_mut().zip(count).for_each(|(c, n)| c.iter_mut().for_each(|v| *v /= n));
    let dist =
        |a: &[f32; 7], b: &[f32; 7]| a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f32>();
    let correct = test
        .iter()
        .filter(|(f, l)| {
            let best =
                (0..10).min_by(|&a, &b| dist(f, &centroid[a]).total_cmp(&dist(f, &centroid[b])));
            best == Some(*l)
        })
        .count();
    let acc = correct as f64 / test.len() as f64;
    assert!(acc >= 0.9, "nearest-centroid accuracy on object crops {acc}");
}

#[test]
fn written_split_and_references_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let s =
        SyntheticSet::new(SyntheticConfig { size: 32, classes: 4, ..Default::default() }).unwrap();
    let out = s
        .write_split(SyntheticSplit::DownstreamTest, 9, &dir.path().join("test"), &NoProgress)
        .unwrap();
    let list = fs_err::read_to_string(&out.list).unwrap();
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 9);
    let (path, label) = lines[5].rsplit_once(' ').unwrap();
    assert_eq!(label, "1");
    // Relative to the list's folder, so the written tree can be moved.
    assert_eq!(path, "c01-checker/000005.png");
    let back = load_rgb(&out.list.parent().unwrap().join(path), &ImageLimits::default()).unwrap();
    assert_eq!(back, s.sample(SyntheticSplit::DownstreamTest, 5).image);

    let refs = s.references(2, 3).unwrap();
    let ref_dir = dir.path().join("refs");
    write_references(&refs, &ref_dir).unwrap();
    let loaded = load_references(&ref_dir, &ImageLimits::default()).unwrap();
    assert_eq!(loaded.references.len(), 3);
    for (a, b) in refs.iter().zip(&loaded.references) {
        assert_eq!(a.name, b.name);
        assert_eq!(b.source, MaskSource::MaskImage);
        assert_eq!(a.image, b.image);
        assert_eq!(a.mask, b.mask);
        assert_eq!(a.object_box, b.object_box);
    }
    let bgs = s.write_backgrounds(2, 96, 48, &dir.path().join("bg")).unwrap();
    let bg = load_rgb(&bgs[1], &ImageLimits::default()).unwrap();
    assert_eq!(bg, s.background(1, 96, 48));
    // Only the final names remain: no temporary files.
    assert_eq!(std::fs::read_dir(dir.path().join("bg")).unwrap().count(), 2);
}

fn objects(size: u32, seed: u64) -> SyntheticSet {
    SyntheticSet::new(SyntheticConfig {
        kind: SyntheticWorld::Objects,
        size,
        seed,
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn objects_world_is_deterministic_balanced_and_named() {
    let a = objects(32, 1).labelled(SyntheticSplit::Pretrain, 45);
    for i in [44, 0, 13] {
        let s = objects(32, 1).sample(SyntheticSplit::Pretrain, i);
        assert_eq!(s.image, a.images[i]);
        assert_eq!(s.label, a.labels[i]);
    }
    assert_ne!(objects(32, 2).sample(SyntheticSplit::Pretrain, 0).image, a.images[0]);
    // Not the patterns world under another name.
    let patterns = SyntheticSet::new(SyntheticConfig { size: 32, seed: 1, ..Default::default() });
    assert_ne!(patterns.unwrap().sample(SyntheticSplit::Pretrain, 0).image, a.images[0]);
    let mut counts = [0usize; 10];
    a.labels.iter().for_each(|&l| counts[l] += 1);
    assert!(counts.iter().all(|&c| c == 4 || c == 5), "{counts:?}");
    assert_eq!(a.class_names[3], "c03-star-stripes135");
    assert_eq!(a.class_names[9], "c09-cross-plain");
    let too_many =
        SyntheticConfig { kind: SyntheticWorld::Objects, classes: 21, ..Default::default() };
    assert!(SyntheticSet::new(too_many).is_err());
}

#[test]
fn objects_world_masks_match_objects_at_every_size() {
    for size in [32, 48, 64] {
        let s = objects(size, 4);
        for i in 0..40 {
            let sample = s.sample(SyntheticSplit::DownstreamTrain, i);
            assert_eq!(sample.image.dimensions(), (size, size));
            let area = sample.mask.count() as f64 / f64::from(size * size);
            // Circumradius 0.30..0.46 of the side; the star fills the least of its circle.
            assert!(area > 0.06 && area < 0.7, "size {size} image {i}: area {area}");
            // One connected object, inside the image.
            let b = sample.mask.largest_component_box().unwrap();
            assert!(b.x + b.w <= size && b.y + b.h <= size);
            let in_box = |x: u32, y: u32| x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + b.h;
            assert!(sample.mask.0.enumerate_pixels().all(|(x, y, p)| p.0[0] == 0 || in_box(x, y)));
        }
        let refs = s.references(0, 2).unwrap();
        for r in &refs {
            assert_eq!(r.mask.largest_component_box(), Some(r.object_box));
            assert!(r.mask.count() > 128 * 128 / 16, "{}", r.mask.count());
        }
        assert_eq!(s.background(3, 40, 30).dimensions(), (40, 30));
    }
}

/// Mean chromaticity (colour with brightness divided out) of the object's pixels.
fn object_colour(sample: &corruptencoder_data::SyntheticSample) -> [f32; 3] {
    let mut sum = [0.0f32; 3];
    let mut n = 0.0;
    for (x, y, m) in sample.mask.0.enumerate_pixels() {
        if m.0[0] > 0 {
            let p = sample.image.get_pixel(x, y).0.map(f32::from);
            let total = p[0] + p[1] + p[2] + 1.0;
            (0..3).for_each(|c| sum[c] += p[c] / total);
            n += 1.0;
        }
    }
    sum.map(|v| v / n)
}

#[test]
fn objects_world_classes_share_colour_statistics() {
    // The patterns world's classes are told apart by colour alone; the objects world's
    // must not be: nearest class centroid on the object's mean chromaticity stays near
    // chance (brightness is left out: textures differ in their share of bright pixels).
    let accuracy = |s: &SyntheticSet| {
        let train: Vec<_> = (0..400)
            .map(|i| s.sample(SyntheticSplit::DownstreamTrain, i))
            .map(|x| (object_colour(&x), x.label))
            .collect();
        let mut centroid = [[0.0f32; 3]; 10];
        for (f, l) in &train {
            (0..3).for_each(|k| centroid[*l][k] += f[k] / 40.0);
        }
        let dist =
            |a: &[f32; 3], b: &[f32; 3]| a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f32>();
        let correct = (0..200)
            .map(|i| s.sample(SyntheticSplit::DownstreamTest, i))
            .filter(|x| {
                let f = object_colour(x);
                let best = (0..10)
                    .min_by(|&a, &b| dist(&f, &centroid[a]).total_cmp(&dist(&f, &centroid[b])));
                best == Some(x.label)
            })
            .count();
        correct as f64 / 200.0
    };
    let objects_acc = accuracy(&objects(32, 5));
    let patterns_acc = accuracy(
        &SyntheticSet::new(SyntheticConfig { size: 32, seed: 5, ..Default::default() }).unwrap(),
    );
    assert!(patterns_acc > 0.6, "patterns world by colour: {patterns_acc}");
    assert!(objects_acc < 0.2, "objects world by colour: {objects_acc}");
}
