//! The crop sizes torchvision's RandomResizedCrop accepts, as a region of the plane, so
//! that accepted sizes can be drawn directly instead of through its ten-try loop.
//!
//! torchvision draws `s ~ U(scale)` and `u ~ U(log ratio)` and takes the real sides
//! `w = sqrt(A s e^u)`, `h = sqrt(A s e^-u)` (A: image area) before rounding. The map
//! `(s, u) -> (w, h)` is one-to-one with constant Jacobian (`s = wh / A`, `u = ln(w / h)`,
//! `|d(s, u) / d(w, h)| = 2 / A`), so each try is a point uniform on
//! `R = {A s0 <= wh <= A s1, r0 h <= w <= r1 h}`. A try is accepted when both rounded
//! sides lie in `1..=W`, `1..=H`, i.e. `0.5 <= w < W + 0.5` and `0.5 <= h < H + 0.5`; call
//! that part of `R` the accepted region `Acc`, and `p = |Acc| / |R|`. Ten independent
//! tries then give: the centre-crop fallback with probability `(1 - p)^10`, otherwise the
//! first accepted try, which is uniform on `Acc`. [`AcceptedRegion`] draws exactly that: one
//! uniform for the fallback, then a point uniform on `Acc` by rejection from its bounding
//! box, where membership needs four products and no `exp`, `sqrt` or `ln`.
use rand::RngCore;

use corruptencoder_core::Rng;

use crate::draws::unit32;

/// RandomResizedCrop's accepted sizes for one image size and parameter set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct AcceptedRegion {
    /// `(1 - p)^10`: the probability that all ten tries fail.
    all_fail: f64,
    /// Bounding box of the region: `w0 + w_span * U`, `h0 + h_span * U`.
    w0: f64,
    w_span: f64,
    h0: f64,
    h_span: f64,
    /// The region's area bounds `A s0, A s1` and ratio bounds `r0, r1`.
    a_lo: f64,
    a_hi: f64,
    r_lo: f64,
    r_hi: f64,
    /// Image sides, to keep rounded sides in range at the box's float edge.
    width: u32,
    height: u32,
}

/// Share of the bounding box the region must fill for direct drawing to pay; below it
/// (a nearly fixed aspect ratio makes a thin diagonal sliver) the loop is used instead.
const MIN_FILL: f64 = 0.05;

impl AcceptedRegion {
    /// The region for a `width x height` image, or `None` where the law cannot be drawn
    /// this way: a degenerate range (a fixed scale or ratio has no area in the plane),
    /// non-positive or non-finite bounds, or a region too thin for rejection to be quick.
    pub(crate) fn new(
        scale: (f64, f64),
        ratio: (f64, f64),
        width: u32,
        height: u32,
    ) -> Option<Self> {
        // Checked before min/max, which would drop a NaN.
        let finite = [scale.0, scale.1, ratio.0, ratio.1].iter().all(|v| v.is_finite());
        // Reversed bounds draw the same uniform law (`uniform(a, b)` with `a > b`).
        let (s0, s1) = (scale.0.min(scale.1), scale.0.max(scale.1));
        let (r0, r1) = (ratio.0.min(ratio.1), ratio.0.max(ratio.1));
        if !(finite && s0 > 0.0 && s1 > s0 && r0 > 0.0 && r1 > r0 && width > 0 && height > 0) {
            return None;
        }
        let area = f64::from(width) * f64::from(height);
        let (a_lo, a_hi) = (area * s0, area * s1);
        let (w_max, h_max) = (f64::from(width) + 0.5, f64::from(height) + 0.5);
        // Each bound below holds for every point of the region given the others (e.g.
        // `w >= r0 h >= r0 h_lo`), so refining them twice keeps them valid and tightens
        // the box on wide or tall images.
        let mut w = (0.5f64.max((a_lo * r0).sqrt()), w_max.min((a_hi * r1).sqrt()));
        let mut h = (0.5f64.max((a_lo / r1).sqrt()), h_max.min((a_hi / r0).sqrt()));
        for _ in 0..2 {
            w = (w.0.max(r0 * h.0).max(a_lo / h.1), w.1.min(r1 * h.1).min(a_hi / h.0));
            h = (h.0.max(w.0 / r1).max(a_lo / w.1), h.1.min(w.1 / r0).min(a_hi / w.0));
        }
        let accepted = if w.0 < w.1 && h.0 < h.1 {
            let lo = [Piece::Lin(r0), Piece::Hyp(a_lo), Piece::Const(0.5)];
            let hi = [Piece::Lin(r1), Piece::Hyp(a_hi), Piece::Const(w_max)];
            region_area(lo, hi, h)
        } else {
            0.0
        };
        let box_area = (w.1 - w.0) * (h.1 - h.0);
        if accepted > 0.0 && accepted < MIN_FILL * box_area {
            return None;
        }
        // |R| in (w, h) is |(s, u) rectangle| * A / 2 (the Jacobian above).
        let tries_area = area / 2.0 * (s1 - s0) * (r1 / r0).ln();
        let p = (accepted / tries_area).clamp(0.0, 1.0);
        Some(Self {
            all_fail: (1.0 - p).powi(10),
            w0: w.0,
            w_span: (w.1 - w.0).max(0.0),
            h0: h.0,
            h_span: (h.1 - h.0).max(0.0),
            a_lo,
            a_hi,
            r_lo: r0,
            r_hi: r1,
            width,
            height,
        })
    }

