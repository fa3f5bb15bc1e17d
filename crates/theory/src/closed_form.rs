//! Exact crop probabilities for fixed `s x s` square views and the optimal layout
//! (method.md section 4).
//!
//! The model counts whole-pixel view positions, as [`SquareCrop`] samples them: a view's
//! left column is uniform on `0..=W-s`, so `W - s + 1` positions (the continuous model of
//! the paper uses the length `W - s`; the two agree up to one pixel).
//!
//! Derivation for the left layout (the others are mirror images or swap width and height),
//! object `O x H`, trigger side `e`, background `B x H`, `e <= s <= min(O, H)`:
//! - `p1 = (O - s + 1)/(B - s + 1) * (H - s + 1)/(H - s + 1)`. A taller background only
//!   divides both `p1` and `p2` by more rows, so `b_h = H` is optimal.
//! - The trigger at column `x_t >= O` is in a view at column `x` iff
//!   `x_t + e - s <= x <= x_t`; with `x <= B - s` that is
//!   `min(s - e, B - s - x_t + s - e) + 1` positions (the lower bound never binds, as
//!   `x_t >= O >= s`). This *falls* as the trigger moves away from the object: along the
//!   axis the object side is not an image edge, so nothing pushes the trigger off it.
//!   Across, both sides are image edges and the centred row is optimal.
//! - Hence the joint optimum puts the trigger against the object (`x_t = O`) and, with
//!   `u = B - s + 1`, `c = O + e - s`, maximises `min(s - e + 1, u - c) / u^2`:
//!   `(u - c)/u^2` peaks at `u = 2c` and the cap binds from `B = O + s` on, so
//!   **`b_w* = min(2 O + 2e - s - 1, O + s)`** (continuous model: `min(2 O + 2e - s, O + s)`).
//! - With the trigger *centred* in the free part (method.md's rule, `x_t = O + (B - O - e)/2`),
//!   the count is `min(s - e, (B - O - e)/2) + 1` and the same steps give method.md section 4's
//!   **`b_w* = min(2 O + 2e - s, O - e + 2s)`** (continuous model; the pixel model is within
//!   a few pixels of it). method.md's formula is right for that rule, but the rule itself is not
//!   optimal in this model: see [`crate::optimal_square_layout`].
//!
//! [`SquareCrop`]: corruptencoder_augment::SquareCrop
use corruptencoder_augment::CropBox;
use serde::{Deserialize, Serialize};

use crate::error::LayoutError;
use crate::scene::{Layout, Scene, along_across};

/// `p1`, `p2` for square views of one scene.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SquareProbs {
    /// P(a view lies inside the object box).
    pub p1: f64,
    /// P(a view contains the whole trigger).
    pub p2: f64,
}

impl SquareProbs {
    /// `p1 * p2`: the probability that two independent views split object and trigger in
    /// this order (view 1 object, view 2 trigger), the quantity the theory maximises.
    pub fn product(&self) -> f64 {
        self.p1 * self.p2
    }
}

/// Exact `p1`, `p2` for `s x s` views of `scene`, any layout.
pub fn square_probs(scene: &Scene, s: u32) -> Result<SquareProbs, LayoutError> {
    if s == 0 || s > scene.width || s > scene.height {
        return Err(LayoutError::ViewTooLarge {
            view: s,
            width: scene.width,
            height: scene.height,
        });
    }
    let axis = |inside: fn(i64, i64, i64) -> (i64, i64), b: &CropBox| {
        let nx = positions(inside(b.x.into(), b.w.into(), s.into()), scene.width - s);
        let ny = positions(inside(b.y.into(), b.h.into(), s.into()), scene.height - s);
        nx as f64 * ny as f64
    };
    let total = f64::from(scene.width - s + 1) * f64::from(scene.height - s + 1);
    Ok(SquareProbs {
        p1: axis(view_inside, &scene.object) / total,
        p2: axis(view_contains, &scene.trigger) / total,
    })
}

/// View starts `x` with `[x, x + s)` inside `[lo, lo + len)`.
fn view_inside(lo: i64, len: i64, s: i64) -> (i64, i64) {
    (lo, lo + len - s)
}

/// View starts `x` with `[x, x + s)` covering `[lo, lo + len)`.
fn view_contains(lo: i64, len: i64, s: i64) -> (i64, i64) {
    (lo + len - s, lo)
}

/// Whole positions of the closed range `a..=b` that also lie in `0..=last`.
fn positions((a, b): (i64, i64), last: u32) -> u64 {
    let (a, b) = (a.max(0), b.min(i64::from(last)));
    if b < a { 0 } else { (b - a + 1) as u64 }
}

