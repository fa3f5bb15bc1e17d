//! Exhaustive whole-pixel search for the best square-view layout: the check on the closed
//! forms in [`crate::closed_form`], and the fallback where no closed form exists.
use crate::closed_form::{SquareOptimum, check_square, optimum_at, square_probs};
use crate::error::LayoutError;
use crate::scene::{Layout, Scene, free_slack};

/// Tries every background size along the axis in `object + trigger ..= max_background`
/// and every trigger offset in the free part (trigger centred across, the proven optimum
/// there), and returns the best `p1 * p2`; ties go to the smaller background, then the
/// smaller offset.
pub fn search_square_optimum(
    layout: Layout,
    object: (u32, u32),
    trigger: u32,
    s: u32,
    max_background: u32,
) -> Result<SquareOptimum, LayoutError> {
    let (o, _) = check_square(layout, object, trigger, s)?;
    let mut best: Option<(f64, u32, u32)> = None;
    for background in o + trigger..=max_background {
        for offset in 0..=free_slack(o, background, trigger)? {
            let scene = Scene::new(layout, object, background, trigger, offset, None)?;
            let value = square_probs(&scene, s)?.product();
            if best.is_none_or(|(v, _, _)| value > v) {
                best = Some((value, background, offset));
            }
        }
    }
    let (_, background, offset) =
        best.ok_or(LayoutError::NoRoom { object: o, background: max_background, trigger })?;
    optimum_at(layout, object, trigger, s, background, offset)
}

/// The best background size when the trigger is centred in the free part, by trying every
/// size in `object + trigger ..= max_background`.
pub fn search_centred_background(
    layout: Layout,
    object: (u32, u32),
    trigger: u32,
    s: u32,
    max_background: u32,
) -> Result<u32, LayoutError> {
    let (o, _) = check_square(layout, object, trigger, s)?;
    let mut best: Option<(f64, u32)> = None;
    for background in o + trigger..=max_background {
        let scene = Scene::centred(layout, object, background, trigger)?;
        let value = square_probs(&scene, s)?.product();
        if best.is_none_or(|(v, _)| value > v) {
            best = Some((value, background));
        }
    }
    best.map(|(_, b)| b).ok_or(LayoutError::NoRoom {
        object: o,
        background: max_background,
        trigger,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::closed_form::{centred_square_background, optimal_square_layout};

    /// (object along, object across, trigger, view side) covering both branches of the
    /// `min` in the closed form (`s` below and above `O/2 + e`).
    fn grid() -> impl Iterator<Item = (u32, u32, u32, u32)> {
        let mut cases = Vec::new();
        for o in [20, 37, 64] {
            for h in [o, o * 3 / 4] {
                for e in [1, 4, 9] {
                    for s in [e, e + 3, h / 2, h * 2 / 3, h] {
                        if e <= s && s <= o.min(h) {
                            cases.push((o, h, e, s));
                        }
                    }
                }
            }
        }
        cases.into_iter()
    }

    #[test]
    fn closed_form_optimum_equals_exhaustive_search() {
        for (o, h, e, s) in grid() {
            for layout in [Layout::Left, Layout::Bottom] {
                let object = if layout.is_horizontal() { (o, h) } else { (h, o) };
                let closed = optimal_square_layout(layout, object, e, s).unwrap();
                let found = search_square_optimum(layout, object, e, s, 3 * o + 2 * s).unwrap();
                assert_eq!(closed, found, "o={o} h={h} e={e} s={s} {layout:?}");
                // The trigger touches the object at the optimum.
                assert_eq!(found.offset, 0);
            }
        }
    }

    #[test]
    fn spec_centred_formula_is_the_continuous_optimum_and_near_the_pixel_one() {
        // The continuous model (method.md section 4; p1 = 0 when s = O): view start uniform on
        // [0, B - s], lengths
        // instead of counts, trigger centred at x_t = (O + B - e) / 2.
        let continuous = |o: f64, e: f64, s: f64, b: f64| {
            let len = |lo: f64, hi: f64| (hi.min(b - s) - lo.max(0.0)).max(0.0);
            let x_t = (o + b - e) / 2.0;
            len(0.0, o - s) * len(x_t + e - s, x_t) / (b - s).powi(2)
        };
        for (o, h, e, s) in grid().filter(|c| c.2 < c.3 && c.3 < c.0) {
            let spec = centred_square_background(Layout::Left, (o, h), e, s).unwrap();
            let (of, ef, sf) = (f64::from(o), f64::from(e), f64::from(s));
            let best = (0..=40_000)
                .map(|k| of + ef + f64::from(k) * 0.01)
                .max_by(|a, b| continuous(of, ef, sf, *a).total_cmp(&continuous(of, ef, sf, *b)))
                .unwrap();
            assert!((best - f64::from(spec)).abs() < 0.02, "o={o} e={e} s={s}: {best} vs {spec}");
            // Whole-pixel positions (+1 per count) and a half-pixel centre move the pixel
            // model's optimum a few pixels below the continuous one.
            let found = search_centred_background(Layout::Left, (o, h), e, s, 3 * o + 2 * s);
            let found = found.unwrap();
            assert!(spec.abs_diff(found) <= 5, "o={o} h={h} e={e} s={s}: {spec} vs {found}");
        }
    }

    #[test]
    fn taller_backgrounds_and_off_centre_rows_never_help() {
        let (o, h, e, s) = (40, 30, 5, 16);
        let best = optimal_square_layout(Layout::Left, (o, h), e, s).unwrap();
        let value = best.probs.product();
        // Extra rows below the object (the object box stays at the top corner).
        for b_h in h..h + 20 {
            for y in 0..=b_h - e {
                let mut scene = best.scene;
                scene.height = b_h;
                scene.trigger.y = y;
                let v = square_probs(&scene, s).unwrap().product();
                assert!(v <= value + 1e-15, "b_h={b_h} y={y}: {v} > {value}");
            }
        }
    }

    #[test]
    fn centred_trigger_is_optimal_only_on_the_plateau() {
        let (o, h, e, s) = (40, 40, 4, 16);
        let value = |b, off| {
            let scene = Scene::new(Layout::Left, (o, h), b, e, off, None).unwrap();
            square_probs(&scene, s).unwrap().product()
        };
        // Wide background (b >= O + 2s - e): every offset up to b - s - O is equally good,
        // the centre among them.
        let b = o + 2 * s;
        let centre = (b - o - e) / 2;
        assert_eq!(value(b, centre), value(b, 0));
        // At the optimal width the centre loses to the trigger against the object.
        let best = optimal_square_layout(Layout::Left, (o, h), e, s).unwrap();
        let centre = (best.background - o - e) / 2;
        assert!(value(best.background, centre) < 0.8 * best.probs.product());
        // And the best centred layout is worse than the joint optimum.
        let bc = search_centred_background(Layout::Left, (o, h), e, s, 4 * o).unwrap();
        let centred = square_probs(&Scene::centred(Layout::Left, (o, h), bc, e).unwrap(), s);
        assert!(centred.unwrap().product() < best.probs.product());
    }
}
