//! A dense feature matrix: the cached output of a frozen encoder.
use crate::error::{Error, Result};

/// `rows x dim` features, row-major in one flat buffer so that per-row dot products
/// stream through memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    data: Vec<f32>,
    dim: usize,
}

impl Features {
    /// Wraps `data` (row-major, `rows * dim` values). Fails if `dim` is zero, `data` is
    /// not a whole number of rows, or a value is not finite.
    pub fn new(data: Vec<f32>, dim: usize) -> Result<Self> {
        if dim == 0 {
            return Err(Error::Empty { what: "a feature row (dimension 0)" });
        }
        if !data.len().is_multiple_of(dim) {
            return Err(Error::Length {
                what: "feature buffer (a multiple of dim)",
                expected: data.len() / dim * dim,
                actual: data.len(),
            });
        }
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite { row: i / dim });
        }
        Ok(Self { data, dim })
    }

    /// Stacks equally long rows.
    pub fn from_rows<R: AsRef<[f32]>>(rows: &[R]) -> Result<Self> {
        let dim = rows.first().ok_or(Error::Empty { what: "feature rows" })?.as_ref().len();
        let mut data = Vec::with_capacity(rows.len() * dim);
        for r in rows {
            let r = r.as_ref();
            if r.len() != dim {
                return Err(Error::Length { what: "feature row", expected: dim, actual: r.len() });
            }
            data.extend_from_slice(r);
        }
        Self::new(data, dim)
    }

    /// Number of rows (items).
    pub fn rows(&self) -> usize {
        self.data.len() / self.dim
    }

    /// Feature dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// The flat row-major buffer.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// Iterates over the rows.
    pub fn iter_rows(&self) -> std::slice::ChunksExact<'_, f32> {
        self.data.chunks_exact(self.dim)
    }

    /// Scales every row to unit L2 norm; all-zero rows stay zero (as `F.normalize` with
    /// its epsilon leaves them).
    pub fn l2_normalized(&self) -> Self {
        let mut data = self.data.clone();
        for row in data.chunks_exact_mut(self.dim) {
            let norm = dot(row, row).sqrt();
            let inv = 1.0 / norm.max(1e-12);
            row.iter_mut().for_each(|v| *v *= inv);
        }
        Self { data, dim: self.dim }
    }
}

/// Dot product with eight independent accumulators: a single running sum is a serial
/// dependency chain the compiler may not reorder, so it would not vectorise.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

/// Four dot products of `w` with `xs` at once: each chunk of `w` is loaded once for four
/// rows, which matters more than the arithmetic once `w` falls out of L1.
pub(crate) fn dot4(w: &[f32], xs: [&[f32]; 4]) -> [f32; 4] {
    // One accumulator array per row, each updated by its own 8-wide loop: the shape the
    // vectoriser recognises (a single loop over a 4x8 array stays scalar).
    let (mut a0, mut a1, mut a2, mut a3) = ([0.0f32; 8], [0.0f32; 8], [0.0f32; 8], [0.0f32; 8]);
    let [x0, x1, x2, x3] = xs;
    let zipped = w.chunks_exact(8).zip(x0.chunks_exact(8)).zip(x1.chunks_exact(8));
    let zipped = zipped.zip(x2.chunks_exact(8)).zip(x3.chunks_exact(8));
    for ((((wc, c0), c1), c2), c3) in zipped {
        lanes(&mut a0, wc, c0);
        lanes(&mut a1, wc, c1);
        lanes(&mut a2, wc, c2);
        lanes(&mut a3, wc, c3);
    }
    let done = w.len() / 8 * 8;
    let acc = [a0, a1, a2, a3];
    std::array::from_fn(|r| {
        let tail: f32 = (done..w.len()).map(|k| w[k] * xs[r][k]).sum();
        acc[r].iter().sum::<f32>() + tail
    })
}

#[inline(always)]
fn lanes(acc: &mut [f32; 8], a: &[f32], b: &[f32]) {
    for k in 0..8 {
        acc[k] += a[k] * b[k];
    }
}

/// `y += a[0] * xs[0] + ... + a[3] * xs[3]`, reading and writing `y` once instead of four
/// times.
pub(crate) fn axpy4(a: [f32; 4], xs: [&[f32]; 4], y: &mut [f32]) {
    let [x0, x1, x2, x3] = xs;
    let n = y.len();
    let (x0, x1, x2, x3) = (&x0[..n], &x1[..n], &x2[..n], &x3[..n]);
    for i in 0..n {
        y[i] += a[0] * x0[i] + a[1] * x1[i] + a[2] * x2[i] + a[3] * x3[i];
    }
}

/// `y += a * x`.
pub(crate) fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

/// Checks that `labels` match `rows` and are all below `classes`.
pub(crate) fn check_labels(
    what: &'static str,
    labels: &[usize],
    rows: usize,
    classes: usize,
) -> Result<()> {
    if labels.len() != rows {
        return Err(Error::Length { what, expected: rows, actual: labels.len() });
    }
    match labels.iter().find(|&&l| l >= classes) {
        Some(&label) => Err(Error::Label { what, label, classes }),
        None => Ok(()),
    }
}

/// Index of the largest value; the first one on ties (as `torch.argmax` on CPU).
pub(crate) fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_is_checked() {
        assert!(Features::new(vec![1.0; 6], 4).is_err());
        assert!(Features::new(vec![1.0, f32::NAN], 2).is_err());
        let f = Features::new(vec![3.0, 4.0, 0.0, 0.0], 2).unwrap();
        assert_eq!((f.rows(), f.dim()), (2, 2));
        let n = f.l2_normalized();
        assert_eq!(n.row(0), &[0.6, 0.8]);
        assert_eq!(n.row(1), &[0.0, 0.0]);
    }

    #[test]
    fn dot_matches_naive_sum_on_odd_lengths() {
        let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..19).map(|i| 1.0 - i as f32 * 0.1).collect();
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-4);
        let four = dot4(&b, [&a, &b, &a, &a]);
        assert!((four[0] - naive).abs() < 1e-4 && (four[1] - dot(&b, &b)).abs() < 1e-4);
        let mut y = vec![1.0; 19];
        axpy4([1.0, 2.0, 0.0, -1.0], [&a, &b, &a, &a], &mut y);
        assert!((y[3] - (1.0 + 2.0 * b[3])).abs() < 1e-6);
        assert_eq!(argmax(&[1.0, 3.0, 3.0, 2.0]), 1);
    }
}
