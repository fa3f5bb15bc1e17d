//! Monte Carlo estimates of the theory's events under the real view samplers
//! (RandomResizedCrop, localized cropping) from `corruptencoder_augment`.
//!
//! Work is cut into fixed chunks of [`CHUNK`] pairs; chunk `c` draws from
//! `item_rng(seed, stream, c)` and chunks only add integer counts, so the result is
//! bit-identical for any thread count (and more samples only extend the last chunk).
use corruptencoder_augment::{CropBox, PairSampler};
use corruptencoder_core::item_rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::scene::Scene;

/// Pairs per chunk: large enough to amortise the RNG set-up, small enough to balance.
pub const CHUNK: u64 = 1 << 16;

/// RNG stream of the layout Monte Carlo (keeps it apart from the generator's streams).
pub(crate) const STREAM: u64 = 0x7468_656f;

/// How many pairs to draw and what counts as an "object view".
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct McConfig {
    /// Number of view pairs.
    pub samples: u64,
    /// Seed of the run.
    pub seed: u64,
    /// `f`: a view is an *object view* when the area it shares with the object's bounding
    /// box is at least `f` times the view's own area (1: the view lies inside the box, the
    /// theory's `p1`; 0.5: the object box fills at least half of the view). Default 0.5.
    pub object_fraction: f64,
}

impl Default for McConfig {
    fn default() -> Self {
        Self { samples: 1_000_000, seed: 0, object_fraction: 0.5 }
    }
}

impl McConfig {
    /// Whether `view` counts as an object view of `object`. Integer areas, so `f = 1`
    /// means exactly "inside".
    #[inline]
    pub(crate) fn is_object_view(&self, view: &CropBox, object: &CropBox) -> bool {
        view.overlap(object) as f64 >= self.object_fraction * view.area() as f64
    }
}

/// A probability estimate with its standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The estimate.
    pub p: f64,
    /// Its standard error.
    pub se: f64,
}

impl Estimate {
    /// Binomial proportion `hits / n` with SE `sqrt(p (1 - p) / n)`.
    pub fn proportion(hits: u64, n: u64) -> Self {
        let p = hits as f64 / n.max(1) as f64;
        Self { p, se: (p * (1.0 - p) / n.max(1) as f64).sqrt() }
    }
}

/// Estimated probabilities of one scene.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct McEstimate {
    /// Pairs drawn.
    pub samples: u64,
    /// P(view 1 lies inside the object box): the theory's `p1`.
    pub p1: Estimate,
    /// P(view 2 contains the whole trigger): the theory's `p2`.
    pub p2: Estimate,
    /// `p1 * p2` (SE by the delta method, treating the two as independent).
    pub product: Estimate,
    /// P(view 1 inside the object and view 2 contains the trigger), jointly: equals
    /// `p1 * p2` for independent views, not for localized cropping.
    pub joint: Estimate,
    /// P(poisoned pair): one view is an object view ([`McConfig::object_fraction`]) and the
    /// other contains the whole trigger, in either order.
    pub pair: Estimate,
}

/// Runs `per_chunk(rng, n)` over all chunks in parallel and sums the integer results.
pub(crate) fn run_chunks<T, F>(cfg: &McConfig, zero: impl Fn() -> T + Sync, per_chunk: F) -> T
where
    T: Send,
    T: std::ops::AddAssign,
    F: Fn(&mut corruptencoder_core::Rng, u64, &mut T) + Sync,
{
    let chunks = cfg.samples.div_ceil(CHUNK);
    (0..chunks)
        .into_par_iter()
        .map(|c| {
            let n = CHUNK.min(cfg.samples - c * CHUNK);
            let mut acc = zero();
            per_chunk(&mut item_rng(cfg.seed, STREAM, c), n, &mut acc);
            acc
        })
        .reduce(&zero, |mut a, b| {
            a += b;
            a
        })
}

#[derive(Default, Clone, Copy)]
struct Counts([u64; 4]);

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, rhs: Self) {
        for (a, b) in self.0.iter_mut().zip(rhs.0) {
            *a += b;
        }
    }
}

