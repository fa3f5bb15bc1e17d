use corruptencoder_core::{Rng, uniform, uniform_int};
use serde::{Deserialize, Serialize};

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
    pub fn area(&self) -> u64 {
        u64::from(self.w) * u64::from(self.h)
    }

    /// Whether `other` lies entirely inside this box.
    pub fn contains(&self, other: &CropBox) -> bool {
        other.x >= self.x
            && other.y >= self.y
            && other.x + other.w <= self.x + self.w
            && other.y + other.h <= self.y + self.h
    }

    /// Area of the intersection with `other`.
    pub fn overlap(&self, other: &CropBox) -> u64 {
        let x0 = self.x.max(other.x);
        let y0 = self.y.max(other.y);
        let x1 = (self.x + self.w).min(other.x + other.w);
        let y1 = (self.y + self.h).min(other.y + other.h);
        if x1 <= x0 || y1 <= y0 { 0 } else { u64::from(x1 - x0) * u64::from(y1 - y0) }
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
    pub fn sample(&self, width: u32, height: u32, rng: &mut Rng) -> CropBox {
        let area = f64::from(width) * f64::from(height);
        let (log_lo, log_hi) = (self.ratio.0.ln(), self.ratio.1.ln());
        for _ in 0..10 {
            let target_area = area * uniform(rng, self.scale.0, self.scale.1);
            let aspect = uniform(rng, log_lo, log_hi).exp();
            let w = (target_area * aspect).sqrt().round() as i64;
            let h = (target_area / aspect).sqrt().round() as i64;
            if 0 < w && w <= i64::from(width) && 0 < h && h <= i64::from(height) {
                let y = uniform_int(rng, 0, i64::from(height) - h);
                let x = uniform_int(rng, 0, i64::from(width) - w);
                return CropBox { x: x as u32, y: y as u32, w: w as u32, h: h as u32 };
            }
        }
        self.fallback(width, height)
    }

    /// torchvision's centre crop after ten failed tries, clamped to the ratio range.
    fn fallback(&self, width: u32, height: u32) -> CropBox {
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

/// The localized cropping defense (authors' code, SPEC section 6): view 2 is drawn inside the
/// first view enlarged by `enlarge` of its size on each side.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalizedCrop {
    /// Sampler of the first view.
    pub first: RandomResizedCrop,
    /// Fraction of the first view's height/width added on each side (default 0.2).
    pub enlarge: f64,
    /// Lower bound of view 2's area as a fraction of the *image* area (default 0.2).
    pub min_scale: f64,
}

impl Default for LocalizedCrop {
    fn default() -> Self {
        Self { first: RandomResizedCrop::default(), enlarge: 0.2, min_scale: 0.2 }
    }
}

impl LocalizedCrop {
    /// Samples (view 1, view 2) of a `width x height` image; the two are swapped with
    /// probability 1/2 as in the authors' code.
    pub fn sample_pair(&self, width: u32, height: u32, rng: &mut Rng) -> (CropBox, CropBox) {
        let first = self.first.sample(width, height, rng);
        let dh = (self.enlarge * f64::from(first.h)) as u32;
        let dw = (self.enlarge * f64::from(first.w)) as u32;
        let top = first.y.saturating_sub(dh);
        let left = first.x.saturating_sub(dw);
        let bottom = (first.y + first.h + dh).min(height);
        let right = (first.x + first.w + dw).min(width);
        let (l_h, l_w) = (bottom - top, right - left);
        let l_area = f64::from(l_h) * f64::from(l_w);
        let image_area = f64::from(width) * f64::from(height);
        let (log_lo, log_hi) = (self.first.ratio.0.ln(), self.first.ratio.1.ln());
        let (mut h2, mut w2) = (first.h, first.w);
        for _ in 0..10 {
            let area = l_area * uniform(rng, self.min_scale * image_area / l_area, 1.0);
            let ar = uniform(rng, log_lo, log_hi).exp();
            let h = (area / ar).sqrt().round() as i64;
            let w = (area * ar).sqrt().round() as i64;
            if 0 < h && h <= i64::from(l_h) && 0 < w && w <= i64::from(l_w) {
                (h2, w2) = (h as u32, w as u32);
                break;
            }
        }
        let y = top + uniform_int(rng, 0, i64::from(l_h - h2)) as u32;
        let x = left + uniform_int(rng, 0, i64::from(l_w - w2)) as u32;
        let second = CropBox { x, y, w: w2, h: h2 };
        if rng.random_bool(0.5) { (second, first) } else { (first, second) }
    }
}

use rand::Rng as _;

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
    fn localized_second_view_lies_in_enlarged_first() {
        let c = LocalizedCrop::default();
        let mut rng = item_rng(2, 0, 0);
        for _ in 0..5000 {
            let (a, b) = c.sample_pair(400, 300, &mut rng);
            for v in [a, b] {
                assert!(v.x + v.w <= 400 && v.y + v.h <= 300);
            }
            // One of the two is the first view; the other sits within its enlarged region.
            let near = |f: &CropBox, s: &CropBox| {
                let dh = (0.2 * f64::from(f.h)) as u32;
                let dw = (0.2 * f64::from(f.w)) as u32;
                s.x + dw >= f.x
                    && s.y + dh >= f.y
                    && s.x + s.w <= f.x + f.w + dw
                    && s.y + s.h <= f.y + f.h + dh
            };
            assert!(near(&a, &b) || near(&b, &a));
        }
    }
}
