//! CTRL's frequency trigger (method.md section 5): RGB -> YUV, orthonormal block DCT-II of the
//! chroma planes, a fixed magnitude added at fixed frequencies, inverse, YUV -> RGB.
use std::sync::Arc;

use corruptencoder_core::SettingError;
use image::RgbImage;
use rustdct::{DctPlanner, TransformType2And3};

use crate::error::Result;

/// Orthonormal 2-D DCT-II (and its inverse, DCT-III) of `n x n` row-major blocks, built on
/// `rustdct`'s unnormalised 1-D transforms, rescaled to match `cv2.dct` / scipy's
/// `norm="ortho"`, which CTRL's code uses.
#[derive(Clone)]
pub struct BlockDct {
    n: usize,
    plan: Arc<dyn TransformType2And3<f64>>,
}

impl std::fmt::Debug for BlockDct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockDct").field("n", &self.n).finish()
    }
}

impl BlockDct {
    /// Plans the transform for `n x n` blocks.
    pub fn new(n: usize) -> Self {
        Self { n, plan: DctPlanner::new().plan_dct2(n) }
    }

    /// Block side.
    pub fn size(&self) -> usize {
        self.n
    }

    /// In-place orthonormal 2-D DCT-II of `block` (`n * n` values, row-major).
    pub fn forward(&self, block: &mut [f64]) {
        let n = self.n;
        let (s0, sk) = ((1.0 / n as f64).sqrt(), (2.0 / n as f64).sqrt());
        self.rows_then_columns(block, |row| {
            self.plan.process_dct2(row);
            row[0] *= s0;
            row[1..].iter_mut().for_each(|v| *v *= sk);
        });
    }

    /// In-place inverse of [`BlockDct::forward`].
    pub fn inverse(&self, block: &mut [f64]) {
        let n = self.n;
        // rustdct's DCT-III computes x_j = X_0/2 + sum_k X_k cos(..), so the orthonormal
        // inverse needs X_0 scaled by 2/sqrt(n) and the rest by sqrt(2/n).
        let (s0, sk) = (2.0 * (1.0 / n as f64).sqrt(), (2.0 / n as f64).sqrt());
        self.rows_then_columns(block, |row| {
            row[0] *= s0;
            row[1..].iter_mut().for_each(|v| *v *= sk);
            self.plan.process_dct3(row);
        });
    }

    /// A separable 2-D transform: `f` on every row, then on every column.
    fn rows_then_columns(&self, block: &mut [f64], f: impl Fn(&mut [f64])) {
        let n = self.n;
        assert_eq!(block.len(), n * n, "block must hold n*n values");
        block.chunks_exact_mut(n).for_each(&f);
        let mut col = vec![0.0; n];
        for c in 0..n {
            (0..n).for_each(|r| col[r] = block[r * n + c]);
            f(&mut col);
            (0..n).for_each(|r| block[r * n + c] = col[r]);
        }
    }
}

/// method.md's RGB -> YUV (as CTRL's code).
pub fn rgb_to_yuv([r, g, b]: [f64; 3]) -> [f64; 3] {
    [
        0.299 * r + 0.587 * g + 0.114 * b,
        -0.14713 * r - 0.28886 * g + 0.436 * b,
        0.615 * r - 0.51499 * g - 0.10001 * b,
    ]
}

/// method.md's YUV -> RGB (as CTRL's code).
pub fn yuv_to_rgb([y, u, v]: [f64; 3]) -> [f64; 3] {
    [y + 1.13983 * v, y - 0.39465 * u - 0.58060 * v, y + 2.03211 * u]
}

/// The CTRL trigger: `magnitude` added at `positions` (row, column within a block) of the
/// U and V planes' block DCT.
///
/// Only whole `window x window` blocks are triggered: the right and bottom strips of an
/// image whose sides are not multiples of the window are left unchanged (CTRL's code
/// assumes multiples; cutting would change the image size, padding would put trigger
/// energy outside the image).
#[derive(Debug, Clone)]
pub struct FrequencyTrigger {
    dct: BlockDct,
    magnitude: f64,
    positions: Vec<[usize; 2]>,
}

impl FrequencyTrigger {
    /// Checks that every position lies inside the window.
    pub fn new(window: usize, magnitude: f64, positions: Vec<[usize; 2]>) -> Result<Self> {
        Self::check(window, magnitude, &positions)?;
        Ok(Self { dct: BlockDct::new(window), magnitude, positions })
    }

    /// The checks of [`FrequencyTrigger::new`], without planning the DCT.
    pub(crate) fn check(
        window: usize,
        magnitude: f64,
        positions: &[[usize; 2]],
    ) -> std::result::Result<(), SettingError> {
        if window == 0 {
            return Err(SettingError::new("window", 0, "must be at least 1"));
        }
        if !magnitude.is_finite() {
            return Err(SettingError::new("magnitude", magnitude, "must be finite"));
        }
        if let Some(p) = positions.iter().find(|p| p[0] >= window || p[1] >= window) {
            let problem = format!("{p:?} lies outside the {window}x{window} block");
            return Err(SettingError::new("positions", format!("{positions:?}"), problem));
        }
        Ok(())
    }