/// Estimates [`McEstimate`]'s events for `scene` with views from `sampler`.
pub fn estimate<S: PairSampler>(scene: &Scene, sampler: &S, cfg: &McConfig) -> McEstimate {
    let (object, trigger) = (scene.object, scene.trigger);
    let counts = run_chunks(cfg, Counts::default, |rng, n, acc| {
        let mut c = [0u64; 4];
        sampler.for_each_pair(scene.width, scene.height, rng, n, |a, b| {
            // Every test evaluated and combined with `&`/`|`: the outcomes are close to
            // coin flips, so branches on them would mispredict.
            let inside = object.contains(&a);
            let has_trigger = b.contains(&trigger);
            let pair = (has_trigger & cfg.is_object_view(&a, &object))
                | (a.contains(&trigger) & cfg.is_object_view(&b, &object));
            c[0] += u64::from(inside);
            c[1] += u64::from(has_trigger);
            c[2] += u64::from(inside & has_trigger);
            c[3] += u64::from(pair);
        });
        *acc += Counts(c);
    });
    let n = cfg.samples;
    let [p1, p2, joint, pair] = counts.0.map(|k| Estimate::proportion(k, n));
    let product =
        Estimate { p: p1.p * p2.p, se: ((p1.p * p2.se).powi(2) + (p2.p * p1.se).powi(2)).sqrt() };
    McEstimate { samples: n, p1, p2, product, joint, pair }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::closed_form::square_probs;
    use crate::scene::Layout;
    use corruptencoder_augment::{CropPolicy, LocalizedCrop, RandomResizedCrop, SquareCrop};

    fn within(est: Estimate, exact: f64, k: f64) {
        assert!((est.p - exact).abs() <= k * est.se, "{} +- {} vs {exact}", est.p, est.se);
    }

    #[test]
    fn square_crops_agree_with_closed_forms_within_three_se() {
        let cfg = McConfig { samples: 200_000, seed: 5, object_fraction: 1.0 };
        for (layout, object, bg, s) in [
            (Layout::Left, (40, 30), 90, 20),
            (Layout::Right, (40, 30), 70, 24),
            (Layout::Top, (30, 40), 90, 16),
            (Layout::Bottom, (30, 40), 100, 30),
        ] {
            for offset in [0, 7] {
                let scene = Scene::new(layout, object, bg, 6, offset, None).unwrap();
                let exact = square_probs(&scene, s).unwrap();
                let mc = estimate(&scene, &SquareCrop { size: s }, &cfg);
                within(mc.p1, exact.p1, 3.0);
                within(mc.p2, exact.p2, 3.0);
                within(mc.joint, exact.product(), 3.0);
            }
        }
    }

    #[test]
    fn results_do_not_depend_on_thread_count() {
        let scene = Scene::centred(Layout::Left, (80, 60), 160, 8).unwrap();
        let cfg = McConfig { samples: 3 * CHUNK + 17, ..McConfig::default() };
        let policy = CropPolicy::Standard(RandomResizedCrop::default());
        let run = |threads| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| estimate(&scene, &policy, &cfg))
        };
        assert_eq!(run(1), run(3));
    }

    #[test]
    fn localized_cropping_lowers_the_poisoned_pair_probability() {
        // The authors' default geometry: object 400x300, background twice as wide,
        // trigger 40 centred in the free part.
        let scene = Scene::centred(Layout::Left, (400, 300), 800, 40).unwrap();
        let cfg = McConfig { samples: 100_000, seed: 1, ..McConfig::default() };
        let standard = estimate(&scene, &CropPolicy::Standard(RandomResizedCrop::default()), &cfg);
        let localized = estimate(&scene, &CropPolicy::Localized(LocalizedCrop::default()), &cfg);
        let gap = standard.pair.p - localized.pair.p;
        let se = standard.pair.se.hypot(localized.pair.se);
        assert!(gap > 5.0 * se, "standard {:?} localized {:?}", standard.pair, localized.pair);
        // Standard views are independent: joint = p1 p2 within noise.
        within(standard.joint, standard.product.p, 4.0);
    }
}
