//! The poisoned-pair probability for every trigger position at once.
//!
//! For a fixed object, whether a view is an object view does not depend on the trigger, and
//! the trigger positions a view contains form a rectangle. So each sampled pair adds one
//! or two rectangles (inclusion-exclusion when both views are object views) to a 2-D
//! difference array, and one prefix sum per chunk turns them into counts: a whole map costs
//! about as much as a single [`crate::estimate`].
use corruptencoder_augment::{CropBox, PairSampler};
use serde::{Deserialize, Serialize};

use crate::monte_carlo::{Estimate, McConfig, run_chunks};

/// The grid of trigger positions (top-left corners) a map covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerGrid {
    /// Left column of the first position.
    pub x0: u32,
    /// Top row of the first position.
    pub y0: u32,
    /// Pixels between neighbouring positions.
    pub stride: u32,
    /// Positions across.
    pub nx: u32,
    /// Positions down.
    pub ny: u32,
}

impl TriggerGrid {
    /// Every `stride`-th position at which a `trigger`-sided trigger fits in the image.
    pub fn whole_image(width: u32, height: u32, trigger: u32, stride: u32) -> Self {
        let stride = stride.max(1);
        let n = |side: u32| side.saturating_sub(trigger) / stride + 1;
        Self { x0: 0, y0: 0, stride, nx: n(width), ny: n(height) }
    }

    /// The pixel position of cell `(i, j)`.
    pub fn position(&self, i: u32, j: u32) -> (u32, u32) {
        (self.x0 + i * self.stride, self.y0 + j * self.stride)
    }

    /// Cells whose coordinate lies in `lo..=hi` along one axis starting at `origin`,
    /// clipped to `0..n`; `None` if empty.
    fn cells(&self, origin: u32, n: u32, lo: i64, hi: i64) -> Option<(usize, usize)> {
        let (origin, stride) = (i64::from(origin), i64::from(self.stride));
        let first = ((lo - origin).max(0) + stride - 1) / stride;
        let last = (hi - origin).div_euclid(stride).min(i64::from(n) - 1);
        (hi >= origin && first <= last).then_some((first as usize, last as usize))
    }

    /// The cells of trigger positions that `view` contains whole: a rectangle of cells.
    fn contained_by(&self, view: &CropBox, trigger: u32) -> Option<Rect> {
        let span = |at: u32, len: u32| {
            (i64::from(at), i64::from(at) + i64::from(len) - i64::from(trigger))
        };
        let (xl, xh) = span(view.x, view.w);
        let (yl, yh) = span(view.y, view.h);
        Some(Rect {
            x: self.cells(self.x0, self.nx, xl, xh)?,
            y: self.cells(self.y0, self.ny, yl, yh)?,
        })
    }
}

/// An inclusive rectangle of cells.
#[derive(Clone, Copy)]
struct Rect {
    x: (usize, usize),
    y: (usize, usize),
}

impl Rect {
    fn intersect(self, o: Rect) -> Option<Rect> {
        let x = (self.x.0.max(o.x.0), self.x.1.min(o.x.1));
        let y = (self.y.0.max(o.y.0), self.y.1.min(o.y.1));
        (x.0 <= x.1 && y.0 <= y.1).then_some(Rect { x, y })
    }
}

/// P(poisoned pair) for every trigger position of a grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriggerMap {
    /// The positions.
    pub grid: TriggerGrid,
    /// Pairs drawn.
    pub samples: u64,
    /// Poisoned pairs per cell, row-major (`j * nx + i`).
    pub counts: Vec<u64>,
}

impl TriggerMap {
    /// The estimate at cell `(i, j)`.
    pub fn at(&self, i: u32, j: u32) -> Estimate {
        Estimate::proportion(self.counts[(j * self.grid.nx + i) as usize], self.samples)
    }

