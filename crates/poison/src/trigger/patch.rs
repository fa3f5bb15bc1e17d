//! The trigger patch pasted into poisons and triggered test images, and where it goes.
use std::path::PathBuf;

use corruptencoder_core::{Rng, SettingError, uniform_int};
use corruptencoder_data::{Filter, ImageLimits, load_rgb, resize_rgb};
use image::imageops;
use image::{Rgb, RgbImage};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A trigger side of 0, or one whose square is over the image limit, is an error naming
/// the setting `key`, before anything of that size is allocated.
fn check_side(key: &'static str, side: u32, limits: &ImageLimits) -> Result<()> {
    if side == 0 {
        return Err(SettingError::new(key, 0, "must be at least 1").into());
    }
    limits.check_size(key, side, side)?;
    Ok(())
}

/// Where the trigger comes from (method.md section 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TriggerSource {
    /// An image file, resized to the trigger size (bicubic).
    File(PathBuf),
    /// A plain white square.
    White,
}

impl std::str::FromStr for TriggerSource {
    type Err = std::convert::Infallible;
    /// `white` is the white square; anything else is a path.
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(if s == "white" { Self::White } else { Self::File(PathBuf::from(s)) })
    }
}

impl TriggerSource {
    /// The trigger as a `size x size` patch (the authors resize the 80 px
    /// `trigger_10.png` to 40 px, bicubic).
    /// `size` is the `trigger_size` setting: 0 or a square over `limits` is an error.
    pub fn load(&self, size: u32, limits: &ImageLimits) -> Result<RgbImage> {
        check_side("trigger_size", size, limits)?;
        Ok(match self {
            Self::White => RgbImage::from_pixel(size, size, Rgb([255, 255, 255])),
            Self::File(path) => {
                let img = load_rgb(path, limits)?;
                if img.dimensions() == (size, size) {
                    img
                } else {
                    resize_rgb(&img, size, size, Filter::Bicubic)
                }
            }
        })
    }
}

impl TriggerSource {
    /// The trigger resized to `width` px wide, keeping its aspect ratio (SSL-Backdoor's
    /// trigger width option); the white trigger is a `width x width` square.
    /// `width` is the `trigger_width` setting: 0 or a patch over `limits` is an error.
    pub fn load_width(&self, width: u32, limits: &ImageLimits) -> Result<RgbImage> {
        check_side("trigger_width", width, limits)?;
        let Self::File(path) = self else {
            return Ok(RgbImage::from_pixel(width, width, Rgb([255, 255, 255])));
        };
        let img = load_rgb(path, limits)?;
        let (w, h) = img.dimensions();
        let height = f64::from(width) * f64::from(h) / f64::from(w);
        let height = height.round().clamp(1.0, f64::from(u32::MAX)) as u32;
        limits.check_size("trigger_width", width, height)?;
        Ok(if (w, h) == (width, height) {
            img
        } else {
            resize_rgb(&img, width, height, Filter::Bicubic)
        })
    }
}

/// Pastes `patch` opaquely with its top-left corner at (`x`, `y`). The caller guarantees the
/// patch fits; the copy is clipped to the image all the same, so it cannot write outside.
pub fn paste(image: &mut RgbImage, patch: &RgbImage, x: u32, y: u32) {
    imageops::replace(image, patch, i64::from(x), i64::from(y));
}

/// Band placement of SSL-Backdoor's poisons and of the triggered test sets:
/// `randint(band * W, (1 - band) * W - w)`, clamped into the image. Errors (with `what`
/// describing the image and `key` the setting that sized the trigger) when the patch is
/// larger than the image; a band too narrow for the patch falls back to its low end.
pub(crate) fn band_position(
    rng: &mut Rng,
    image: (u32, u32),
    patch: (u32, u32),
    band: f64,
    key: &'static str,
    what: impl FnOnce() -> String,
) -> Result<(u32, u32)> {
    let (w, h) = image;
    let (t_w, t_h) = patch;
    if t_w > w || t_h > h {
        return Err(Error::TriggerTooLarge {
            image: what(),
            width: w,
            height: h,
            trigger_w: t_w,
            trigger_h: t_h,
            key,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_trigger_and_paste() {
        let t = TriggerSource::White.load(3, &ImageLimits::default()).unwrap();
        let mut img = RgbImage::new(5, 5);
        paste(&mut img, &t, 2, 2);
        assert_eq!(img.get_pixel(2, 2), &Rgb([255, 255, 255]));
        assert_eq!(img.get_pixel(4, 4), &Rgb([255, 255, 255]));
        assert_eq!(img.get_pixel(1, 2), &Rgb([0, 0, 0]));
        assert_eq!("white".parse::<TriggerSource>().unwrap(), TriggerSource::White);
    }

    #[test]
    fn positions_stay_in_the_band_and_in_the_image() {
        let mut rng = corruptencoder_core::item_rng(0, 0, 0);
        for _ in 0..500 {
            let (x, y) =
                band_position(&mut rng, (224, 70), (40, 40), 0.25, "-", String::new).unwrap();
            assert!((56..=128).contains(&x), "{x}");
            // int(0.75 * 70) - 40 = 12 < 17: the band is too narrow, so y is its low end.
            assert_eq!(y, 17);
        }
        let err = band_position(&mut rng, (30, 30), (40, 40), 0.25, "trigger_size", || {
            "small.png".into()
        })
        .unwrap_err();
        assert!(err.to_string().contains("small.png"), "{err}");
        assert!(err.to_string().contains("`trigger_size`"), "{err}");
    }

    #[test]
    fn trigger_sizes_are_checked_before_allocating() {
        let limits = ImageLimits::default();
        for (size, word) in [(0, "at least 1"), (100_000, "over the limit")] {
            let err = TriggerSource::White.load(size, &limits).unwrap_err().to_string();
            assert!(err.starts_with("trigger_size = ") && err.contains(word), "{err}");
            let err = TriggerSource::White.load_width(size, &limits).unwrap_err().to_string();
            assert!(err.starts_with("trigger_width = ") && err.contains(word), "{err}");
        }
        assert_eq!(TriggerSource::White.load_width(7, &limits).unwrap().dimensions(), (7, 7));
    }
}
