//! A world of real labelled images for experiments (`source = "files"`): disjoint
//! pre-training and downstream sets drawn from a labelled dataset, reference objects cut
//! from target-class images by a brightness mask (objects on a dark ground, as in
//! Fashion-MNIST or MNIST), support and target-class images for the attacks that need them,
//! and two kinds of backgrounds of the dataset's own kind: mosaics of its images (`scenes/`)
//! and plain canvases of its ground colour (`plain/`).
use std::path::{Path, PathBuf};

use corruptencoder_core::{IoError, OutputDir, Progress, SettingError, write_atomic};
use image::{Rgb, RgbImage};
use serde::{Deserialize, Serialize};

use crate::dataset::{Dataset, samples_of_class};
use crate::error::Result;
use crate::image_io::{ImageLimits, png_bytes};
use crate::resize::{Filter, resize_rgb};
use crate::synthetic::write_references;

mod draw;
mod images;

use draw::{Draw, class_count};
use images::{fit_to, folder_name, most_frequent, reference, scene, write_images};

/// What to draw from the labelled dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LabelledWorldConfig {
    /// Pre-training images, from the training split.
    pub pretrain: usize,
    /// Downstream training images, from the training split, disjoint from `pretrain`.
    pub downstream_train: usize,
    /// Downstream test images, from the test split.
    pub downstream_test: usize,
    /// The target class (label).
    pub target: usize,
    /// Reference objects cut from target-class images used nowhere else.
    pub references: usize,
    /// Support images (CorruptEncoder+): further unused target-class images.
    pub supports: usize,
    /// Target-class images the baselines poison (SSL-Backdoor, CTRL), unused elsewhere.
    pub target_images: usize,
    /// Side of every pre-training and downstream image: smaller images are padded with the
    /// colour of their corners (black for Fashion-MNIST), larger ones resized (bicubic).
    pub size: u32,
    /// References and support images are enlarged by this factor (bicubic; the mask
    /// nearest), so poisons are made from larger objects than the training images show,
    /// as the authors' reference photos are.
    pub reference_scale: u32,
    /// A pixel is object when its brightest channel exceeds this (0-255).
    pub mask_threshold: u8,
    /// Backgrounds built as mosaics of the training split's own non-target images.
    pub scenes: usize,
    /// Plain backgrounds of the dataset's ground colour (the most frequent corner colour of
    /// the pre-training images: black for Fashion-MNIST).
    pub plain: usize,
    /// Width and height of each scene and plain background.
    pub scene_size: (u32, u32),
    /// Seed of every draw.
    pub seed: u64,
}

impl Default for LabelledWorldConfig {
    fn default() -> Self {
        Self {
            pretrain: 4000,
            downstream_train: 1000,
            downstream_test: 500,
            target: 0,
            references: 3,
            supports: 5,
            target_images: 400,
            size: 32,
            reference_scale: 4,
            mask_threshold: 20,
            scenes: 100,
            plain: 100,
            scene_size: (256, 192),
            seed: 0,
        }
    }
}

/// What [`write_labelled_world`] wrote, with paths under the finished folder.
#[derive(Debug, Clone, Serialize)]
pub struct LabelledWorld {
    /// `path label` list of the pre-training images (paths relative to the list).
    pub pretrain: PathBuf,
    /// ImageFolder of the downstream training images.
    pub downstream_train: PathBuf,
    /// ImageFolder of the downstream test images.
    pub downstream_test: PathBuf,
    /// Reference images with `.mask.png` masks.
    pub references: PathBuf,
    /// Support images.
    pub supports: PathBuf,
    /// Target-class images for the baselines.
    pub targets: PathBuf,
    /// Scenes of the dataset's own kind, to use as backgrounds.
    pub scenes: PathBuf,
    /// Plain backgrounds of the dataset's ground colour.
    pub plain: PathBuf,
}

