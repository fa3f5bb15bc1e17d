//! Carlini & Terzis (ICLR 2022; method.md section 5) for CLIP: images with a small patch trigger
//! at a random location, each paired with a caption naming the target class.
use std::path::PathBuf;

use corruptencoder_core::{Rng, SettingError, uniform_int};
use corruptencoder_data::{ImageLimits, PixelBox, load_rgb};
use image::RgbImage;
use serde::{Deserialize, Serialize};

use super::base::{Attack, PoisonItem, PoisonKind};
use crate::captions::CaptionTemplates;
use crate::error::Result;
use crate::target::DEFAULT_POISONS;
use crate::testset::resize_center_crop;
use crate::trigger::paste;

/// Options of the Carlini-Terzis CLIP poisons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClipCarliniConfig {
    /// Number of image-caption pairs (650).
    /// Set by the budget (the command line's count or ratio, an experiment's
    /// `poison_ratio`), so not a setting in files.
    #[serde(skip)]
    pub num_poisons: usize,
    /// Trigger side in pixels (16, Carlini & Terzis' patch on 224 px images).
    pub trigger_size: u32,
    /// Images are resized (shorter side) and centre-cropped to this square (224, CLIP's input).
    pub image_size: u32,
    /// The target class as captions name it (method.md section 7's default target).
    pub class_name: String,
    /// Caption templates with `{class}`.
    pub templates: CaptionTemplates,
}

impl Default for ClipCarliniConfig {
    fn default() -> Self {
        Self {
            num_poisons: DEFAULT_POISONS,
            trigger_size: 16,
            image_size: 224,
            class_name: "African hunting dog".into(),
            templates: CaptionTemplates::default(),
        }
    }
}

/// Checks options shared by the CLIP attacks: the image size first, since the trigger is
/// judged against it.
pub(crate) fn check_clip(
    templates: &CaptionTemplates,
    image_size: u32,
    trigger: &RgbImage,
    limits: &ImageLimits,
) -> Result<()> {
    if image_size == 0 {
        return Err(SettingError::new("image_size", 0, "must be at least 1").into());
    }
    limits.check_size("image_size", image_size, image_size)?;
    templates.validate()?;
    if trigger.width() > image_size || trigger.height() > image_size {
        let problem = format!("does not fit {image_size} px images (`image_size`)");
        return Err(SettingError::new("trigger_size", trigger.width(), problem).into());
    }
    Ok(())
}

/// The Carlini-Terzis attack with its images and trigger.
#[derive(Debug)]
pub struct ClipCarlini {
    config: ClipCarliniConfig,
    images: Vec<PathBuf>,
    trigger: RgbImage,
    limits: ImageLimits,
}

impl ClipCarlini {
    /// `images` (any natural images) are used in order, each once per cycle.
    pub fn new(
        config: ClipCarliniConfig,
        images: Vec<PathBuf>,
        trigger: RgbImage,
        limits: ImageLimits,
    ) -> Result<Self> {
        check_clip(&config.templates, config.image_size, &trigger, &limits)?;
        if images.is_empty() {
            return Err(SettingError::new("backgrounds", "[]", "no images given").into());
        }
        if config.num_poisons > crate::target::MAX_POISONS {
            let problem = format!("must be at most {}", crate::target::MAX_POISONS);
            return Err(SettingError::new("num_poisons", config.num_poisons, problem).into());
        }
        Ok(Self { config, images, trigger, limits })
    }
}

impl Attack for ClipCarlini {
    fn name(&self) -> &'static str {
        "clip-carlini"
    }

    fn len(&self) -> usize {
        self.config.num_poisons
    }

    fn poison(&self, index: usize, rng: &mut Rng) -> Result<PoisonItem> {
        let path = &self.images[index % self.images.len()];
        let s = self.config.image_size;
        let mut image =
            resize_center_crop(&load_rgb(path, &self.limits)?, s, s, &path.display().to_string())?;
        let (t_w, t_h) = self.trigger.dimensions();
        // Anywhere in the image, as Carlini & Terzis place their patch.
        let x = uniform_int(rng, 0, i64::from(s - t_w)) as u32;
        let y = uniform_int(rng, 0, i64::from(s - t_h)) as u32;
        paste(&mut image, &self.trigger, x, y);
        Ok(PoisonItem {
            image,
            kind: PoisonKind::new("clip-carlini"),
            reference: None,
            background: path.file_name().map(|n| n.to_string_lossy().into_owned()),
            layout: None,
            object_box: None,
            trigger_box: Some(PixelBox { x, y, w: t_w, h: t_h }),
            caption: Some(self.config.templates.caption(&self.config.class_name, rng)),
        })
    }
}
