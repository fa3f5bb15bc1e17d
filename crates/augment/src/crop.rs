use corruptencoder_core::Rng;
use serde::{Deserialize, Serialize};

use crate::draws::up_to;
use crate::localized_crop::{LocalizedCrop, PreparedLocalized};
use crate::prepared_crop::PreparedCrop;

/// A crop window in pixel coordinates: columns `x..x+w`, rows `y..y+h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CropBox {
    /// Left column.
    pub x: u32,
    /// Top row.
    pub y: u32,
    /// Width in pixels (at least 1).
    pub w: u32,
    /// Height in pixels (at least 1).
    pub h: u32,
}

impl CropBox {
    /// Area in pixels.
    #[inline]
    pub fn area(&self) -> u64 {
        u64::from(self.w) * u64::from(self.h)
    }

    /// Whether `other` lies entirely inside this box.
    #[inline]
    pub fn contains(&self, other: &CropBox) -> bool {
        // `&`, not `&&`: the layout Monte Carlo calls this per view, and one branch on the
        // combined test predicts better than four.
        (other.x >= self.x)
            & (other.y >= self.y)
            & (other.x + other.w <= self.x + self.w)
            & (other.y + other.h <= self.y + self.h)
    }

    /// Area of the intersection with `other`.
    #[inline]
    pub fn overlap(&self, other: &CropBox) -> u64 {
        let x0 = self.x.max(other.x);
        let y0 = self.y.max(other.y);
        let x1 = (self.x + self.w).min(other.x + other.w);
        let y1 = (self.y + self.h).min(other.y + other.h);
        // Saturating: an empty side gives 0 without a branch.
        u64::from(x1.saturating_sub(x0)) * u64::from(y1.saturating_sub(y0))
    }
}

/// torchvision's `RandomResizedCrop.get_params`: area fraction `U(scale)`, log-uniform
/// aspect ratio, up to 10 tries, then the centre-crop fallback. Defaults: SPEC section 6.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RandomResizedCrop {
    /// Range of the crop's area as a fraction of the image area (default 0.2-1, SPEC 6).
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
        PreparedCrop::new(self, width, height).sample(rng)
    }

    /// torchvision's centre crop after ten failed tries, clamped to the ratio range.
    pub(crate) fn fallback(&self, width: u32, height: u32) -> CropBox {
        let in_ratio = f64::from(width) / f64::from(height);
        let (w, h) = if in_ratio < self.ratio.0 {
            (width, ((f64::from(width) / self.ratio.0).round() as u32).clamp(1, height))
        } else if in_ratio > self.ratio.1 {
            (((f64::from(height) * self.ratio.1).round() as u32).clamp(1, width), height)
        } else {
            (width, height)
        };
        CropBox { x: (width - w) / 2, y: (height - h) / 2, w, h }
    }
}

/// How the two views of an image are cropped.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CropPolicy {
    /// Two independent RandomResizedCrop views (standard CL).
    Standard(RandomResizedCrop),
    /// The localized cropping defense.
    Localized(LocalizedCrop),
}

impl Default for CropPolicy {
    fn default() -> Self {
        Self::Standard(RandomResizedCrop::default())
    }
}

impl CropPolicy {
    /// Samples the two views of a `width x height` image.
    pub fn sample_pair(&self, width: u32, height: u32, rng: &mut Rng) -> (CropBox, CropBox) {
        match self {
            Self::Standard(c) => (c.sample(width, height, rng), c.sample(width, height, rng)),
            Self::Localized(c) => c.sample_pair(width, height, rng),
        }
    }
}

/// Anything that samples the two views of an image. The layout theory's Monte Carlo is
/// generic over it, so it runs the very samplers the training pipeline uses.
pub trait PairSampler: Sync {
    /// Samples (view 1, view 2) of a `width x height` image.
    fn sample_pair(&self, width: u32, height: u32, rng: &mut Rng) -> (CropBox, CropBox);