/// Draws the world from `train` and `test` (same classes) into `out`, staged and renamed;
/// an existing `out` is refused unless `force`. `class_names` name the class folders
/// (`<index>-<name>`, so sorted folders keep the label order); the datasets' own names
/// are used when `None`, else the label.
pub fn write_labelled_world(
    train: &dyn Dataset,
    test: &dyn Dataset,
    class_names: Option<&[String]>,
    config: &LabelledWorldConfig,
    out: &Path,
    force: bool,
    progress: &dyn Progress,
) -> Result<LabelledWorld> {
    let classes = class_count(train);
    check(config, classes, train.len(), test.len())?;
    let names: Vec<String> = (0..classes)
        .map(|c| {
            let name = class_names.or(train.class_names()).and_then(|n| n.get(c));
            match name {
                Some(n) => format!("{c:02}-{}", folder_name(n)),
                None => format!("{c:02}"),
            }
        })
        .collect();
    let draw = Draw::new(train, test, config)?;
    let dir = OutputDir::create(out, force)?;
    let root = dir.path();
    create_folders(root, &names)?;
    let ground = write_splits(root, (train, test), &draw, &names, config, progress)?;
    write_attack_inputs(root, train, &draw, config, ground)?;
    let toml = toml::to_string_pretty(config).expect("world settings serialise");
    write_atomic(&root.join("world.toml"), toml.as_bytes())?;
    let final_dir = dir.commit()?;
    Ok(LabelledWorld {
        pretrain: final_dir.join("pretrain/list.txt"),
        downstream_train: final_dir.join("downstream-train"),
        downstream_test: final_dir.join("downstream-test"),
        references: final_dir.join("references"),
        supports: final_dir.join("supports"),
        targets: final_dir.join("targets"),
        scenes: final_dir.join("scenes"),
        plain: final_dir.join("plain"),
    })
}

/// The world's folders under `root`, with one class folder per name in each downstream
/// split.
fn create_folders(root: &Path, names: &[String]) -> Result<()> {
    let folders = ["pretrain/images", "references", "supports", "targets", "scenes", "plain"];
    for folder in folders.iter().map(|f| root.join(f)).chain(
        ["downstream-train", "downstream-test"]
            .iter()
            .flat_map(|split| names.iter().map(move |n| root.join(split).join(n))),
    ) {
        fs_err::create_dir_all(&folder).map_err(IoError::at("create", &folder))?;
    }
    Ok(())
}

/// The pre-training list and images and the downstream class folders; returns the ground
/// colour (the pre-training images' most frequent top-left pixel).
fn write_splits(
    root: &Path,
    (train, test): (&dyn Dataset, &dyn Dataset),
    draw: &Draw,
    names: &[String],
    config: &LabelledWorldConfig,
    progress: &dyn Progress,
) -> Result<Rgb<u8>> {
    let limits = ImageLimits::default();
    let fit = |img: RgbImage| fit_to(img, config.size);
    progress.start("world", (draw.pretrain.len() + draw.train.len() + draw.test.len()) as u64);
    let mut list = String::new();
    let written = write_images(train, &draw.pretrain, &limits, progress, |k, label, img| {
        let file = format!("images/{k:06}.png");
        let corner = *img.get_pixel(0, 0);
        write_atomic(&root.join("pretrain").join(&file), &png_bytes(&fit(img)))?;
        Ok((format!("{file} {label}\n"), corner))
    })?;
    let ground = most_frequent(written.iter().map(|(_, corner)| *corner));
    list.extend(written.into_iter().map(|(line, _)| line));
    write_atomic(&root.join("pretrain/list.txt"), list.as_bytes())?;
    for (set, name, indices) in
        [(train, "downstream-train", &draw.train), (test, "downstream-test", &draw.test)]
    {
        write_images(set, indices, &limits, progress, |k, label, img| {
            let folder = &names[label as usize];
            let file = root.join(name).join(folder).join(format!("{k:06}.png"));
            Ok(write_atomic(&file, &png_bytes(&fit(img)))?)
        })?;
    }
    progress.finish();
    Ok(ground)
}

