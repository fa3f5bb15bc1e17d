//! i-CutMix (Lee et al., ICLR 2021; the augmentation PatchSearch trains its defended
//! encoders with, `--icutmix --alpha 1.0`): each step, a box of every query view is
//! replaced by the same box of another image's query view, and the loss asks each query to
//! match its own key with weight `lam` (the share of the view left its own) and the other
//! image's key with `1 - lam`. A patch pasted on a poison then rarely travels with the
//! trigger, which is how it weakens patch backdoors.
//!
//! As in the reference (`UCDvision/PatchSearch`, `moco/builder.py`): one `lam`, one box and
//! one permutation per batch; `lam ~ Beta(alpha, alpha)` folded to `max(lam, 1 - lam)`;
//! the box centred at a uniform pixel with sides `floor(side * sqrt(1 - lam))`, clipped to
//! the view, and `lam` recomputed from the clipped area; the keys stay unmixed.
use corruptencoder_core::{Rng, SettingError, item_rng, uniform, uniform_int};
use serde::{Deserialize, Serialize};

/// The random stream of the mixing draws (apart from the views' and the shuffle's).
const MIX_STREAM: u64 = u64::MAX - 3;

/// i-CutMix's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ICutMixConfig {
    /// Both parameters of the Beta distribution `lam` is drawn from (PatchSearch: 1.0, a
    /// uniform `lam`).
    pub alpha: f64,
}

impl Default for ICutMixConfig {
    fn default() -> Self {
        Self { alpha: 1.0 }
    }
}

impl ICutMixConfig {
    /// Checks the settings; the error names the key.
    pub fn validate(&self) -> Result<(), SettingError> {
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return Err(SettingError::new("alpha", self.alpha, "must be positive"));
        }
        Ok(())
    }
}

/// The box of a view that is replaced, in pixels: columns `x0..x1`, rows `y0..y1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MixBox {
    pub(crate) x0: usize,
    pub(crate) y0: usize,
    pub(crate) x1: usize,
    pub(crate) y1: usize,
}

/// One step's mixing: row `i` of the query views takes the box from row `perm[i]`, and keeps
/// `lam` of its own area.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Mix {
    pub(crate) perm: Vec<usize>,
    pub(crate) lam: f64,
    pub(crate) area: MixBox,
}

impl Mix {
    /// The mixing of step `step` of a run seeded `seed`, for `batch` views `h x w`.
    pub(crate) fn draw(
        c: &ICutMixConfig,
        batch: usize,
        (h, w): (usize, usize),
        at: (u64, u64),
    ) -> Self {
        let rng = &mut item_rng(at.0, MIX_STREAM, at.1);
        let lam = beta(rng, c.alpha);
        let lam = lam.max(1.0 - lam);
        let (area, lam) = cut_box(
            lam,
            (h, w),
            (uniform_int(rng, 0, w as i64 - 1), uniform_int(rng, 0, h as i64 - 1)),
        );
        let mut perm: Vec<usize> = (0..batch).collect();
        for i in (1..batch).rev() {
            perm.swap(i, uniform_int(rng, 0, i as i64) as usize);
        }
        Self { perm, lam, area }
    }

    /// Pastes the box of row `perm[i]` into row `i` of planar `[B, C, H, W]` `views`.
    pub(crate) fn apply(&self, views: &[f32], [b, c, h, w]: [usize; 4]) -> Vec<f32> {
        let mut out = views.to_vec();
        let row = c * h * w;
        let MixBox { x0, y0, x1, y1 } = self.area;
        for (i, &j) in self.perm.iter().enumerate().take(b) {
            for ch in 0..c {
                for y in y0..y1 {
                    let at = ch * h * w + y * w;
                    let (dst, src) = (i * row + at, j * row + at);
                    out[dst + x0..dst + x1].copy_from_slice(&views[src + x0..src + x1]);
                }
            }
        }
        out
    }
}

/// The reference's `rand_bbox`: sides `floor(side * sqrt(1 - lam))` centred at `(cx, cy)`,
/// halves rounded down, clipped to the view; returns the box and `lam` recomputed as the
/// share of the view outside it.
fn cut_box(lam: f64, (h, w): (usize, usize), (cx, cy): (i64, i64)) -> (MixBox, f64) {
    let cut = (1.0 - lam).sqrt();
    let (cut_w, cut_h) = ((w as f64 * cut) as i64, (h as f64 * cut) as i64);
    let clip = |v: i64, side: usize| v.clamp(0, side as i64) as usize;
    let area = MixBox {
        x0: clip(cx - cut_w / 2, w),
        y0: clip(cy - cut_h / 2, h),
        x1: clip(cx + cut_w / 2, w),
        y1: clip(cy + cut_h / 2, h),
    };
    let cut_area = (area.x1 - area.x0) * (area.y1 - area.y0);
    (area, 1.0 - cut_area as f64 / (w * h) as f64)
}

