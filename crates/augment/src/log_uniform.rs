//! Exact log-uniform draws without `exp`: torchvision's aspect ratio
//! `exp(U(ln r0, ln r1))`, whose `exp` was the largest cost of a crop try.
use rand::RngCore;

use corruptencoder_core::Rng;

use crate::draws::unit32;

/// Strips of equal probability; a power of two so a byte of random bits picks one.
const STRIPS: usize = 256;

/// The law of `exp(U(ln r0, ln r1))`, density `∝ 1/ρ` on `[r0, r1]`, drawn as: a strip
/// `[b_k, b_k+1]` of the geometric grid `b_k = r0 (r1/r0)^(k/256)` uniformly (each holds
/// 1/256 of the mass), then `ρ` uniform in it, kept with probability `b_k / ρ`. That last
/// step turns the strip's flat density into `∝ 1/ρ`, so the law is exact; it keeps at least
/// `b_k / b_k+1 = (r1/r0)^(-1/256)` of the draws (99.8% for ratios 3/4..4/3), and a
/// byte of the same 32 bits settles all but about one draw in 256 without a division.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LogUniform {
    bounds: [f64; STRIPS + 1],
    /// Values of the deciding byte below this accept outright: `byte / 256 < b_k / b_k+1`.
    sure: u32,
}

impl LogUniform {
    /// The law for the range `ratio` (either order); `None` unless both bounds are
    /// positive and finite.
    pub(crate) fn new(ratio: (f64, f64)) -> Option<Self> {
        let valid = |r: f64| r > 0.0 && r.is_finite();
        if !(valid(ratio.0) && valid(ratio.1)) {
            return None;
        }
        let (r0, r1) = (ratio.0.min(ratio.1), ratio.0.max(ratio.1));
        let step = (r1 / r0).ln() / STRIPS as f64;
        // By products rather than 257 `exp`s (training prepares this per image): the strips'
        // masses then differ from 1/256 by ~1e-11 relative, far below the 2^-32 grain of
        // the draws. The end points are set exactly.
        let q = step.exp();
        let mut bounds = [r0; STRIPS + 1];
        for k in 1..STRIPS {
            bounds[k] = bounds[k - 1] * q;
        }
        bounds[STRIPS] = r1;
        // floor(256 e^-step), less one for safety against exp's rounding: smaller only
        // sends a few more draws to the exact test.
        let sure = ((256.0 * (-step).exp()).floor() as u32).saturating_sub(1);
        Some(Self { bounds, sure })
    }

    /// One draw; `bits` are 32 fresh random bits, and rejected draws take more from `rng`.
    #[inline]
    pub(crate) fn sample(&self, mut bits: u32, rng: &mut Rng) -> f64 {
        loop {
            let k = (bits >> 24) as usize;
            let (lo, hi) = (self.bounds[k], self.bounds[k + 1]);
            // 16 bits place ρ within a strip of width ~0.0025 (steps of ~4e-8).
            let rho = lo + (hi - lo) * f64::from((bits >> 8) & 0xffff) * (1.0 / 65_536.0);
            let byte = bits & 0xff;
            if byte < self.sure {
                return rho;
            }
            // The deciding uniform V = (byte + U) / 256, refined with 32 more bits.
            let v = (f64::from(byte) + unit32(rng.next_u32())) * (1.0 / 256.0);
            if v * rho < lo {
                return rho;
            }
            bits = rng.next_u32();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corruptencoder_core::item_rng;

    #[test]
    fn draws_are_log_uniform() {
        // ln ρ must be uniform on [ln r0, ln r1]: 40 bins, each within 4 SE of n/40, and
        // finer structure (within strips) checked by 1000 bins in one narrow stretch.
        for ratio in [(0.75, 4.0 / 3.0), (0.5, 2.0), (0.2, 5.0), (4.0 / 3.0, 0.75)] {
            let law = LogUniform::new(ratio).unwrap();
            let (l0, l1) = (ratio.0.min(ratio.1).ln(), ratio.0.max(ratio.1).ln());
            let mut rng = item_rng(11, 0, 0);
            let n = 400_000;
            let mut bins = [0u32; 40];
            let mut fine = [0u32; 1000];
            for _ in 0..n {
                let rho = law.sample(rand::RngCore::next_u32(&mut rng), &mut rng);
                let t = (rho.ln() - l0) / (l1 - l0);
                assert!((0.0..1.0).contains(&t), "{rho} {ratio:?}");
                bins[(t * 40.0) as usize] += 1;
                // The first 1/40 of the range, spread over 1000 bins (about 10 strips).
                if t < 0.025 {
                    fine[((t / 0.025) * 1000.0) as usize] += 1;
                }
            }
            let expect = f64::from(n) / 40.0;
            let se = (expect * (1.0 - 1.0 / 40.0)).sqrt();
            for k in bins {
                assert!((f64::from(k) - expect).abs() < 4.5 * se, "{bins:?} {ratio:?}");
            }
            let chi2: f64 = fine.iter().map(|&k| (f64::from(k) - 10.0).powi(2) / 10.0).sum();
            // 999 df: mean 999, SD 45.
            assert!(chi2 < 999.0 + 5.0 * 45.0, "chi2 {chi2} {ratio:?}");
        }
    }

    #[test]
    fn the_slow_path_is_exact_too() {
        // With a 50x range a strip spans 1.5%, so the byte settles fewer draws; the mean
        // of ρ must still be (r1 - r0) / ln(r1 / r0).
        let law = LogUniform::new((0.1, 5.0)).unwrap();
        assert!(law.sure < 253, "{}", law.sure);
        let mut rng = item_rng(12, 0, 0);
        let n = 400_000;
        let draws: Vec<f64> =
            (0..n).map(|_| law.sample(rand::RngCore::next_u32(&mut rng), &mut rng)).collect();
        let mean = draws.iter().sum::<f64>() / f64::from(n);
        let exact = 4.9 / 50f64.ln();
        let var = draws.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / f64::from(n);
        assert!((mean - exact).abs() < 4.0 * (var / f64::from(n)).sqrt(), "{mean} vs {exact}");
    }

    #[test]
    fn invalid_ranges_are_refused_and_fixed_ratios_work() {
        assert_eq!(LogUniform::new((0.0, 1.0)), None);
        assert_eq!(LogUniform::new((1.0, f64::INFINITY)), None);
        assert_eq!(LogUniform::new((f64::NAN, 1.0)), None);
        let fixed = LogUniform::new((1.5, 1.5)).unwrap();
        let mut rng = item_rng(0, 0, 0);
        assert!((0..100).all(|_| fixed.sample(rand::RngCore::next_u32(&mut rng), &mut rng) == 1.5));
    }
}