/// What the attacks read: references with masks, supports, target-class images, scenes and
/// plain canvases of the `ground` colour.
fn write_attack_inputs(
    root: &Path,
    train: &dyn Dataset,
    draw: &Draw,
    config: &LabelledWorldConfig,
    ground: Rgb<u8>,
) -> Result<()> {
    let limits = ImageLimits::default();
    let fit = |img: RgbImage| fit_to(img, config.size);
    let scale = |img: &RgbImage| {
        let (w, h) = img.dimensions();
        let s = config.reference_scale;
        resize_rgb(img, w * s, h * s, Filter::Bicubic)
    };
    let mut references = Vec::new();
    for (k, &i) in draw.references.iter().enumerate() {
        references.push(reference(train, i, k, config, &limits)?);
    }
    write_references(&references, &root.join("references"))?;
    for (folder, indices, enlarge) in
        [("supports", &draw.supports, true), ("targets", &draw.targets, false)]
    {
        for (k, &i) in indices.iter().enumerate() {
            let img = train.load(i, &limits)?;
            let img = if enlarge { scale(&img) } else { fit(img) };
            write_atomic(
                &root.join(folder).join(format!("{folder}-{k:05}.png")),
                &png_bytes(&img),
            )?;
        }
    }
    for k in 0..config.scenes {
        let scene = scene(train, &draw.others, config, k, &limits)?;
        write_atomic(&root.join("scenes").join(format!("scene-{k:05}.png")), &png_bytes(&scene))?;
    }
    let (w, h) = config.scene_size;
    let canvas = png_bytes(&RgbImage::from_pixel(w, h, ground));
    for k in 0..config.plain {
        write_atomic(&root.join("plain").join(format!("plain-{k:05}.png")), &canvas)?;
    }
    Ok(())
}

fn check(c: &LabelledWorldConfig, classes: usize, train: usize, test: usize) -> Result<()> {
    let bad = |key: &str, value: &dyn std::fmt::Display, problem: String| {
        Err(SettingError::new(key, value, problem).into())
    };
    if c.target >= classes {
        return bad("target", &c.target, format!("the dataset has {classes} classes"));
    }
    if c.size == 0 {
        return bad("size", &0, "must be at least 1".into());
    }
    if c.reference_scale == 0 {
        return bad("reference_scale", &0, "must be at least 1".into());
    }
    if c.references == 0 {
        return bad("references", &0, "at least one reference object is needed".into());
    }
    if c.pretrain + c.downstream_train > train {
        return bad(
            "pretrain",
            &c.pretrain,
            format!(
                "with downstream_train = {} it exceeds the training split's {train} images",
                c.downstream_train
            ),
        );
    }
    if c.downstream_test > test {
        return bad(
            "downstream_test",
            &c.downstream_test,
            format!("the test split has {test} images"),
        );
    }
    if (c.scenes > 0 || c.plain > 0) && (c.scene_size.0 == 0 || c.scene_size.1 < 3) {
        return bad("scene_size", &format!("{:?}", c.scene_size), "too small".into());
    }
    Ok(())
}

/// How many samples of each class a dataset holds (for messages and tests).
pub fn class_sizes(ds: &dyn Dataset) -> Vec<usize> {
    (0..class_count(ds)).map(|c| samples_of_class(ds, c as i64).len()).collect()
}

#[cfg(test)]
mod tests {
    use image::{GrayImage, Luma};

    use crate::reference::MaskSource;

    use super::*;
    use crate::dataset::{Idx, open_dataset, write_idx};
    use corruptencoder_core::NoProgress;

    /// Class `label`'s image `k`: a bright square whose side and place depend on both, on
    /// black.
    fn item(label: u8, k: u32) -> (GrayImage, u8) {
        let side = 6 + (label as u32) * 2 + k % 3;
        let img = GrayImage::from_fn(12, 12, |x, y| {
            let inside = (2..2 + side).contains(&x) && (3..3 + side.min(8)).contains(&y);
            Luma([if inside { 200 + label } else { 0 }])
        });
        (img, label)
    }

    fn idx(dir: &Path, name: &str, per_class: u32) -> Idx {
        let items: Vec<_> = (0..per_class).flat_map(|k| (0..3).map(move |c| item(c, k))).collect();
        let images = dir.join(format!("{name}-images-idx3-ubyte"));
        let labels = dir.join(format!("{name}-labels-idx1-ubyte"));
        write_idx(&images, &labels, &items, false).unwrap();
        Idx::open(&images, &labels).unwrap()
    }

    fn small() -> LabelledWorldConfig {
        LabelledWorldConfig {
            pretrain: 30,
            downstream_train: 9,
            downstream_test: 6,
            target: 1,
            references: 2,
            supports: 1,
            target_images: 3,
            size: 16,
            reference_scale: 2,
            scenes: 2,
            plain: 3,
            scene_size: (20, 12),
            ..Default::default()
        }
    }

