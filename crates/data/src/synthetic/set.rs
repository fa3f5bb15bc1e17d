//! The embedded labelled image set: splits, reference objects and backgrounds, all drawn
//! from a seed.
use std::path::PathBuf;

use corruptencoder_core::item_rng;
use image::RgbImage;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::objects::{self, ObjectClass};
use super::scene::{Scene, background, scene};
use super::texture::ClassTexture;
use crate::error::{Error, Result};
use crate::mask::Mask;
use crate::reference::{MaskSource, Reference};

/// Settings of the embedded synthetic image set (our own CPU demo data; no value from the paper).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyntheticConfig {
    /// Which world: `patterns` (the default) or `objects`.
    pub kind: SyntheticWorld,
    /// Number of object classes.
    pub classes: usize,
    /// Side of the square labelled images in pixels (64 by default; 32 for quick runs).
    pub size: u32,
    /// Side of reference images: larger than `size`, as real reference photos are larger
    /// than training crops, so the poisoned images keep object detail.
    pub reference_size: u32,
    /// Seed of every image; the class textures themselves do not depend on it.
    pub seed: u64,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        Self {
            kind: SyntheticWorld::default(),
            classes: 10,
            size: 64,
            reference_size: 128,
            seed: 0,
        }
    }
}

/// The kind of synthetic world: what tells its classes apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyntheticWorld {
    /// Textured blobs whose class is carried by pattern family, orientation, period and
    /// hue. Random convolutions already separate these classes (docs/study).
    #[default]
    Patterns,
    /// Objects told apart by surface texture (stripes, checker, dots, grid, rings, plain),
    /// its orientation and their outline (disc, triangle, square, star, cross), with
    /// colours, rotation, scale and position drawn alike for every class, on backgrounds
    /// with clutter and strokes; at most 20 classes.
    Objects,
}

impl SyntheticWorld {
    /// The name in configuration files.
    pub fn name(self) -> &'static str {
        match self {
            Self::Patterns => "patterns",
            Self::Objects => "objects",
        }
    }

    /// What tells its classes apart, for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Patterns => "texture-defined object classes",
            Self::Objects => "object classes told apart by silhouette and surface texture",
        }
    }
}

/// Which part of the synthetic world an image belongs to. Each has its own RNG stream, so
/// the parts never share an image and growing one leaves the others unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyntheticSplit {
    /// The unlabeled pre-training set (labels kept for diagnostics only).
    Pretrain,
    /// Training set of the downstream classifier.
    DownstreamTrain,
    /// Test set of the downstream classifier (clean and, triggered, for ASR).
    DownstreamTest,
}

impl SyntheticSplit {
    /// A short name for folders and manifests.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pretrain => "pretrain",
            Self::DownstreamTrain => "downstream-train",
            Self::DownstreamTest => "downstream-test",
        }
    }

    fn stream(self) -> u64 {
        match self {
            Self::Pretrain => 0x5100,
            Self::DownstreamTrain => 0x5101,
            Self::DownstreamTest => 0x5102,
        }
    }
}

const STREAM_REFERENCE: u64 = 0x5110;
const STREAM_BACKGROUND: u64 = 0x5111;
const STREAM_SUPPORT: u64 = 0x5112;

/// Objects cover a good share of a labelled image, as in ImageNet photos.
const RADIUS_LABELLED: (f64, f64) = (0.22, 0.38);
/// Reference photos frame the object closely, like the authors' references.
const RADIUS_REFERENCE: (f64, f64) = (0.32, 0.45);
/// The objects world's radii are circumradii of outlines that fill less of their circle
/// than the patterns world's blobs: the two ranges above, scaled (labelled images 0.30-0.46
/// of the side, references 0.43-0.46). Smaller objects (0.8-1.15 times) left an untrained
/// and a pre-trained encoder alike near chance in an early screen (docs/study/world.md).
const OBJECTS_RADIUS_SCALE: (f64, f64) = (1.35, 1.2);

/// One labelled synthetic image with its object mask.
#[derive(Debug, Clone)]
pub struct SyntheticSample {
    /// The picture.
    pub image: RgbImage,
    /// The object's exact mask.
    pub mask: Mask,
    /// Class index.
    pub label: usize,
}

/// Many labelled images with their class names.
#[derive(Debug, Clone)]
pub struct LabelledImages {
    /// The pictures.
    pub images: Vec<RgbImage>,
    /// Class index of each picture.
    pub labels: Vec<usize>,
    /// Name of each class index.
    pub class_names: Vec<String>,
}

/// The synthetic image world of one [`SyntheticConfig`].
///
/// Image `i` of a split has label `i % classes`, so any prefix of a split is balanced to
/// within one image per class, and is drawn from `item_rng(seed, split stream, i)`, so
/// images come out the same in any order or thread count.
#[derive(Debug, Clone)]
pub struct SyntheticSet {
    config: SyntheticConfig,
}

impl SyntheticSet {
    /// Checks the settings.
    pub fn new(config: SyntheticConfig) -> Result<Self> {
        let bad = |problem: &str| {
            Err(Error::Invalid { path: PathBuf::from("<synthetic>"), problem: problem.into() })
        };
        if config.classes == 0 {
            return bad("synthetic classes must be > 0");
        }
        if config.size < 16 || config.reference_size < 16 {
            return bad("synthetic image sizes must be at least 16 px");
        }
        if config.kind == SyntheticWorld::Objects && config.classes > ObjectClass::MAX_CLASSES {
            return bad(&format!(
                "the objects world has at most {} classes, not {}",
                ObjectClass::MAX_CLASSES,
                config.classes
            ));
        }
        Ok(Self { config })
    }

