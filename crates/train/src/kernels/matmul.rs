//! The one place our kernels call `gemm` (raw pointers, hence `unsafe`): a safe, bounds-checked
//! matrix product over slices with explicit strides.
#![allow(unsafe_code)]

/// A read-only matrix view: `rows x cols` elements of `data`, element `(r, c)` at
/// `r * row_stride + c * col_stride`.
#[derive(Clone, Copy)]
pub(crate) struct MatRef<'a> {
    pub(crate) data: &'a [f32],
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) row_stride: usize,
    pub(crate) col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major `rows x cols` matrix.
    pub(crate) fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self { data, rows, cols, row_stride: cols, col_stride: 1 }
    }

    /// The transpose, without copying.
    pub(crate) fn t(self) -> Self {
        Self {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// Panics unless every addressed element lies inside `data`.
    fn check(&self) {
        if self.rows > 0 && self.cols > 0 {
            let last = (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride;
            assert!(last < self.data.len(), "matrix view out of bounds");
        }
    }
}

/// `dst = lhs x rhs` (or `dst += lhs x rhs` when `accumulate`), with `dst` row-major
/// `lhs.rows x rhs.cols` at row stride `dst_row_stride`. Single-threaded: callers
/// parallelise over independent products, so the result never depends on the thread count.
pub(crate) fn matmul(
    dst: &mut [f32],
    dst_row_stride: usize,
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    accumulate: bool,
) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    assert_eq!(rhs.rows, k, "inner dimensions differ");
    assert!(dst_row_stride >= n, "destination rows overlap");
    lhs.check();
    rhs.check();
    if m == 0 || n == 0 {
        return;
    }
    assert!((m - 1) * dst_row_stride + n <= dst.len(), "destination out of bounds");
    if k == 0 {
        if !accumulate {
            for row in dst.chunks_mut(dst_row_stride).take(m) {
                row[..n].fill(0.0);
            }
        }
        return;
    }
    // SAFETY: `check` and the assertion above prove that every element gemm addresses,
    // `lhs.data[r * rs + c * cs]` for r < m, c < k (likewise `rhs` for r < k, c < n, and `dst`
    // for r < m, c < n at strides (dst_row_stride, 1)), lies inside its slice. `dst` is borrowed
    // mutably, so it aliases neither input, and rows of `dst` do not overlap because
    // `dst_row_stride >= n`. Strides fit in `isize` because they address elements of
    // allocated slices. gemm reads `dst` only when `read_dst` is true.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_row_stride as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            if accumulate { 1.0 } else { 0.0 },
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: MatRef<'_>, b: MatRef<'_>) -> Vec<f32> {
        let mut out = vec![0.0; a.rows * b.cols];
        for r in 0..a.rows {
            for c in 0..b.cols {
                out[r * b.cols + c] = (0..a.cols)
                    .map(|i| {
                        a.data[r * a.row_stride + i * a.col_stride]
                            * b.data[i * b.row_stride + c * b.col_stride]
                    })
                    .sum();
            }
        }
        out
    }

    #[test]
    fn matches_a_naive_product_for_plain_and_transposed_views() {
        let a: Vec<f32> = (0..12).map(|i| i as f32 * 0.5 - 2.0).collect();
        let b: Vec<f32> = (0..20).map(|i| (i % 7) as f32 - 3.0).collect();
        let lhs = MatRef::row_major(&a, 3, 4);
        let rhs = MatRef::row_major(&b, 4, 5);
        let mut out = vec![0.0; 15];
        matmul(&mut out, 5, lhs, rhs, false);
        assert_eq!(out, naive(lhs, rhs));
        // (4x3)^T x (4x5) through strides; accumulating twice doubles.
        let lhs_t = MatRef::row_major(&a, 4, 3).t();
        let mut acc = vec![0.0; 15];
        matmul(&mut acc, 5, lhs_t, rhs, true);
        matmul(&mut acc, 5, lhs_t, rhs, true);
        let once = naive(lhs_t, rhs);
        assert_eq!(acc, once.iter().map(|v| v * 2.0).collect::<Vec<_>>());
    }

    #[test]
    #[should_panic(expected = "out of bounds")]
    fn rejects_a_view_past_its_slice() {
        let a = vec![0.0; 5];
        let mut out = vec![0.0; 4];
        matmul(&mut out, 2, MatRef::row_major(&a, 2, 3), MatRef::row_major(&a, 3, 2), false);
    }
}