/// A standard normal draw (Box-Muller).
fn normal(rng: &mut Rng) -> f64 {
    let u = uniform(rng, f64::MIN_POSITIVE, 1.0);
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * uniform(rng, 0.0, 1.0)).cos()
}

/// A Gamma(shape, 1) draw: Marsaglia and Tsang's method (2000), with the `U^(1/shape)`
/// boost below shape 1. (`rand_distr`'s Beta would do; its release for our `rand` 0.9 is
/// not in the offline registry this builds from.)
fn gamma(rng: &mut Rng, shape: f64) -> f64 {
    if shape < 1.0 {
        let boost = uniform(rng, f64::MIN_POSITIVE, 1.0).powf(1.0 / shape);
        return gamma(rng, shape + 1.0) * boost;
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(rng);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u = uniform(rng, f64::MIN_POSITIVE, 1.0);
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

/// A Beta(alpha, alpha) draw; alpha 1 is the uniform draw itself.
fn beta(rng: &mut Rng, alpha: f64) -> f64 {
    if alpha == 1.0 {
        return uniform(rng, 0.0, 1.0);
    }
    let (x, y) = (gamma(rng, alpha), gamma(rng, alpha));
    x / (x + y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_box_and_lam_follow_the_reference_formula() {
        // lam 0.75 on 32 x 32: cut = 0.5, sides 16, halves 8: centred at (10, 20) the box
        // is x 2..18, y 12..28 and keeps 1 - 256/1024 of the view.
        let (b, lam) = cut_box(0.75, (32, 32), (10, 20));
        assert_eq!(b, MixBox { x0: 2, y0: 12, x1: 18, y1: 28 });
        assert_eq!(lam, 0.75);
        // At a corner the box is clipped and lam grows: x 0..5, y 0..5 of 16 x 16.
        let (b, lam) = cut_box(0.75, (16, 16), (1, 1));
        assert_eq!(b, MixBox { x0: 0, y0: 0, x1: 5, y1: 5 });
        assert_eq!(lam, 1.0 - 25.0 / 256.0);
        // An odd side rounds each half down, as `cut_w // 2` does: side 15 gives 7 + 7.
        let (b, _) = cut_box(0.75, (30, 30), (15, 15));
        assert_eq!(b, MixBox { x0: 8, y0: 8, x1: 22, y1: 22 });
    }

    #[test]
    fn apply_pastes_the_other_rows_box_into_every_channel() {
        // Two 1-channel 3 x 3 views: row 0 all 1, row 1 all 2; swap a 2 x 1 box.
        let views: Vec<f32> = [vec![1.0; 9], vec![2.0; 9]].concat();
        let mix =
            Mix { perm: vec![1, 0], lam: 7.0 / 9.0, area: MixBox { x0: 1, y0: 0, x1: 3, y1: 1 } };
        let out = mix.apply(&views, [2, 1, 3, 3]);
        assert_eq!(&out[..9], &[1.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
        assert_eq!(&out[9..], &[2.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]);
    }

    #[test]
    fn draws_are_seeded_folded_and_consistent_with_their_box() {
        let c = ICutMixConfig::default();
        let a = Mix::draw(&c, 8, (32, 32), (3, 5));
        assert_eq!(a, Mix::draw(&c, 8, (32, 32), (3, 5)));
        assert_ne!(a, Mix::draw(&c, 8, (32, 32), (3, 6)));
        for step in 0..200 {
            let m = Mix::draw(&c, 8, (32, 32), (1, step));
            let mut seen = m.perm.clone();
            seen.sort_unstable();
            assert_eq!(seen, (0..8).collect::<Vec<_>>());
            let cut = (m.area.x1 - m.area.x0) * (m.area.y1 - m.area.y0);
            assert_eq!(m.lam, 1.0 - cut as f64 / 1024.0);
            // lam was folded to at least 0.5 before the box, and clipping only raises it.
            assert!(m.lam >= 0.5 - 1e-12, "{}", m.lam);
        }
    }

    #[test]
    fn beta_draws_have_the_beta_mean_and_variance() {
        for alpha in [0.4, 1.0, 2.0] {
            let rng = &mut item_rng(9, 0, 0);
            let n = 20_000;
            let draws: Vec<f64> = (0..n).map(|_| beta(rng, alpha)).collect();
            let mean = draws.iter().sum::<f64>() / n as f64;
            let var = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n as f64;
            // Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1)).
            let want = 1.0 / (4.0 * (2.0 * alpha + 1.0));
            assert!((mean - 0.5).abs() < 0.01, "alpha {alpha}: mean {mean}");
            assert!((var - want).abs() < 0.1 * want, "alpha {alpha}: var {var} vs {want}");
        }
    }

    #[test]
    fn alpha_must_be_positive() {
        assert!(
            ICutMixConfig { alpha: 0.0 }
                .validate()
                .unwrap_err()
                .to_string()
                .starts_with("alpha = 0:")
        );
        assert!(ICutMixConfig::default().validate().is_ok());
    }
}
