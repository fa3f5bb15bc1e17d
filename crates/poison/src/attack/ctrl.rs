//! CTRL (Li et al., ICCV 2023; method.md section 5): the frequency trigger on target-class
//! images.
use corruptencoder_core::{Rng, SettingError};
use corruptencoder_data::ImageLimits;
use corruptencoder_data::{Filter, resize_rgb};

use serde::{Deserialize, Serialize};

use super::base::{Attack, PoisonItem, PoisonKind};
use crate::error::Result;
use crate::target::TargetImages;
use crate::trigger::FrequencyTrigger;

/// Largest DCT block side (CTRL uses 32).
const MAX_WINDOW: usize = 1024;

/// Options of CTRL (method.md section 5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CtrlConfig {
    /// Added to each triggered DCT coefficient (CTRL uses 50-100; 100 here).
    pub magnitude: f64,
    /// DCT block side (32).
    pub window: usize,
    /// `(row, column)` frequencies within a block that get the magnitude, in U and V.
    pub positions: Vec<[usize; 2]>,
    /// Resize target images to `size x size` (bilinear) before triggering, as CTRL trains at
    /// a fixed resolution; `None` keeps each image's size.
    pub image_size: Option<u32>,
}

impl Default for CtrlConfig {
    fn default() -> Self {
        Self { magnitude: 100.0, window: 32, positions: vec![[15, 15], [31, 31]], image_size: None }
    }
}

impl CtrlConfig {
    /// Checks the block side, the magnitude and the positions.
    pub fn validate(&self) -> std::result::Result<(), SettingError> {
        // The DCT is planned for the window before any image is seen; a block larger than
        // any image would only exhaust memory.
        if self.window > MAX_WINDOW {
            let problem = format!("is above the largest block side, {MAX_WINDOW}");
            return Err(SettingError::new("window", self.window, problem));
        }
        FrequencyTrigger::check(self.window, self.magnitude, &self.positions)
    }

    /// The trigger these options describe.
    pub fn trigger(&self) -> Result<FrequencyTrigger> {
        self.validate()?;
        FrequencyTrigger::new(self.window, self.magnitude, self.positions.clone())
    }
}

/// CTRL with its target images (one poison per image).
#[derive(Debug)]
pub struct Ctrl {
    config: CtrlConfig,
    trigger: FrequencyTrigger,
    targets: TargetImages,
    limits: ImageLimits,
}

impl Ctrl {
    /// Validates the options and plans the DCT.
    pub fn new(config: CtrlConfig, targets: TargetImages, limits: ImageLimits) -> Result<Self> {
        // Checked here, before any output exists: a 0 side panicked in the PNG encoder,
        // and a huge one allocates before decoding could fail.
        if let Some(s) = config.image_size {
            if s == 0 {
                return Err(SettingError::new("image_size", s, "must be at least 1").into());
            }
            limits.check_size("image_size", s, s)?;
        }
        let trigger = config.trigger()?;
        Ok(Self { config, trigger, targets, limits })
    }
}

impl Attack for Ctrl {
    fn name(&self) -> &'static str {
        "ctrl"
    }

    fn len(&self) -> usize {
        self.targets.len()
    }

    fn poison(&self, index: usize, _rng: &mut Rng) -> Result<PoisonItem> {
        let mut image = self.targets.load(index, &self.limits)?;
        if let Some(s) = self.config.image_size {
            image = resize_rgb(&image, s, s, Filter::Bilinear);
        }
        Ok(PoisonItem {
            image: self.trigger.apply(&image),
            kind: PoisonKind::new("ctrl"),
            reference: Some(self.targets.name(index)),
            background: None,
            layout: None,
            object_box: None,
            trigger_box: None,
            caption: None,
        })
    }
}