    /// The triggered image as unclipped, unrounded RGB planes (`[r, g, b]`, row-major).
    pub fn apply_unclipped(&self, img: &RgbImage) -> [Vec<f64>; 3] {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let mut yuv: [Vec<f64>; 3] = std::array::from_fn(|_| vec![0.0; w * h]);
        for (k, p) in img.pixels().enumerate() {
            let c = rgb_to_yuv(p.0.map(f64::from));
            (0..3).for_each(|ch| yuv[ch][k] = c[ch]);
        }
        let n = self.dct.size();
        let mut block = vec![0.0; n * n];
        for plane in &mut yuv[1..] {
            for by in 0..h / n {
                for bx in 0..w / n {
                    let at = |r: usize, c: usize| (by * n + r) * w + bx * n + c;
                    (0..n * n).for_each(|i| block[i] = plane[at(i / n, i % n)]);
                    self.dct.forward(&mut block);
                    for &[r, c] in &self.positions {
                        block[r * n + c] += self.magnitude;
                    }
                    self.dct.inverse(&mut block);
                    (0..n * n).for_each(|i| plane[at(i / n, i % n)] = block[i]);
                }
            }
        }
        let mut rgb: [Vec<f64>; 3] = std::array::from_fn(|_| vec![0.0; w * h]);
        for k in 0..w * h {
            let c = yuv_to_rgb([yuv[0][k], yuv[1][k], yuv[2][k]]);
            (0..3).for_each(|ch| rgb[ch][k] = c[ch]);
        }
        rgb
    }

    /// The triggered image, rounded and clipped to 0..=255.
    pub fn apply(&self, img: &RgbImage) -> RgbImage {
        let [r, g, b] = self.apply_unclipped(img);
        let q = |v: f64| v.round().clamp(0.0, 255.0) as u8;
        let w = img.width() as usize;
        RgbImage::from_fn(img.width(), img.height(), |x, y| {
            let k = y as usize * w + x as usize;
            image::Rgb([q(r[k]), q(g[k]), q(b[k])])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Orthonormal DCT-II straight from its definition, O(n^2) per row.
    fn direct_dct(x: &[f64]) -> Vec<f64> {
        let n = x.len();
        (0..n)
            .map(|k| {
                let s = if k == 0 { (1.0 / n as f64).sqrt() } else { (2.0 / n as f64).sqrt() };
                let sum: f64 = x
                    .iter()
                    .enumerate()
                    .map(|(j, v)| {
                        v * (std::f64::consts::PI * k as f64 * (2 * j + 1) as f64 / (2 * n) as f64)
                            .cos()
                    })
                    .sum();
                s * sum
            })
            .collect()
    }

    fn direct_dct_2d(block: &[f64], n: usize) -> Vec<f64> {
        let rows: Vec<f64> = block.chunks(n).flat_map(direct_dct).collect();
        let mut out = vec![0.0; n * n];
        for c in 0..n {
            let col: Vec<f64> = (0..n).map(|r| rows[r * n + c]).collect();
            for (r, v) in direct_dct(&col).into_iter().enumerate() {
                out[r * n + c] = v;
            }
        }
        out
    }

    #[test]
    fn block_dct_matches_the_definition_and_inverts() {
        for n in [2, 3, 4, 8, 32] {
            let block: Vec<f64> = (0..n * n).map(|i| ((i * 37 + 11) % 256) as f64).collect();
            let mut fast = block.clone();
            let dct = BlockDct::new(n);
            dct.forward(&mut fast);
            let slow = direct_dct_2d(&block, n);
            for (a, b) in fast.iter().zip(&slow) {
                assert!((a - b).abs() < 1e-8, "n={n}: {a} vs {b}");
            }
            dct.inverse(&mut fast);
            for (a, b) in fast.iter().zip(&block) {
                assert!((a - b).abs() < 1e-8, "n={n}: inverse {a} vs {b}");
            }
        }
    }

    #[test]
    fn colour_transforms_are_near_inverses() {
        for rgb in [[0.0, 0.0, 0.0], [255.0, 128.0, 3.0], [17.0, 250.0, 90.0]] {
            let back = yuv_to_rgb(rgb_to_yuv(rgb));
            for c in 0..3 {
                assert!((back[c] - rgb[c]).abs() < 0.05, "{rgb:?} -> {back:?}");
            }
        }
    }

    #[test]
    fn positions_outside_the_window_are_refused() {
        let err = FrequencyTrigger::new(8, 100.0, vec![[15, 15]]).unwrap_err();
        assert!(err.to_string().starts_with("positions = "), "{err}");
    }
}