    /// The settings.
    pub fn config(&self) -> &SyntheticConfig {
        &self.config
    }

    /// Class names such as `c03-checker` (patterns) or `c03-star-stripes` (objects): index
    /// first, so sorting the names keeps class order (ImageFolder assigns labels by sorted
    /// folder name).
    pub fn class_names(&self) -> Vec<String> {
        let digits = (self.config.classes - 1).to_string().len().max(2);
        (0..self.config.classes)
            .map(|c| {
                let what = match self.config.kind {
                    SyntheticWorld::Patterns => {
                        ClassTexture::of_class(c, self.config.classes).pattern.name().to_string()
                    }
                    SyntheticWorld::Objects => ObjectClass::of_class(c).name(),
                };
                format!("c{c:0digits$}-{what}")
            })
            .collect()
    }

    /// One scene of this world's kind at `size` px holding an object of `class`.
    fn scene(
        &self,
        rng: &mut corruptencoder_core::Rng,
        size: u32,
        class: usize,
        radius: (f64, f64),
    ) -> Scene {
        match self.config.kind {
            SyntheticWorld::Patterns => scene(rng, size, size, class, self.config.classes, radius),
            SyntheticWorld::Objects => {
                // At most 0.46 of the side, so the whole outline fits in the image.
                let radius = (
                    radius.0 * OBJECTS_RADIUS_SCALE.0,
                    (radius.1 * OBJECTS_RADIUS_SCALE.1).min(0.46),
                );
                objects::scene(rng, size, size, class, radius)
            }
        }
    }

    /// The label of image `index` of any split.
    pub fn label_of(&self, index: usize) -> usize {
        index % self.config.classes
    }

    /// Image `index` of `split`.
    pub fn sample(&self, split: SyntheticSplit, index: usize) -> SyntheticSample {
        let label = self.label_of(index);
        let mut rng = item_rng(self.config.seed, split.stream(), index as u64);
        let s = self.scene(&mut rng, self.config.size, label, RADIUS_LABELLED);
        SyntheticSample { image: s.image, mask: s.mask, label }
    }

    /// Images `0..count` of `split`, generated in parallel.
    pub fn labelled(&self, split: SyntheticSplit, count: usize) -> LabelledImages {
        let (images, labels) = (0..count)
            .into_par_iter()
            .map(|i| {
                let s = self.sample(split, i);
                (s.image, s.label)
            })
            .unzip();
        LabelledImages { images, labels, class_names: self.class_names() }
    }

    /// `count` reference objects of class `class`: `reference_size` square photos with
    /// exact masks, ready for the CorruptEncoder generator. Their `path` and `source` say
    /// what [`super::write::write_references`] writes (`<name>.png` with a
    /// `<name>.mask.png`), so in-memory and reloaded references agree.
    pub fn references(&self, class: usize, count: usize) -> Result<Vec<Reference>> {
        if class >= self.config.classes {
            return Err(Error::Invalid {
                path: PathBuf::from("<synthetic>"),
                problem: format!("class {class} >= {} classes", self.config.classes),
            });
        }
        let names = self.class_names();
        let size = self.config.reference_size;
        Ok((0..count)
            .into_par_iter()
            .map(|k| {
                // Class in the high bits: reference k of a class is the same whatever `count` is.
                let index = ((class as u64) << 32) | k as u64;
                let mut rng = item_rng(self.config.seed, STREAM_REFERENCE, index);
                let s = self.scene(&mut rng, size, class, RADIUS_REFERENCE);
                let name = format!("{}-ref{k}", names[class]);
                Reference {
                    path: PathBuf::from(format!("{name}.png")),
                    name,
                    source: MaskSource::MaskImage,
                    image: s.image,
                    mask: s.mask,
                    object_box: s.object_box,
                }
            })
            .collect())
    }

    /// `count` further whole photos of class `class` at `reference_size`, named, for
    /// CorruptEncoder+'s support poisons (method.md section 3); drawn apart from the references.
    pub fn supports(&self, class: usize, count: usize) -> Result<Vec<(String, RgbImage)>> {
        let names = self.class_names();
        let name = names.get(class).ok_or_else(|| Error::Invalid {
            path: PathBuf::from("<synthetic>"),
            problem: format!("class {class} >= {} classes", self.config.classes),
        })?;
        let size = self.config.reference_size;
        Ok((0..count)
            .into_par_iter()
            .map(|k| {
                let index = ((class as u64) << 32) | k as u64;
                let mut rng = item_rng(self.config.seed, STREAM_SUPPORT, index);
                let s = self.scene(&mut rng, size, class, RADIUS_LABELLED);
                (format!("{name}-support{k}"), s.image)
            })
            .collect())
    }

    /// Background `index` of `width x height`: no object, only gradient, noise and clutter.
    pub fn background(&self, index: usize, width: u32, height: u32) -> RgbImage {
        let mut rng = item_rng(self.config.seed, STREAM_BACKGROUND, index as u64);
        let (w, h) = (width.max(1), height.max(1));
        match self.config.kind {
            SyntheticWorld::Patterns => background(&mut rng, w, h),
            SyntheticWorld::Objects => objects::background(&mut rng, w, h),
        }
    }

    /// Backgrounds `0..count`, generated in parallel.
    pub fn backgrounds(&self, count: usize, width: u32, height: u32) -> Vec<RgbImage> {
        (0..count).into_par_iter().map(|i| self.background(i, width, height)).collect()
    }
}
