//! SSL-Backdoor (Saha et al., CVPR 2022; method.md section 5): the trigger pasted opaquely on
//! target-class images, at a random spot of the image's central band.
use corruptencoder_core::{Rng, SettingError};
use corruptencoder_data::{ImageLimits, PixelBox};
use image::RgbImage;
use serde::{Deserialize, Serialize};

use super::base::{Attack, PoisonItem, PoisonKind};
use crate::error::Result;
use crate::target::TargetImages;
use crate::trigger::{band_position, paste};

/// Options of SSL-Backdoor (method.md section 5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SslBackdoorConfig {
    /// Trigger width in pixels, aspect kept (50 in the authors' config).
    pub trigger_width: u32,
    /// The trigger's top-left corner lies in `[band W, (1 - band) W - w]` (0.25).
    pub band: f64,
}

impl Default for SslBackdoorConfig {
    fn default() -> Self {
        Self { trigger_width: 50, band: 0.25 }
    }
}

/// SSL-Backdoor with its target images (already chosen: one poison per image) and trigger.
#[derive(Debug)]
pub struct SslBackdoor {
    config: SslBackdoorConfig,
    targets: TargetImages,
    trigger: RgbImage,
    limits: ImageLimits,
}

impl SslBackdoor {
    /// `trigger` is already `trigger_width` wide (see `TriggerSource::load_width`).
    pub fn new(
        config: SslBackdoorConfig,
        targets: TargetImages,
        trigger: RgbImage,
        limits: ImageLimits,
    ) -> Result<Self> {
        if !(0.0..0.5).contains(&config.band) {
            return Err(SettingError::new("band", config.band, "must be in [0, 0.5)").into());
        }
        if targets.is_empty() {
            return Err(SettingError::new("num_poisons", 0, "no target-class image chosen").into());
        }
        Ok(Self { config, targets, trigger, limits })
    }

    /// The options.
    pub fn config(&self) -> &SslBackdoorConfig {
        &self.config
    }
}

impl Attack for SslBackdoor {
    fn name(&self) -> &'static str {
        "ssl-backdoor"
    }

    fn len(&self) -> usize {
        self.targets.len()
    }

    fn poison(&self, index: usize, rng: &mut Rng) -> Result<PoisonItem> {
        let mut image = self.targets.load(index, &self.limits)?;
        let name = self.targets.name(index);
        let (t_w, t_h) = self.trigger.dimensions();
        let what = || format!("poison {index} (target image {name})");
        let (x, y) = band_position(
            rng,
            image.dimensions(),
            (t_w, t_h),
            self.config.band,
            "trigger_width",
            what,
        )?;
        paste(&mut image, &self.trigger, x, y);
        Ok(PoisonItem {
            image,
            kind: PoisonKind::new("ssl-backdoor"),
            reference: Some(name),
            background: None,
            layout: None,
            object_box: None,
            trigger_box: Some(PixelBox { x, y, w: t_w, h: t_h }),
            caption: None,
        })
    }
}
