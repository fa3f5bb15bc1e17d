//! SSL-Backdoor (Saha et al., CVPR 2022; SPEC section 5): the trigger pasted opaquely on
//! target-class images, at a random spot of the image's central band.
use corruptencoder_core::{Rng, uniform_int};
use corruptencoder_data::{ImageLimits, PixelBox};
use image::RgbImage;
use serde::{Deserialize, Serialize};

use super::base::{Attack, PoisonItem, PoisonKind};
use crate::error::{Error, Result};
use crate::target::TargetImages;
use crate::trigger::paste;

/// Options of SSL-Backdoor (SPEC section 5).
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

/// Band placement shared with the test sets: `randint(band * W, (1 - band) * W - w)`,
/// clamped into the image. Errors (with `what` naming the image) when the patch is larger
/// than the image; a band too narrow for the patch falls back to its low end.
pub(crate) fn band_position(
    rng: &mut Rng,
    image: (u32, u32),
    patch: (u32, u32),
    band: f64,
    what: impl FnOnce() -> (usize, String),
) -> Result<(u32, u32)> {
    let (w, h) = image;
    let (t_w, t_h) = patch;
    if t_w > w || t_h > h {
        let (index, reference) = what();
        return Err(Error::TriggerDoesNotFit {
            index,
            reference,
            trigger_w: t_w,
            trigger_h: t_h,
            free_w: w,
            free_h: h,
        });
    }
    let mut axis = |len: u32, t: u32| {
        let lo = (band * f64::from(len)) as i64;
        let hi = ((1.0 - band) * f64::from(len)) as i64 - i64::from(t);
        uniform_int(rng, lo, hi).clamp(0, i64::from(len - t)) as u32
    };
    let x = axis(w, t_w);
    let y = axis(h, t_h);
    Ok((x, y))
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
            return Err(Error::InvalidOption {
                name: "--band",
                problem: "must be in [0, 0.5)".into(),
            });
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
        let (x, y) = band_position(rng, image.dimensions(), (t_w, t_h), self.config.band, || {
            (index, name.clone())
        })?;
        paste(&mut image, &self.trigger, x, y);
        Ok(PoisonItem {
            image,
            kind: PoisonKind::SslBackdoor,
            reference: Some(name),
            background: None,
            layout: None,
            object_box: None,
            trigger_box: Some(PixelBox { x, y, w: t_w, h: t_h }),
            caption: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_stay_in_the_band_and_in_the_image() {
        let mut rng = corruptencoder_core::item_rng(0, 0, 0);
        for _ in 0..500 {
            let (x, y) =
                band_position(&mut rng, (224, 70), (40, 40), 0.25, || (0, String::new())).unwrap();
            assert!((56..=128).contains(&x), "{x}");
            // int(0.75 * 70) - 40 = 12 < 17: the band is too narrow, so y is its low end.
            assert_eq!(y, 17);
        }
        let err = band_position(&mut rng, (30, 30), (40, 40), 0.25, || (3, "small.png".into()))
            .unwrap_err();
        assert!(err.to_string().contains("small.png"), "{err}");
    }
}