/// An optimal layout for square views.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SquareOptimum {
    /// Background size along the layout axis (the other side equals the object's).
    pub background: u32,
    /// Gap between object and trigger along the axis, in pixels.
    pub offset: u32,
    /// The scene at the optimum.
    pub scene: Scene,
    /// Its probabilities.
    pub probs: SquareProbs,
}

impl SquareOptimum {
    /// Background size along the axis over the object's.
    pub fn area_ratio(&self, layout: Layout, object: (u32, u32)) -> f64 {
        f64::from(self.background) / f64::from(along_across(layout, object).0)
    }
}

/// Checks `e <= s <= min(object sides)`, outside which `p1 * p2` is zero for every layout.
pub(crate) fn check_square(
    layout: Layout,
    object: (u32, u32),
    trigger: u32,
    s: u32,
) -> Result<(u32, u32), LayoutError> {
    let (o, h) = along_across(layout, object);
    if trigger == 0 || trigger > s || s > o.min(h) {
        return Err(LayoutError::DegenerateSquare { view: s, trigger, object });
    }
    Ok((o, h))
}

/// The closed-form optimum over background size and trigger position for `s x s` views:
/// trigger against the object, centred across, `b* = min(2 O + 2e - s - 1, O + s)` along
/// (module docs give the derivation; [`crate::search_square_optimum`] confirms it).
pub fn optimal_square_layout(
    layout: Layout,
    object: (u32, u32),
    trigger: u32,
    s: u32,
) -> Result<SquareOptimum, LayoutError> {
    let (o, _) = check_square(layout, object, trigger, s)?;
    let background = (2 * o + 2 * trigger - s - 1).min(o + s);
    optimum_at(layout, object, trigger, s, background, 0)
}

/// method.md section 4's formula for the best background with the trigger centred in the free
/// part, `b* = min(2 O + 2e - s, O - e + 2s)`, rounded to whole pixels. A conditional
/// optimum: [`optimal_square_layout`] does better by moving the trigger.
pub fn centred_square_background(
    layout: Layout,
    object: (u32, u32),
    trigger: u32,
    s: u32,
) -> Result<u32, LayoutError> {
    let (o, _) = check_square(layout, object, trigger, s)?;
    Ok((2 * o + 2 * trigger - s).min(o + 2 * s - trigger))
}

pub(crate) fn optimum_at(
    layout: Layout,
    object: (u32, u32),
    trigger: u32,
    s: u32,
    background: u32,
    offset: u32,
) -> Result<SquareOptimum, LayoutError> {
    let scene = Scene::new(layout, object, background, trigger, offset, None)?;
    Ok(SquareOptimum { background, offset, scene, probs: square_probs(&scene, s)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_counted_probabilities() {
        // Object 4x4 in a 10x4 background, views 2x2: 9 x 3 positions. Inside the object:
        // x in 0..=2, all 3 rows -> 9/27. Trigger 1x1 at (6, 1): x in 5..=6, y in 0..=1.
        let scene = Scene::new(Layout::Left, (4, 4), 10, 1, 2, Some(1)).unwrap();
        let p = square_probs(&scene, 2).unwrap();
        assert!((p.p1 - 9.0 / 27.0).abs() < 1e-12);
        assert!((p.p2 - 4.0 / 27.0).abs() < 1e-12);
        assert!(square_probs(&scene, 5).is_err());
    }

    #[test]
    fn layouts_are_mirror_images() {
        let at = |l| {
            let scene = Scene::new(l, (60, 50), 130, 8, 7, Some(11)).unwrap();
            square_probs(&scene, 30).unwrap()
        };
        let (left, right) = (at(Layout::Left), at(Layout::Right));
        assert_eq!(left, right);
        let at_v = |l| {
            let scene = Scene::new(l, (50, 60), 130, 8, 7, Some(11)).unwrap();
            square_probs(&scene, 30).unwrap()
        };
        assert_eq!(at_v(Layout::Top), left);
        assert_eq!(at_v(Layout::Bottom), left);
    }

    #[test]
    fn spec_example_is_about_twice_the_object_for_centred_triggers() {
        // s ~ o/2, e ~ o/10: method.md quotes 1.6-1.9 o_w.
        let b = centred_square_background(Layout::Left, (400, 300), 40, 200).unwrap();
        assert_eq!(b, 680);
        let best = optimal_square_layout(Layout::Left, (400, 300), 40, 200).unwrap();
        assert_eq!((best.background, best.offset), (600, 0));
    }
}