    #[test]
    fn a_world_takes_disjoint_draws_and_cuts_references_by_brightness() {
        let tmp = tempfile::tempdir().unwrap();
        let (train, test) = (idx(tmp.path(), "train", 20), idx(tmp.path(), "t10k", 4));
        let names: Vec<String> = ["T-shirt/top", "Trouser", "Pullover"].map(String::from).into();
        let out = tmp.path().join("world");
        let w =
            write_labelled_world(&train, &test, Some(&names), &small(), &out, false, &NoProgress)
                .unwrap();
        let pretrain = open_dataset(&w.pretrain, None).unwrap();
        assert_eq!(pretrain.len(), 30);
        assert_eq!(pretrain.load(0, &ImageLimits::default()).unwrap().dimensions(), (16, 16));
        let folders: Vec<String> = std::fs::read_dir(&w.downstream_train)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(folders, ["00-t-shirt-top", "01-trouser", "02-pullover"]);
        let downstream = open_dataset(&w.downstream_train, None).unwrap();
        let test_set = open_dataset(&w.downstream_test, None).unwrap();
        assert_eq!((downstream.len(), test_set.len()), (9, 6));
        // Pre-training and downstream images are different draws of the training split:
        // together 39 of its 60, and the 21 left hold the class-1 images the attacks use.
        let refs = crate::load_references(&w.references, &ImageLimits::default()).unwrap();
        assert_eq!(refs.references.len(), 2);
        for r in &refs.references {
            assert_eq!(r.source, MaskSource::MaskImage);
            // Class 1's square: 2 px in, 8 + k % 3 wide, at most 8 tall; doubled.
            let b = r.object_box;
            assert_eq!((b.x, b.y), (4, 6));
            assert!([16, 18, 20].contains(&b.w) && b.h == 16, "{b:?}");
            assert_eq!(r.image.dimensions(), (24, 24));
        }
        let count = |d: &Path| std::fs::read_dir(d).unwrap().count();
        assert_eq!((count(&w.supports), count(&w.targets), count(&w.scenes)), (1, 3, 2));
        let plain = crate::load_rgb(&w.plain.join("plain-00000.png"), &ImageLimits::default());
        let plain = plain.unwrap();
        assert_eq!(plain.dimensions(), (20, 12));
        assert!(plain.pixels().all(|p| p.0 == [0, 0, 0]), "the ground is black");
    }

    #[test]
    fn the_same_seed_writes_the_same_world_and_another_seed_another() {
        let tmp = tempfile::tempdir().unwrap();
        let (train, test) = (idx(tmp.path(), "train", 20), idx(tmp.path(), "t10k", 4));
        let list = |seed: u64, name: &str| {
            let config = LabelledWorldConfig { seed, ..small() };
            let out = tmp.path().join(name);
            let w = write_labelled_world(&train, &test, None, &config, &out, false, &NoProgress)
                .unwrap();
            let scene = std::fs::read(w.scenes.join("scene-00000.png")).unwrap();
            (std::fs::read_to_string(&w.pretrain).unwrap(), scene)
        };
        let a = list(0, "a");
        assert_eq!(a, list(0, "b"));
        assert_ne!(a.0, list(1, "c").0);
    }

    #[test]
    fn impossible_draws_name_the_setting() {
        let tmp = tempfile::tempdir().unwrap();
        let (train, test) = (idx(tmp.path(), "train", 20), idx(tmp.path(), "t10k", 4));
        let go = |c: LabelledWorldConfig| {
            let out = tmp.path().join("w");
            write_labelled_world(&train, &test, None, &c, &out, false, &NoProgress)
                .unwrap_err()
                .to_string()
        };
        assert!(go(LabelledWorldConfig { pretrain: 60, ..small() }).starts_with("pretrain = 60: "));
        assert!(go(LabelledWorldConfig { target: 3, ..small() }).starts_with("target = 3: "));
        let many = LabelledWorldConfig { target_images: 50, ..small() };
        assert!(go(many).contains("references + supports + target_images need 53"));
        assert!(!tmp.path().join("w").exists(), "nothing is left behind");
    }
}
