//! CorruptEncoder for CLIP (method.md section 5): target-class captions paired both with
//! reference-object images and with trigger-bearing images, so the text bridges trigger
//! and object.
use std::path::PathBuf;

use corruptencoder_core::{Rng, SettingError};
use corruptencoder_data::{ImageLimits, PixelBox, Reference, load_rgb};
use image::{RgbImage, imageops};
use rand::Rng as _;
use serde::{Deserialize, Serialize};

use super::base::{Attack, PoisonItem, PoisonKind};
use super::clip_carlini::check_clip;

use crate::captions::CaptionTemplates;
use crate::error::Result;
use crate::target::{DEFAULT_POISONS, MAX_POISONS};
use crate::testset::resize_center_crop;
use crate::trigger::{band_position, paste};

/// Options of CorruptEncoder's CLIP poisons. The split and sizes are our choices where the
/// paper gives none: half the pairs carry the object, half the trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClipCorruptEncoderConfig {
    /// Number of image-caption pairs (650).
    /// Set by the budget (the command line's count or ratio, an experiment's
    /// `poison_ratio`), so not a setting in files.
    #[serde(skip)]
    pub num_poisons: usize,
    /// Fraction of pairs whose image is a reference object (0.5); the first ones.
    pub reference_ratio: f64,
    /// Trigger side in pixels (16, as the Carlini-Terzis baseline on 224 px images).
    pub trigger_size: u32,
    /// Trigger-bearing images are resized and centre-cropped to this square (224).
    pub image_size: u32,
    /// The trigger lies in the central band `[band, 1 - band]` (0.25, as the test sets).
    pub band: f64,
    /// The target class as captions name it.
    pub class_name: String,
    /// Caption templates with `{class}`.
    pub templates: CaptionTemplates,
}

impl Default for ClipCorruptEncoderConfig {
    fn default() -> Self {
        Self {
            num_poisons: DEFAULT_POISONS,
            reference_ratio: 0.5,
            trigger_size: 16,
            image_size: 224,
            band: 0.25,
            class_name: "African hunting dog".into(),
            templates: CaptionTemplates::default(),
        }
    }
}

/// CorruptEncoder-for-CLIP with its inputs.
#[derive(Debug)]
pub struct ClipCorruptEncoder {
    config: ClipCorruptEncoderConfig,
    objects: Vec<(String, RgbImage)>,
    backgrounds: Vec<PathBuf>,
    trigger: RgbImage,
    limits: ImageLimits,
}

impl ClipCorruptEncoder {
    /// `objects` are reference objects cut to their boxes (name, image); `backgrounds`
    /// carry the trigger, used in order.
    pub fn new(
        config: ClipCorruptEncoderConfig,
        objects: Vec<(String, RgbImage)>,
        backgrounds: Vec<PathBuf>,
        trigger: RgbImage,
        limits: ImageLimits,
    ) -> Result<Self> {
        check_clip(&config.templates, config.image_size, &trigger, &limits)?;
        let bad = |key, value: &dyn std::fmt::Display, problem: &str| {
            Err(SettingError::new(key, value, problem).into())
        };
        if !(0.0..=1.0).contains(&config.reference_ratio) {
            return bad("reference_ratio", &config.reference_ratio, "must be in [0, 1]");
        }
        let n_ref = config.num_references();
        if n_ref > 0 && objects.is_empty() {
            return bad("references", &"[]", "no reference objects given");
        }
        if n_ref < config.num_poisons && backgrounds.is_empty() {
            return bad("backgrounds", &"[]", "no background images given");
        }
        if !(0.0..0.5).contains(&config.band) {
            return bad("band", &config.band, "must be in [0, 0.5)");
        }
        if config.num_poisons > MAX_POISONS {
            let problem = format!("must be at most {MAX_POISONS}");
            return bad("num_poisons", &config.num_poisons, &problem);
        }
        Ok(Self { config, objects, backgrounds, trigger, limits })
    }
}

/// The reference objects of `references`, each cut to its object's box (name, image).
pub fn reference_objects(references: &[Reference]) -> Vec<(String, RgbImage)> {
    references
        .iter()
        .map(|r| {
            let b = r.object_box;
            (r.name.clone(), imageops::crop_imm(&r.image, b.x, b.y, b.w, b.h).to_image())
        })
        .collect()
}

impl ClipCorruptEncoderConfig {
    /// How many pairs carry a reference object.
    pub fn num_references(&self) -> usize {
        (self.num_poisons as f64 * self.reference_ratio).round() as usize
    }
}

impl Attack for ClipCorruptEncoder {
    fn name(&self) -> &'static str {
        "clip-corruptencoder"
    }

    fn len(&self) -> usize {
        self.config.num_poisons
    }

    fn poison(&self, index: usize, rng: &mut Rng) -> Result<PoisonItem> {
        let c = &self.config;
        let n_ref = c.num_references();
        let mut item = PoisonItem {
            image: RgbImage::new(1, 1),
            kind: PoisonKind::new("clip-corruptencoder"),
            reference: None,
            background: None,
            layout: None,
            object_box: None,
            trigger_box: None,
            caption: None,
        };
        if index < n_ref {
            let (name, object) = &self.objects[rng.random_range(0..self.objects.len())];
            item.object_box = Some(PixelBox { x: 0, y: 0, w: object.width(), h: object.height() });
            item.image = object.clone();
            item.reference = Some(name.clone());
        } else {
            let path = &self.backgrounds[(index - n_ref) % self.backgrounds.len()];
            let name = path.display().to_string();
            let s = c.image_size;
            let mut image = resize_center_crop(&load_rgb(path, &self.limits)?, s, s, &name)?;
            let (t_w, t_h) = self.trigger.dimensions();
            let what = || format!("poison {index} (background {name})");
            let (x, y) = band_position(rng, (s, s), (t_w, t_h), c.band, "trigger_size", what)?;
            paste(&mut image, &self.trigger, x, y);
            item.image = image;
            item.trigger_box = Some(PixelBox { x, y, w: t_w, h: t_h });
            item.background = path.file_name().map(|n| n.to_string_lossy().into_owned());
        }
        item.caption = Some(c.templates.caption(&c.class_name, rng));
        Ok(item)
    }
}