    /// Draws `n` pairs in a row and hands each to `f`; the same pairs as `n` calls of
    /// [`Self::sample_pair`], but samplers may hoist per-call set-up out of the loop.
    fn for_each_pair(
        &self,
        width: u32,
        height: u32,
        rng: &mut Rng,
        n: u64,
        mut f: impl FnMut(CropBox, CropBox),
    ) where
        Self: Sized,
    {
        for _ in 0..n {
            let (a, b) = self.sample_pair(width, height, rng);
            f(a, b);
        }
    }
}

impl PairSampler for CropPolicy {
    fn sample_pair(&self, width: u32, height: u32, rng: &mut Rng) -> (CropBox, CropBox) {
        CropPolicy::sample_pair(self, width, height, rng)
    }

    fn for_each_pair(
        &self,
        width: u32,
        height: u32,
        rng: &mut Rng,
        n: u64,
        mut f: impl FnMut(CropBox, CropBox),
    ) {
        match self {
            Self::Standard(c) => {
                let prepared = PreparedCrop::new(c, width, height);
                for _ in 0..n {
                    let a = prepared.sample(rng);
                    f(a, prepared.sample(rng));
                }
            }
            Self::Localized(c) => {
                let prepared = PreparedLocalized::new(c, width, height);
                for _ in 0..n {
                    let (a, b) = prepared.sample_pair(rng);
                    f(a, b);
                }
            }
        }
    }
}

/// Fixed `size x size` views at a uniform whole-pixel position: the simplified view model of
/// the layout theory (SPEC section 4). Theory and tests only; not a training policy, which
/// is why it is not a [`CropPolicy`] variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SquareCrop {
    /// Side of the square view in pixels. A side larger than the image is clipped to it.
    pub size: u32,
}

impl SquareCrop {
    /// Samples one view: `x ~ U{0..=width-size}`, `y ~ U{0..=height-size}`.
    pub fn sample(&self, width: u32, height: u32, rng: &mut Rng) -> CropBox {
        let (w, h) = (self.size.clamp(1, width), self.size.clamp(1, height));
        let x = up_to(rng, width - w);
        let y = up_to(rng, height - h);
        CropBox { x, y, w, h }
    }
}

impl PairSampler for SquareCrop {
    /// Two independent views, as the theory assumes.
    fn sample_pair(&self, width: u32, height: u32, rng: &mut Rng) -> (CropBox, CropBox) {
        (self.sample(width, height, rng), self.sample(width, height, rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
            if b == c.fallback(300, 200) {
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
        assert_eq!(c.fallback(1000, 100), CropBox { x: 433, y: 0, w: 133, h: 100 });
        assert_eq!(c.fallback(100, 100), CropBox { x: 0, y: 0, w: 100, h: 100 });
        // An impossible scale forces the fallback every time.
        let never = RandomResizedCrop { scale: (2.0, 3.0), ..c };
        assert_eq!(never.sample(100, 1000, &mut item_rng(0, 0, 0)), c.fallback(100, 1000));
    }

    #[test]
    fn square_views_cover_every_position_and_clip() {
        let c = SquareCrop { size: 3 };
        let mut rng = item_rng(3, 0, 0);
        let mut seen = [[false; 3]; 2];
        for _ in 0..500 {
            let b = c.sample(5, 4, &mut rng);
            assert_eq!((b.w, b.h), (3, 3));
            seen[b.y as usize][b.x as usize] = true;
        }
        assert!(seen.iter().flatten().all(|s| *s));
        let big = SquareCrop { size: 10 }.sample(5, 4, &mut rng);
        assert_eq!(big, CropBox { x: 0, y: 0, w: 5, h: 4 });
    }

    #[test]
    fn batched_pairs_equal_single_pairs() {
        for policy in [
            CropPolicy::Standard(RandomResizedCrop::default()),
            CropPolicy::Localized(LocalizedCrop::default()),
        ] {
            let (mut r1, mut r2) = (item_rng(4, 0, 0), item_rng(4, 0, 0));
            let mut batched = Vec::new();
            policy.for_each_pair(640, 300, &mut r1, 300, |a, b| batched.push((a, b)));
            let single: Vec<_> = (0..300).map(|_| policy.sample_pair(640, 300, &mut r2)).collect();
            assert_eq!(batched, single);
        }
    }
}