    /// The cell with the most poisoned pairs among those `allowed` (first in row-major
    /// order on ties), or `None` if none is allowed.
    pub fn best(&self, allowed: impl Fn(u32, u32) -> bool) -> Option<(u32, u32)> {
        let nx = self.grid.nx;
        (0..self.counts.len() as u32)
            .map(|k| (k % nx, k / nx))
            .filter(|&(i, j)| allowed(i, j))
            .max_by_key(|&(i, j)| (self.counts[(j * nx + i) as usize], std::cmp::Reverse((j, i))))
    }
}

struct Diff {
    nx: usize,
    cells: Vec<i64>,
}

impl std::ops::AddAssign for Diff {
    fn add_assign(&mut self, rhs: Self) {
        for (a, b) in self.cells.iter_mut().zip(rhs.cells) {
            *a += b;
        }
    }
}

impl Diff {
    fn add(&mut self, r: Rect, v: i64) {
        let w = self.nx + 1;
        self.cells[r.y.0 * w + r.x.0] += v;
        self.cells[r.y.0 * w + r.x.1 + 1] -= v;
        self.cells[(r.y.1 + 1) * w + r.x.0] -= v;
        self.cells[(r.y.1 + 1) * w + r.x.1 + 1] += v;
    }
}

/// Estimates P(poisoned pair) (as in [`crate::McEstimate::pair`]) for a trigger of side
/// `trigger` at every position of `grid`, with the object box `object` in a
/// `width x height` image. Positions overlapping the object are computed too; callers mask
/// them.
pub fn trigger_map<S: PairSampler>(
    (width, height): (u32, u32),
    object: CropBox,
    trigger: u32,
    grid: TriggerGrid,
    sampler: &S,
    cfg: &McConfig,
) -> TriggerMap {
    let (nx, ny) = (grid.nx as usize, grid.ny as usize);
    let zero = || Diff { nx, cells: vec![0; (nx + 1) * (ny + 1)] };
    let diff = run_chunks(cfg, zero, |rng, n, acc| {
        sampler.for_each_pair(width, height, rng, n, |a, b| {
            let ra = cfg.is_object_view(&a, &object).then(|| grid.contained_by(&b, trigger));
            let rb = cfg.is_object_view(&b, &object).then(|| grid.contained_by(&a, trigger));
            // A trigger in either rectangle makes a poisoned pair: count the union once.
            for r in [ra, rb].into_iter().flatten().flatten() {
                acc.add(r, 1);
            }
            if let (Some(Some(ra)), Some(Some(rb))) = (ra, rb)
                && let Some(both) = ra.intersect(rb)
            {
                acc.add(both, -1);
            }
        });
    });
    // Prefix sums over the summed differences (sums commute, so this is exact).
    let w = nx + 1;
    let mut counts = vec![0u64; nx * ny];
    let mut row = vec![0i64; w];
    for j in 0..ny {
        let mut run = 0i64;
        for i in 0..nx {
            run += diff.cells[j * w + i];
            row[i] += run;
            counts[j * nx + i] = row[i] as u64;
        }
    }
    TriggerMap { grid, samples: cfg.samples, counts }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monte_carlo::estimate;
    use crate::scene::{Layout, Scene};
    use corruptencoder_augment::{CropPolicy, LocalizedCrop};

    #[test]
    fn every_cell_equals_the_direct_estimate_with_the_same_draws() {
        let object = (50, 40);
        let policy = CropPolicy::Localized(LocalizedCrop::default());
        let cfg = McConfig { samples: 20_000, seed: 9, object_fraction: 0.5 };
        let scene = Scene::centred(Layout::Left, object, 110, 7).unwrap();
        let grid = TriggerGrid::whole_image(scene.width, scene.height, 7, 4);
        let map = trigger_map((110, 40), scene.object, 7, grid, &policy, &cfg);
        for (i, j) in [(0, 0), (13, 2), (15, 8), (grid.nx - 1, grid.ny - 1), (25, 5)] {
            let (x, y) = grid.position(i, j);
            let mut s = scene;
            s.trigger = CropBox { x, y, w: 7, h: 7 };
            // Same seed, same chunks, same draws: counts must match exactly.
            assert_eq!(map.at(i, j), estimate(&s, &policy, &cfg).pair, "cell {i},{j}");
        }
    }
}