    /// Probability that torchvision's loop ends in the fallback.
    #[cfg(test)]
    pub(crate) fn fallback_probability(&self) -> f64 {
        self.all_fail
    }

    /// The rounded sides `(w, h)` of one crop, or `None` for the fallback.
    #[inline]
    pub(crate) fn sample(&self, rng: &mut Rng) -> Option<(u32, u32)> {
        if unit32(rng.next_u32()) < self.all_fail {
            return None;
        }
        loop {
            let bits = rng.next_u64();
            let w = self.w0 + self.w_span * unit32((bits >> 32) as u32);
            let h = self.h0 + self.h_span * unit32(bits as u32);
            let a = w * h;
            // Non-short-circuit `&`: one well-predicted branch instead of four.
            if (a >= self.a_lo) & (a < self.a_hi) & (w >= self.r_lo * h) & (w < self.r_hi * h) {
                // `w < W + 0.5`, so rounding (half up; w > 0) gives 1..=W; the clamp only
                // guards the box's float edge.
                let round = |v: f64, max: u32| ((v + 0.5) as u32).clamp(1, max);
                return Some((round(w, self.width), round(h, self.height)));
            }
        }
    }
}

/// One bound of the region's `w` as a function of `h`.
#[derive(Debug, Clone, Copy)]
enum Piece {
    /// `c h`.
    Lin(f64),
    /// `c / h`.
    Hyp(f64),
    /// `c`.
    Const(f64),
}

impl Piece {
    fn at(self, h: f64) -> f64 {
        match self {
            Self::Lin(c) => c * h,
            Self::Hyp(c) => c / h,
            Self::Const(c) => c,
        }
    }

    /// `∫ self dh` over `h1..h2`, exactly.
    fn integral(self, h1: f64, h2: f64) -> f64 {
        match self {
            Self::Lin(c) => c * (h2 * h2 - h1 * h1) / 2.0,
            Self::Hyp(c) => c * (h2 / h1).ln(),
            Self::Const(c) => c * (h2 - h1),
        }
    }

    /// The `h > 0` where the two pieces are equal, if one (all coefficients are positive).
    fn crossing(self, other: Self) -> Option<f64> {
        let h = match (self, other) {
            (Self::Lin(a), Self::Hyp(b)) | (Self::Hyp(b), Self::Lin(a)) => (b / a).sqrt(),
            (Self::Lin(a), Self::Const(c)) | (Self::Const(c), Self::Lin(a)) => c / a,
            (Self::Hyp(b), Self::Const(c)) | (Self::Const(c), Self::Hyp(b)) => b / c,
            _ => return None,
        };
        h.is_finite().then_some(h)
    }
}

