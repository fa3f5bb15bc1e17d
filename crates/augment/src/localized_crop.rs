//! The localized cropping defense (authors' code, method.md section 6).
use corruptencoder_core::{Rng, uniform};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::crop_box::CropBox;
use crate::draws::{coin, unit32, up_to};
use crate::log_uniform::LogUniform;
use crate::prepared_crop::{LogRatio, PreparedCrop, round_half_away};
use crate::random_resized_crop::RandomResizedCrop;

/// The localized cropping defense (authors' code, method.md section 6): view 2 is drawn inside the
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
        PreparedLocalized::new(self, width, height).sample_pair(rng)
    }
}

/// [`LocalizedCrop`] for one image size, its per-image constants computed once.
#[derive(Debug, Clone)]
pub(crate) struct PreparedLocalized {
    crop: LocalizedCrop,
    first: PreparedCrop,
    logs: LogRatio,
    width: u32,
    height: u32,
    /// `min_scale` times the image area.
    min_area: f64,
    /// The ratio law, `None` for ratio bounds it cannot take (then the loop as written).
    ratio: Option<LogUniform>,
}

impl PreparedLocalized {
    pub(crate) fn new(crop: &LocalizedCrop, width: u32, height: u32) -> Self {
        Self {
            crop: *crop,
            first: crop.first.prepare(width, height),
            logs: LogRatio::of(crop.first.ratio),
            width,
            height,
            min_area: crop.min_scale * f64::from(width) * f64::from(height),
            ratio: LogUniform::new(crop.first.ratio),
        }
    }

    /// The authors' second view: up to ten tries of an area between `min_scale` of the
    /// image and the whole enlarged region, then the first view's size as the fallback.
    pub(crate) fn sample_pair(&self, rng: &mut Rng) -> (CropBox, CropBox) {
        let first = self.first.sample(rng);
        let dh = (self.crop.enlarge * f64::from(first.h)) as u32;
        let dw = (self.crop.enlarge * f64::from(first.w)) as u32;
        let top = first.y.saturating_sub(dh);
        let left = first.x.saturating_sub(dw);
        let bottom = (first.y + first.h + dh).min(self.height);
        let right = (first.x + first.w + dw).min(self.width);
        let (l_w, l_h) = (right - left, bottom - top);
        let (w2, h2) = self.second_size(l_w, l_h, rng).unwrap_or((first.w, first.h));
        let y = top + up_to(rng, l_h - h2);
        let x = left + up_to(rng, l_w - w2);
        let second = CropBox { x, y, w: w2, h: h2 };
        if coin(rng) { (second, first) } else { (first, second) }
    }

    /// The second view's size inside an `l_w x l_h` enlarged region, `None` after ten
    /// failed tries: the authors' loop with its draws made cheaper but their law kept. The
    /// ratio comes from [`LogUniform`] instead of `exp`, and the size test is done on
    /// squares (`round(sqrt(x)) <= n` iff `x < (n + 0.5)^2`), so only the accepted try
    /// takes square roots. One 64-bit draw per try: 32 bits of area, 32 for the ratio.
    #[inline]
    fn second_size(&self, l_w: u32, l_h: u32, rng: &mut Rng) -> Option<(u32, u32)> {
        let Some(ratio) = &self.ratio else {
            return self.loop_size(l_w, l_h, rng);
        };
        let l_area = f64::from(l_h) * f64::from(l_w);
        // `l_area * U(min_area / l_area, 1)` is `min_area + (l_area - min_area) U`.
        let span = l_area - self.min_area;
        let (w_fit, h_fit) = ((f64::from(l_w) + 0.5).powi(2), (f64::from(l_h) + 0.5).powi(2));
        for _ in 0..10 {
            let bits = rng.next_u64();
            let area = self.min_area + span * unit32((bits >> 32) as u32);
            let rho = ratio.sample(bits as u32, rng);
            // w^2 = area ρ and h^2 = area / ρ, each in [0.25, (n + 0.5)^2).
            let w2 = area * rho;
            if (w2 >= 0.25) & (w2 < w_fit) & (area >= 0.25 * rho) & (area < h_fit * rho) {
                // Rounding half up (sides are positive); the clamp guards the float edge.
                let round = |x: f64, max: u32| ((x.sqrt() + 0.5) as u32).clamp(1, max);
                return Some((round(w2, l_w), round(area / rho, l_h)));
            }
        }
        None
    }

    /// The authors' loop as written: area `l_area * U(min_area / l_area, 1)`, log-uniform
    /// ratio, up to ten tries.
    fn loop_size(&self, l_w: u32, l_h: u32, rng: &mut Rng) -> Option<(u32, u32)> {
        let l_area = f64::from(l_h) * f64::from(l_w);
        let limits = ((f64::from(l_w) + 0.75).powi(2), (f64::from(l_h) + 0.75).powi(2));
        for _ in 0..10 {
            let area = l_area * uniform(rng, self.min_area / l_area, 1.0);
            let log_ratio = uniform(rng, self.logs.0, self.logs.1);
            if self.logs.surely_rejected(area, log_ratio, limits) {
                continue;
            }
            let ar = log_ratio.exp();
            let h = round_half_away((area / ar).sqrt());
            let w = round_half_away((area * ar).sqrt());
            if 0 < h && h <= i64::from(l_h) && 0 < w && w <= i64::from(l_w) {
                return Some((w as u32, h as u32));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prepared_crop::tests::two_sample_chi2;
    use corruptencoder_core::item_rng;

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
    fn second_view_tries_have_the_law_of_the_authors_loop() {
        // Widths and heights (fallback in its own bin) of the second view in fixed enlarged
        // regions, by two-sample chi-square against the loop as written; 5 SD above the
        // mean flags a real difference. Regions: typical, mostly falling back, smaller than
        // min_scale of the image (reversed area range), a thin strip, and tiny.
        let p = PreparedLocalized::new(&LocalizedCrop::default(), 800, 300);
        let n = 100_000;
        for (l_w, l_h) in [(420, 300), (400, 200), (200, 150), (800, 40), (3, 2)] {
            let zeros = [vec![0u64; l_w as usize + 1], vec![0; l_h as usize + 1]];
            let mut hists = [zeros.clone(), zeros];
            let mut rng = item_rng(7, l_w.into(), l_h.into());
            for k in 0..2 * n {
                let size = if k % 2 == 0 {
                    p.second_size(l_w, l_h, &mut rng)
                } else {
                    p.loop_size(l_w, l_h, &mut rng)
                };
                let (w, h) = size.map_or((l_w, l_h), |(w, h)| (w - 1, h - 1));
                hists[k % 2][0][w as usize] += 1;
                hists[k % 2][1][h as usize] += 1;
            }
            let [fast, plain] = &hists;
            for (a, b) in fast.iter().zip(plain) {
                let (chi2, df) = two_sample_chi2(a, b);
                let limit = df as f64 + 5.0 * (2.0 * df as f64).sqrt() + 10.0;
                assert!(chi2 < limit, "{l_w}x{l_h}: chi2 {chi2:.1} with {df} df");
            }
        }
    }
}
