//! RandomResizedCrop set up for one image size: the per-image constants are computed once,
//! so hot loops (the layout Monte Carlo) pay only for the draws.
use corruptencoder_core::{Rng, uniform};

use crate::crop_box::CropBox;
use crate::crop_region::AcceptedRegion;
use crate::draws::up_to;

/// [`crate::RandomResizedCrop`] for a `width x height` image.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PreparedCrop {
    width: u32,
    height: u32,
    fallback: CropBox,
    draw: Draw,
}

/// How crop sizes are drawn.
#[derive(Debug, Clone, Copy)]
enum Draw {
    /// From the accepted region (see `crop_region`): the same law as torchvision's loop.
    Direct(AcceptedRegion),
    /// torchvision's ten-try loop as written, for ranges the region cannot handle.
    Loop { scale: (f64, f64), logs: LogRatio, limits: (f64, f64) },
}

impl PreparedCrop {
    /// Prepares RandomResizedCrop's `scale` and `ratio` ranges for a `width x height` image.
    pub(crate) fn new(scale: (f64, f64), ratio: (f64, f64), width: u32, height: u32) -> Self {
        let draw = match AcceptedRegion::new(scale, ratio, width, height) {
            Some(region) => Draw::Direct(region),
            None => Self::looped(scale, ratio, width, height),
        };
        Self { width, height, fallback: fallback_box(ratio, width, height), draw }
    }

    /// Prepares the ranges to run torchvision's loop whatever they are (the oracle in tests).
    #[cfg(test)]
    pub(crate) fn new_loop(scale: (f64, f64), ratio: (f64, f64), width: u32, height: u32) -> Self {
        let draw = Self::looped(scale, ratio, width, height);
        Self { width, height, fallback: fallback_box(ratio, width, height), draw }
    }

    fn looped(scale: (f64, f64), ratio: (f64, f64), width: u32, height: u32) -> Draw {
        let limits = ((f64::from(width) + 0.75).powi(2), (f64::from(height) + 0.75).powi(2));
        Draw::Loop { scale, logs: LogRatio::of(ratio), limits }
    }

    /// Samples one crop: its size, then `y ~ U{0..=H-h}` and `x ~ U{0..=W-w}` as torchvision.
    #[inline]
    pub(crate) fn sample(&self, rng: &mut Rng) -> CropBox {
        let size = match &self.draw {
            Draw::Direct(region) => region.sample(rng),
            Draw::Loop { scale, logs, limits } => self.loop_size(*scale, *logs, *limits, rng),
        };
        let Some((w, h)) = size else {
            return self.fallback;
        };
        let y = up_to(rng, self.height - h);
        let x = up_to(rng, self.width - w);
        CropBox { x, y, w, h }
    }

    /// torchvision's `get_params` loop; `None` after ten failed tries.
    fn loop_size(
        &self,
        scale: (f64, f64),
        logs: LogRatio,
        limits: (f64, f64),
        rng: &mut Rng,
    ) -> Option<(u32, u32)> {
        let (width, height) = (i64::from(self.width), i64::from(self.height));
        let area = f64::from(self.width) * f64::from(self.height);
        for _ in 0..10 {
            let target_area = area * uniform(rng, scale.0, scale.1);
            let log_ratio = uniform(rng, logs.0, logs.1);
            if logs.surely_rejected(target_area, log_ratio, limits) {
                continue;
            }
            let aspect = log_ratio.exp();
            let w = round_half_away((target_area * aspect).sqrt());
            let h = round_half_away((target_area / aspect).sqrt());
            if 0 < w && w <= width && 0 < h && h <= height {
                return Some((w as u32, h as u32));
            }
        }
        None
    }
}

/// torchvision's centre crop after ten failed tries, clamped to the `ratio` range.
pub(crate) fn fallback_box(ratio: (f64, f64), width: u32, height: u32) -> CropBox {
    let in_ratio = f64::from(width) / f64::from(height);
    let (w, h) = if in_ratio < ratio.0 {
        (width, ((f64::from(width) / ratio.0).round() as u32).clamp(1, height))
    } else if in_ratio > ratio.1 {
        (((f64::from(height) * ratio.1).round() as u32).clamp(1, width), height)
    } else {
        (width, height)
    };
    CropBox { x: (width - w) / 2, y: (height - h) / 2, w, h }
}

/// Exactly `x.round() as i64` (half away from zero). Without SSE4.1 `f64::round` is a
/// libm call, a seventh of the layout Monte Carlo's time; for finite `0 <= x < 2^52` the
/// fraction `x - trunc(x)` is exact, so truncating and comparing it with 0.5 is the same.
#[inline]
pub(crate) fn round_half_away(x: f64) -> i64 {
    if !(0.0..4.5e15).contains(&x) {
        return x.round() as i64;
    }
    let t = x as i64;
    if x - t as f64 >= 0.5 { t + 1 } else { t }
}