/// `∫ (min(hi) - max(lo))+ dh` over `range`: cut at every crossing of two pieces, so on
/// each cut the largest `lo` and smallest `hi` piece stay the same and integrate exactly.
fn region_area(lo: [Piece; 3], hi: [Piece; 3], range: (f64, f64)) -> f64 {
    let pieces = [lo[0], lo[1], lo[2], hi[0], hi[1], hi[2]];
    let mut cuts = [0.0; 17];
    cuts[..2].copy_from_slice(&[range.0, range.1]);
    let mut n = 2;
    for (i, a) in pieces.iter().enumerate() {
        for b in &pieces[i + 1..] {
            if let Some(h) = a.crossing(*b).filter(|h| range.0 < *h && *h < range.1) {
                cuts[n] = h;
                n += 1;
            }
        }
    }
    let cuts = &mut cuts[..n];
    cuts.sort_by(f64::total_cmp);
    let extreme = |set: [Piece; 3], h: f64, pick_max: bool| {
        set.into_iter()
            .reduce(|a, b| if (b.at(h) > a.at(h)) == pick_max { b } else { a })
            .expect("three pieces")
    };
    cuts.windows(2)
        .map(|c| {
            let mid = 0.5 * (c[0] + c[1]);
            let (l, u) = (extreme(lo, mid, true), extreme(hi, mid, false));
            if u.at(mid) > l.at(mid) {
                u.integral(c[0], c[1]) - l.integral(c[0], c[1])
            } else {
                0.0
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `∫ (min(hi) - max(lo))+ dh` by the midpoint rule.
    fn numeric_area(lo: [Piece; 3], hi: [Piece; 3], (a, b): (f64, f64)) -> f64 {
        let n = 200_000;
        let dh = (b - a) / f64::from(n);
        (0..n)
            .map(|k| {
                let h = a + (f64::from(k) + 0.5) * dh;
                let l = lo.iter().map(|p| p.at(h)).fold(f64::MIN, f64::max);
                let u = hi.iter().map(|p| p.at(h)).fold(f64::MAX, f64::min);
                (u - l).max(0.0) * dh
            })
            .sum()
    }

    #[test]
    fn region_area_matches_numeric_integration() {
        for (scale, ratio, w, h) in [
            ((0.2, 1.0), (0.75, 4.0 / 3.0), 800, 300),
            ((0.2, 1.0), (0.75, 4.0 / 3.0), 300, 800),
            ((0.08, 1.0), (0.75, 4.0 / 3.0), 224, 224),
            ((0.05, 1.0), (0.5, 2.0), 7, 3),
            ((0.5, 0.9), (0.2, 5.0), 1, 1),
            ((0.01, 0.3), (0.9, 1.1), 1067, 400),
        ] {
            let area = f64::from(w) * f64::from(h);
            let (a_lo, a_hi) = (area * scale.0, area * scale.1);
            let lo = [Piece::Lin(ratio.0), Piece::Hyp(a_lo), Piece::Const(0.5)];
            let hi = [Piece::Lin(ratio.1), Piece::Hyp(a_hi), Piece::Const(f64::from(w) + 0.5)];
            let range = (0.5, f64::from(h) + 0.5);
            let exact = region_area(lo, hi, range);
            let numeric = numeric_area(lo, hi, range);
            assert!((exact - numeric).abs() <= 1e-6 * area.max(1.0), "{exact} vs {numeric}");
        }
    }

    #[test]
    fn degenerate_ranges_have_no_region() {
        let r = (0.75, 4.0 / 3.0);
        assert_eq!(AcceptedRegion::new((0.5, 0.5), r, 100, 100), None);
        assert_eq!(AcceptedRegion::new((0.2, 1.0), (1.0, 1.0), 100, 100), None);
        assert_eq!(AcceptedRegion::new((0.0, 1.0), r, 100, 100), None);
        assert_eq!(AcceptedRegion::new((0.2, f64::NAN), r, 100, 100), None);
        // A nearly fixed ratio is a thin sliver of its box: left to the loop.
        assert_eq!(AcceptedRegion::new((0.08, 1.0), (1.0, 1.001), 100, 100), None);
        // Reversed bounds are the same law.
        assert_eq!(
            AcceptedRegion::new((1.0, 0.2), (r.1, r.0), 300, 200),
            AcceptedRegion::new((0.2, 1.0), r, 300, 200)
        );
    }

    #[test]
    fn impossible_scales_always_fall_back() {
        let region = AcceptedRegion::new((2.0, 3.0), (0.75, 4.0 / 3.0), 100, 1000).unwrap();
        assert_eq!(region.fallback_probability(), 1.0);
        let mut rng = corruptencoder_core::item_rng(0, 0, 0);
        assert!((0..100).all(|_| region.sample(&mut rng).is_none()));
    }
}
