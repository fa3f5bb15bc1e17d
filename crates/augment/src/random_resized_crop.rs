//! torchvision's RandomResizedCrop: the parameters and one-crop sampling; the per-image
//! set-up and the draws are `prepared_crop`'s.
use corruptencoder_core::Rng;
use serde::{Deserialize, Serialize};

use crate::crop_box::CropBox;
use crate::prepared_crop::PreparedCrop;

/// torchvision's `RandomResizedCrop.get_params`: area fraction `U(scale)`, log-uniform
/// aspect ratio, up to 10 tries, then the centre-crop fallback. Defaults: method.md section 6.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RandomResizedCrop {
    /// Range of the crop's area as a fraction of the image area (default 0.2-1, method.md section
    /// 6).
    pub scale: (f64, f64),
    /// Range of the crop's aspect ratio w/h (default 3/4-4/3).
    pub ratio: (f64, f64),
}

impl Default for RandomResizedCrop {
    fn default() -> Self {
        Self { scale: (0.2, 1.0), ratio: (3.0 / 4.0, 4.0 / 3.0) }
    }
}

impl RandomResizedCrop {
    /// Samples one crop of a `width x height` image.
    ///
    /// Crop sizes are drawn from the region of sizes torchvision's ten-try loop accepts,
    /// with the fallback at the loop's probability: the same law for fewer random numbers
    /// (see `crop_region`). Ranges that make that region degenerate run the loop itself.
    pub fn sample(&self, width: u32, height: u32, rng: &mut Rng) -> CropBox {
        self.prepare(width, height).sample(rng)
    }

    /// The sampler set up for a `width x height` image, for loops over many crops.
    pub(crate) fn prepare(&self, width: u32, height: u32) -> PreparedCrop {
        PreparedCrop::new(self.scale, self.ratio, width, height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prepared_crop::fallback_box;
    use corruptencoder_core::item_rng;

    #[test]
    fn crops_stay_inside_and_respect_scale_and_ratio() {
        let c = RandomResizedCrop::default();
        let mut rng = item_rng(1, 0, 0);
        let mut fallbacks = 0;
        for _ in 0..20_000 {
            let b = c.sample(300, 200, &mut rng);
            assert!(b.x + b.w <= 300 && b.y + b.h <= 200 && b.w > 0 && b.h > 0);
            let frac = b.area() as f64 / 60_000.0;
            let ar = f64::from(b.w) / f64::from(b.h);
            if b == fallback_box(c.ratio, 300, 200) {
                fallbacks += 1;
                continue;
            }
            // Rounding to whole pixels moves area and ratio by a little.
            assert!((0.19..=1.01).contains(&frac), "{frac}");
            assert!((0.74..=1.35).contains(&ar), "{ar}");
        }
        assert!(fallbacks < 2000, "{fallbacks}");
    }

    #[test]
    fn scale_and_log_ratio_histograms_are_flat() {
        // Below scale 0.75 no draw on a square image is rejected (0.75 * 4/3 = 1), so area
        // fraction and log aspect ratio must both be uniform there, as in torchvision.
        let c = RandomResizedCrop::default();
        let mut rng = item_rng(9, 0, 0);
        let (mut scale_bins, mut ratio_bins) = ([0u32; 5], [0u32; 5]);
        for _ in 0..40_000 {
            let b = c.sample(1000, 1000, &mut rng);
            let frac = b.area() as f64 / 1e6;
            if frac >= 0.75 {
                continue;
            }
            scale_bins[(((frac - 0.2) / 0.11) as usize).min(4)] += 1;
            let t = ((f64::from(b.w) / f64::from(b.h)).ln() - c.ratio.0.ln())
                / (c.ratio.1 / c.ratio.0).ln();
            ratio_bins[((t * 5.0) as usize).min(4)] += 1;
        }
        for bins in [scale_bins, ratio_bins] {
            let mean = f64::from(bins.iter().sum::<u32>()) / 5.0;
            for n in bins {
                assert!((f64::from(n) / mean - 1.0).abs() < 0.06, "{bins:?}");
            }
        }
    }

    #[test]
    fn fallback_is_centred_and_ratio_clamped() {
        let c = RandomResizedCrop::default();
        assert_eq!(fallback_box(c.ratio, 1000, 100), CropBox { x: 433, y: 0, w: 133, h: 100 });
        assert_eq!(fallback_box(c.ratio, 100, 100), CropBox { x: 0, y: 0, w: 100, h: 100 });
        // An impossible scale forces the fallback every time.
        let never = RandomResizedCrop { scale: (2.0, 3.0), ..c };
        assert_eq!(
            never.sample(100, 1000, &mut item_rng(0, 0, 0)),
            fallback_box(c.ratio, 100, 1000)
        );
    }
}
