//! PoisonedEncoder (Liu, Jia, Gong, USENIX Security 2022; method.md section 5): a
//! trigger-bearing image side by side with a target-class reference image.
use std::path::PathBuf;

use corruptencoder_core::{Rng, SettingError};
use corruptencoder_data::{Filter, ImageLimits, PixelBox, load_rgb, resize_rgb};
use image::RgbImage;

use rand::Rng as _;
use serde::{Deserialize, Serialize};

use super::base::{Attack, PoisonItem, PoisonKind};

use crate::error::Result;
use crate::target::{DEFAULT_POISONS, MAX_POISONS, TargetImages};
use crate::trigger::{band_position, paste};

/// Options of PoisonedEncoder (method.md section 5). Sizes follow CorruptEncoder+'s support
/// images (method.md section 3) so the two side-by-side attacks are comparable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PoisonedEncoderConfig {
    /// Number of poisons (650, as CorruptEncoder).
    /// Set by the budget (the command line's count or ratio, an experiment's
    /// `poison_ratio`), so not a setting in files.
    #[serde(skip)]
    pub num_poisons: usize,
    /// Trigger side in pixels (40).
    pub trigger_size: u32,
    /// Each half is at most this wide (400: half of CorruptEncoder's `max_size`).
    pub max_width: u32,
    /// The trigger lies in the central band `[band, 1 - band]` of its half (0.25).
    pub band: f64,
}

impl Default for PoisonedEncoderConfig {
    fn default() -> Self {
        Self { num_poisons: DEFAULT_POISONS, trigger_size: 40, max_width: 400, band: 0.25 }
    }
}

/// PoisonedEncoder with its inputs.
#[derive(Debug)]
pub struct PoisonedEncoder {
    config: PoisonedEncoderConfig,
    references: TargetImages,
    backgrounds: Vec<PathBuf>,
    trigger: RgbImage,
    limits: ImageLimits,
}

impl PoisonedEncoder {
    /// `references` are drawn at random for each poison; `backgrounds` carry the trigger,
    /// used in order, each once per cycle.
    pub fn new(
        config: PoisonedEncoderConfig,
        references: TargetImages,
        backgrounds: Vec<PathBuf>,
        trigger: RgbImage,
        limits: ImageLimits,
    ) -> Result<Self> {
        let bad = |key, value: &dyn std::fmt::Display, problem: &str| {
            Err(SettingError::new(key, value, problem).into())
        };
        if references.is_empty() {
            return bad("references", &"[]", "no target-class reference images");
        }
        if backgrounds.is_empty() {
            return bad("backgrounds", &"[]", "no background images given");
        }
        if config.max_width == 0 {
            return bad("max_width", &0, "must be at least 1");
        }
        if !(0.0..0.5).contains(&config.band) {
            return bad("band", &config.band, "must be in [0, 0.5)");
        }
        if config.num_poisons > MAX_POISONS {
            let problem = format!("must be at most {MAX_POISONS}");
            return bad("num_poisons", &config.num_poisons, &problem);
        }
        // Each half is at most `max_width` wide: a wider trigger can never fit.
        if trigger.width() > config.max_width {
            let problem =
                format!("does not fit halves at most {} px wide (`max_width`)", config.max_width);
            return bad("trigger_size", &trigger.width(), &problem);
        }
        Ok(Self { config, references, backgrounds, trigger, limits })
    }
}

impl Attack for PoisonedEncoder {
    fn name(&self) -> &'static str {
        "poisoned-encoder"
    }

    fn len(&self) -> usize {
        self.config.num_poisons
    }

    fn poison(&self, index: usize, rng: &mut Rng) -> Result<PoisonItem> {
        let k = rng.random_range(0..self.references.len());
        let reference = self.references.load(k, &self.limits)?;
        let (w, h) = reference.dimensions();
        let n_w = w.min(self.config.max_width).max(1);
        let n_h = ((f64::from(n_w) / f64::from(w) * f64::from(h)) as u32).max(1);
        let reference = resize_rgb(&reference, n_w, n_h, Filter::Bicubic);
        let bg_path = &self.backgrounds[index % self.backgrounds.len()];
        let mut triggered =
            resize_rgb(&load_rgb(bg_path, &self.limits)?, n_w, n_h, Filter::Bicubic);
        let name = self.references.name(k);
        let (t_x, t_y) = band_position(
            rng,
            (n_w, n_h),
            self.trigger.dimensions(),
            self.config.band,
            "trigger_size",
            || format!("poison {index}'s half with background {}", bg_path.display()),
        )?;
        paste(&mut triggered, &self.trigger, t_x, t_y);

        let reference_left = rng.random_bool(0.5);
        let mut canvas = RgbImage::new(2 * n_w, n_h);
        let (ref_x, trig_x) = if reference_left { (0, n_w) } else { (n_w, 0) };
        paste(&mut canvas, &reference, ref_x, 0);
        paste(&mut canvas, &triggered, trig_x, 0);
        let (t_w, t_h) = self.trigger.dimensions();
        Ok(PoisonItem {
            image: canvas,
            kind: PoisonKind::new("poisoned-encoder"),
            reference: Some(name),
            background: bg_path.file_name().map(|n| n.to_string_lossy().into_owned()),
            layout: None,
            object_box: Some(PixelBox { x: ref_x, y: 0, w: n_w, h: n_h }),
            trigger_box: Some(PixelBox { x: trig_x + t_x, y: t_y, w: t_w, h: t_h }),
            caption: None,
        })
    }
}