/// `ln` of a ratio range's bounds, computed once per image rather than per try. The values
/// are the same, so the crops are bit-identical either way.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogRatio(pub(crate) f64, pub(crate) f64, bool);

impl LogRatio {
    pub(crate) fn of(ratio: (f64, f64)) -> Self {
        let (lo, hi) = (ratio.0.ln(), ratio.1.ln());
        Self(lo, hi, lo.abs().max(hi.abs()) <= 0.3)
    }

    /// Whether a RandomResizedCrop try of `area` and log aspect `u` is rejected for sure,
    /// judged without `exp`, `sqrt` or a division. On the generator's wide images
    /// torchvision's loop rejects about four tries in five, and those calls were most of the
    /// loop's time. `limits` are `(W + 0.75)^2, (H + 0.75)^2`: a side whose square
    /// exceeds them rounds above the image side with a wide margin, and the degree-5 Taylor
    /// polynomial is within 1.4e-6 (relative) of `exp(u)` for `|u| <= 0.3`, which covers
    /// the default ratios 3/4..4/3 (the bounds widen it by 1e-5), so no try that could pass
    /// is skipped and the crops are unchanged.
    #[inline]
    pub(crate) fn surely_rejected(&self, area: f64, u: f64, (w_lim, h_lim): (f64, f64)) -> bool {
        if !self.2 {
            return false;
        }
        // Degree-5 Taylor polynomial in Estrin form (short dependency chain).
        let u2 = u * u;
        let e = (1.0 + u) + u2 * ((0.5 + u / 6.0) + u2 * (1.0 / 24.0 + u / 120.0));
        area >= h_lim * (e * (1.0 + 1e-5)) || area * (e * (1.0 - 1e-5)) >= w_lim
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::random_resized_crop::RandomResizedCrop;
    use corruptencoder_core::{item_rng, uniform_int};

    #[test]
    fn fast_rounding_equals_round() {
        let mut rng = item_rng(6, 0, 0);
        let halves = [0.0, 0.5, 1.5, 2.5, 0.49999999999999994, 1e15 + 0.5, 4.6e15, -2.5];
        let randoms = (0..100_000).map(|_| uniform(&mut rng, 0.0, 2000.0));
        for x in halves.into_iter().chain(randoms).chain([f64::NAN, f64::INFINITY]) {
            assert_eq!(round_half_away(x), x.round() as i64, "{x}");
        }
    }

    /// torchvision's `get_params` written out plainly: the oracle for both draws above.
    fn torchvision(c: &RandomResizedCrop, width: u32, height: u32, rng: &mut Rng) -> CropBox {
        let area = f64::from(width) * f64::from(height);
        for _ in 0..10 {
            let target_area = area * uniform(rng, c.scale.0, c.scale.1);
            let aspect = uniform(rng, c.ratio.0.ln(), c.ratio.1.ln()).exp();
            let w = (target_area * aspect).sqrt().round() as i64;
            let h = (target_area / aspect).sqrt().round() as i64;
            if 0 < w && w <= i64::from(width) && 0 < h && h <= i64::from(height) {
                let y = uniform_int(rng, 0, i64::from(height) - h) as u32;
                let x = uniform_int(rng, 0, i64::from(width) - w) as u32;
                return CropBox { x, y, w: w as u32, h: h as u32 };
            }
        }
        fallback_box(c.ratio, width, height)
    }

    const SHAPES: [(u32, u32); 6] =
        [(800, 300), (300, 800), (224, 224), (1067, 400), (7, 3), (1, 1)];

    fn wide() -> RandomResizedCrop {
        RandomResizedCrop { ratio: (0.5, 2.0), scale: (0.05, 1.0) }
    }

    #[test]
    fn loop_sizes_equal_plain_torchvision_loop() {
        // Same draws, so the sizes are bit-identical (the early rejection skips only tries
        // that fail anyway); positions come from a different integer draw.
        for c in [RandomResizedCrop::default(), wide()] {
            for (w, h) in SHAPES {
                let prepared = PreparedCrop::new_loop(c.scale, c.ratio, w, h);
                let (mut r1, mut r2) =
                    (item_rng(8, w.into(), h.into()), item_rng(8, w.into(), h.into()));
                for _ in 0..20_000 {
                    let size =
                        prepared.loop_size(c.scale, LogRatio::of(c.ratio), limits(w, h), &mut r1);
                    let b = torchvision(&c, w, h, &mut r2);
                    match size {
                        Some(s) => {
                            assert_eq!(s, (b.w, b.h));
                            // The oracle's position draws, to stay in step.
                            uniform_int(&mut r1, 0, i64::from(h - s.1));
                            uniform_int(&mut r1, 0, i64::from(w - s.0));
                        }
                        None => assert_eq!(b, fallback_box(c.ratio, w, h)),
                    }
                }
            }
        }
    }

    fn limits(w: u32, h: u32) -> (f64, f64) {
        ((f64::from(w) + 0.75).powi(2), (f64::from(h) + 0.75).powi(2))
    }

    /// Pearson chi-square of two samples' counts over the same bins, merging bins until
    /// each holds at least 20, and its degrees of freedom.
    pub(crate) fn two_sample_chi2(a: &[u64], b: &[u64]) -> (f64, usize) {
        let (na, nb) = (a.iter().sum::<u64>() as f64, b.iter().sum::<u64>() as f64);
        let (mut chi2, mut df, mut acc) = (0.0, 0usize, (0u64, 0u64));
        let mut flush = |(x, y): (u64, u64)| {
            let (x, y) = (x as f64, y as f64);
            let ka = ((nb / na).sqrt(), (na / nb).sqrt());
            chi2 += (ka.0 * x - ka.1 * y).powi(2) / (x + y);
            df += 1;
        };
        for (x, y) in a.iter().zip(b) {
            acc = (acc.0 + x, acc.1 + y);
            if acc.0 + acc.1 >= 20 {
                flush(acc);
                acc = (0, 0);
            }
        }
        if acc.0 + acc.1 > 0 {
            flush(acc);
        }
        (chi2, df.saturating_sub(1))
    }

    /// Histograms of crops: by width, by height, and by (w, h) on small images; the
    /// fallback box gets its own bin at the end of each.
    fn histograms(c: &RandomResizedCrop, (w, h): (u32, u32), crops: &[CropBox]) -> [Vec<u64>; 3] {
        let fallback = fallback_box(c.ratio, w, h);
        let joint = if w * h <= 4096 { (w * h) as usize } else { 0 };
        let mut out = [vec![0; w as usize + 1], vec![0; h as usize + 1], vec![0; joint + 1]];
        for b in crops {
            let bins = if *b == fallback {
                [w as usize, h as usize, joint]
            } else {
                let both = ((b.h - 1) * w + b.w - 1) as usize;
                [b.w as usize - 1, b.h as usize - 1, if joint > 0 { both } else { 0 }]
            };
            for (hist, k) in out.iter_mut().zip(bins) {
                hist[k] += 1;
            }
        }
        out
    }

    #[test]
    fn direct_draw_has_the_law_of_torchvisions_loop() {
        // Widths, heights and (on small images) joint sizes against the plain loop, each
        // by a two-sample chi-square: with df degrees of freedom it has mean df and SD
        // sqrt(2 df), so 5 SD above the mean flags a real difference.
        let n = 200_000;
        for c in [RandomResizedCrop::default(), wide()] {
            for (w, h) in SHAPES {
                let prepared = c.prepare(w, h);
                assert!(matches!(prepared.draw, Draw::Direct(_)), "{w}x{h}");
                let (mut r1, mut r2) = (item_rng(1, w.into(), h.into()), item_rng(2, 0, 0));
                let direct: Vec<_> = (0..n).map(|_| prepared.sample(&mut r1)).collect();
                let plain: Vec<_> = (0..n).map(|_| torchvision(&c, w, h, &mut r2)).collect();
                for d in &direct {
                    assert!(d.x + d.w <= w && d.y + d.h <= h && d.w > 0 && d.h > 0);
                }
                let (hd, hp) = (histograms(&c, (w, h), &direct), histograms(&c, (w, h), &plain));
                for (a, b) in hd.iter().zip(&hp) {
                    let (chi2, df) = two_sample_chi2(a, b);
                    let limit = df as f64 + 5.0 * (2.0 * df as f64).sqrt() + 10.0;
                    assert!(chi2 < limit, "{w}x{h} {c:?}: chi2 {chi2:.1} with {df} df");
                }
            }
        }
    }

    #[test]
    fn fallback_rate_matches_the_region() {
        // On 800x300 about 8% of crops fall back; the count must match (1 - p)^10.
        let c = RandomResizedCrop::default();
        let (w, h) = (800, 300);
        let Draw::Direct(region) = c.prepare(w, h).draw else { panic!("direct") };
        let q = region.fallback_probability();
        assert!((0.03..0.2).contains(&q), "{q}");
        let n = 400_000;
        let mut rng = item_rng(3, 0, 0);
        let k = (0..n)
            .filter(|_| torchvision(&c, w, h, &mut rng) == fallback_box(c.ratio, w, h))
            .count();
        let se = (q * (1.0 - q) / f64::from(n)).sqrt();
        assert!((k as f64 / f64::from(n) - q).abs() < 4.0 * se, "{k} vs {q}");
    }

    #[test]
    fn positions_are_uniform_over_the_slack() {
        let c = RandomResizedCrop { scale: (0.25, 0.25 + 1e-9), ratio: (1.0, 1.0 + 1e-9) };
        let prepared = c.prepare(4, 4);
        let mut seen = [0u32; 9];
        let mut rng = item_rng(5, 0, 0);
        for _ in 0..9000 {
            let b = prepared.sample(&mut rng);
            assert_eq!((b.w, b.h), (2, 2));
            seen[(b.y * 3 + b.x) as usize] += 1;
        }
        assert!(seen.iter().all(|&k| (850..1150).contains(&k)), "{seen:?}");
    }
}
