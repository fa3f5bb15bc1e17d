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
        self.sample_with(LogRatio::of(self.ratio), width, height, rng)
    }

    /// [`Self::sample`] with the log ratio bounds already computed.
    fn sample_with(&self, logs: LogRatio, width: u32, height: u32, rng: &mut Rng) -> CropBox {
        let area = f64::from(width) * f64::from(height);
        let LogRatio(log_lo, log_hi, _) = logs;
        let limits = ((f64::from(width) + 0.75).powi(2), (f64::from(height) + 0.75).powi(2));
        for _ in 0..10 {
            let target_area = area * uniform(rng, self.scale.0, self.scale.1);
            let log_ratio = uniform(rng, log_lo, log_hi);
            if logs.surely_rejected(target_area, log_ratio, limits) {
                continue;
            }
            let aspect = log_ratio.exp();
            let w = round_half_away((target_area * aspect).sqrt());
            let h = round_half_away((target_area / aspect).sqrt());
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

/// Exactly `x.round() as i64` (half away from zero). Without SSE4.1 `f64::round` is a
/// libm call, a seventh of the layout Monte Carlo's time; for finite `0 <= x < 2^52` the
/// fraction `x - trunc(x)` is exact, so truncating and comparing it with 0.5 is the same.
#[inline]
fn round_half_away(x: f64) -> i64 {
    if !(0.0..4.5e15).contains(&x) {
        return x.round() as i64;
    }
    let t = x as i64;
    if x - t as f64 >= 0.5 { t + 1 } else { t }
}

/// `ln` of a ratio range's bounds. Computed once per batch of crops in hot loops: the two
/// `ln` calls were a large share of a crop's cost in the layout Monte Carlo. The values are
/// the same, so the crops are bit-identical either way.
#[derive(Debug, Clone, Copy)]
struct LogRatio(f64, f64, bool);

impl LogRatio {
    fn of(ratio: (f64, f64)) -> Self {
        let (lo, hi) = (ratio.0.ln(), ratio.1.ln());
        Self(lo, hi, lo.abs().max(hi.abs()) <= 0.3)
    }

    /// Whether a RandomResizedCrop try of `area` and log aspect `u` is rejected for sure,
    /// judged without `exp`, `sqrt` or a division. On the generator's wide images
    /// torchvision's loop rejects about four tries in five, and those calls were most of the
    /// Monte Carlo's time. `limits` are `(W + 0.75)^2, (H + 0.75)^2`: a side whose square
    /// exceeds them rounds above the image side with a wide margin, and the degree-5 Taylor
    /// polynomial is within 1.4e-6 (relative) of `exp(u)` for `|u| <= 0.3`, which covers
    /// the default ratios 3/4..4/3 (the bounds widen it by 1e-5), so no try that could pass
    /// is skipped and the crops are unchanged.
    #[inline]
    fn surely_rejected(&self, area: f64, u: f64, (w_lim, h_lim): (f64, f64)) -> bool {
        if !self.2 {
            return false;
        }
        // Degree-5 Taylor polynomial in Estrin form (short dependency chain).
        let u2 = u * u;
        let e = (1.0 + u) + u2 * ((0.5 + u / 6.0) + u2 * (1.0 / 24.0 + u / 120.0));
        area >= h_lim * (e * (1.0 + 1e-5)) || area * (e * (1.0 - 1e-5)) >= w_lim
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
        self.sample_pair_with(LogRatio::of(self.first.ratio), width, height, rng)
    }

    /// [`Self::sample_pair`] with the log ratio bounds already computed.
    fn sample_pair_with(
        &self,
        logs: LogRatio,
        width: u32,
        height: u32,
        rng: &mut Rng,
    ) -> (CropBox, CropBox) {
        let first = self.first.sample_with(logs, width, height, rng);
        let dh = (self.enlarge * f64::from(first.h)) as u32;
        let dw = (self.enlarge * f64::from(first.w)) as u32;
        let top = first.y.saturating_sub(dh);
        let left = first.x.saturating_sub(dw);
        let bottom = (first.y + first.h + dh).min(height);
        let right = (first.x + first.w + dw).min(width);
        let (l_h, l_w) = (bottom - top, right - left);
        let l_area = f64::from(l_h) * f64::from(l_w);
        let image_area = f64::from(width) * f64::from(height);
        let LogRatio(log_lo, log_hi, _) = logs;
        let (mut h2, mut w2) = (first.h, first.w);
        for _ in 0..10 {
            let area = l_area * uniform(rng, self.min_scale * image_area / l_area, 1.0);
            let ar = uniform(rng, log_lo, log_hi).exp();
            let h = round_half_away((area / ar).sqrt());
            let w = round_half_away((area * ar).sqrt());
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
                let logs = LogRatio::of(c.ratio);
                for _ in 0..n {
                    let a = c.sample_with(logs, width, height, rng);
                    f(a, c.sample_with(logs, width, height, rng));
                }
            }
            Self::Localized(c) => {
                let logs = LogRatio::of(c.first.ratio);
                for _ in 0..n {
                    let (a, b) = c.sample_pair_with(logs, width, height, rng);
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
        let x = uniform_int(rng, 0, i64::from(width - w)) as u32;
        let y = uniform_int(rng, 0, i64::from(height - h)) as u32;
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
    fn fast_rounding_equals_round() {
        let mut rng = item_rng(6, 0, 0);
        let halves = [0.0, 0.5, 1.5, 2.5, 0.49999999999999994, 1e15 + 0.5, 4.6e15, -2.5];
        let randoms = (0..100_000).map(|_| uniform(&mut rng, 0.0, 2000.0));
        for x in halves.into_iter().chain(randoms).chain([f64::NAN, f64::INFINITY]) {
            assert_eq!(round_half_away(x), x.round() as i64, "{x}");
        }
    }

    /// torchvision's loop written out plainly, the oracle for the fast paths above.
    fn reference_sample(c: &RandomResizedCrop, width: u32, height: u32, rng: &mut Rng) -> CropBox {
        let area = f64::from(width) * f64::from(height);
        for _ in 0..10 {
            let target_area = area * uniform(rng, c.scale.0, c.scale.1);
            let aspect = uniform(rng, c.ratio.0.ln(), c.ratio.1.ln()).exp();
            let w = (target_area * aspect).sqrt().round() as i64;
            let h = (target_area / aspect).sqrt().round() as i64;
            if 0 < w && w <= i64::from(width) && 0 < h && h <= i64::from(height) {
                let y = uniform_int(rng, 0, i64::from(height) - h);
                let x = uniform_int(rng, 0, i64::from(width) - w);
                return CropBox { x: x as u32, y: y as u32, w: w as u32, h: h as u32 };
            }
        }
        c.fallback(width, height)
    }

    #[test]
    fn fast_sampler_equals_plain_torchvision_loop() {
        let wide = RandomResizedCrop { ratio: (0.5, 2.0), scale: (0.05, 1.0) };
        for c in [RandomResizedCrop::default(), wide] {
            for (w, h) in [(800, 300), (300, 800), (224, 224), (1067, 400), (7, 3), (1, 1)] {
                let (mut r1, mut r2) =
                    (item_rng(8, w.into(), h.into()), item_rng(8, w.into(), h.into()));
                for _ in 0..20_000 {
                    assert_eq!(c.sample(w, h, &mut r1), reference_sample(&c, w, h, &mut r2));
                }
            }
        }
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
