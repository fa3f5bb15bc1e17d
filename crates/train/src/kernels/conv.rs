//! 2-D convolution (no groups, no dilation, no bias) on contiguous NCHW `f32` slices:
//! forward, input gradient and weight gradient, each as im2col and one `gemm` per chunk
//! of images.
//!
//! Why not flex's own: its forward copies NCHW to NHWC per call, and it has no backward
//! kernels, so burn falls back to a transposed convolution for the input gradient and to a
//! convolution over swapped batch/channel axes for the weight gradient (a product with
//! N = 9 and K = B*H*W per input channel). Here the weight gradient is
//! `dY[C_out, B*H*W] x im2col(X)^T` with the batch in K, and the input gradient
//! `W^T x dY` followed by col2im.
//!
//! Determinism: images are cut into chunks whose size depends on the shape only; each
//! chunk is one single-threaded product, and the weight-gradient partial sums are added in
//! chunk order, so the bits never depend on the rayon thread count.

use std::cell::RefCell;

use rayon::prelude::*;

use super::matmul::{MatRef, matmul};

thread_local! {
    /// Per-thread scratch (im2col matrix, gathered gradient), kept between calls: zeroing
    /// and faulting in fresh megabytes per chunk cost ~5 % of a convolution.
    static SCRATCH: RefCell<[Vec<f32>; 2]> = const { RefCell::new([Vec::new(), Vec::new()]) };
}

/// Runs `f` on two scratch slices of `a` and `b` elements with stale contents: `f` must
/// write every element before reading it.
fn with_scratch<R>(a: usize, b: usize, f: impl FnOnce(&mut [f32], &mut [f32]) -> R) -> R {
    // Taken out of the cell, so a nested call (none today) would get fresh buffers.
    let [mut x, mut y] = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
    for (v, n) in [(&mut x, a), (&mut y, b)] {
        if v.len() < n {
            v.resize(n, 0.0);
        }
    }
    let out = f(&mut x[..a], &mut y[..b]);
    SCRATCH.with(|s| *s.borrow_mut() = [x, y]);
    out
}

/// Columns (images x output pixels) aimed at per product: enough that gemm's packing of the
/// weights pays for itself at 4x4 outputs, small enough that a chunk's im2col stays in L2.
const TARGET_COLUMNS: usize = 1024;

/// Geometry of one convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConvShape {
    pub(crate) batch: usize,
    pub(crate) c_in: usize,
    pub(crate) height: usize,
    pub(crate) width: usize,
    pub(crate) c_out: usize,
    pub(crate) kernel: [usize; 2],
    pub(crate) stride: [usize; 2],
    pub(crate) padding: [usize; 2],
}

impl ConvShape {
    /// Output `[height, width]`.
    pub(crate) fn out_hw(&self) -> [usize; 2] {
        let out = |i: usize, size: usize| {
            (size + 2 * self.padding[i] - self.kernel[i]) / self.stride[i] + 1
        };
        [out(0, self.height), out(1, self.width)]
    }

    fn out_pixels(&self) -> usize {
        let [h, w] = self.out_hw();
        h * w
    }

    /// Rows of the im2col matrix: `C_in * KH * KW`.
    fn patch(&self) -> usize {
        self.c_in * self.kernel[0] * self.kernel[1]
    }

    /// Images per chunk: a function of the shape alone (see the module doc).
    fn chunk(&self) -> usize {
        (TARGET_COLUMNS / self.out_pixels().max(1)).clamp(1, self.batch.max(1))
    }

    pub(crate) fn input_len(&self) -> usize {
        self.batch * self.c_in * self.height * self.width
    }

    pub(crate) fn weight_len(&self) -> usize {
        self.c_out * self.patch()
    }

    pub(crate) fn output_len(&self) -> usize {
        self.batch * self.c_out * self.out_pixels()
    }

    /// The valid output columns `[lo, hi)` for kernel column `k` along axis `axis` and the
    /// input index of output column `lo`.
    fn valid(&self, axis: usize, k: usize, in_size: usize, out_size: usize) -> (usize, usize) {
        let (s, p) = (self.stride[axis], self.padding[axis]);
        // input index = o * s + k - p must lie in [0, in_size).
        let lo = if p > k { (p - k).div_ceil(s) } else { 0 };
        let hi = if in_size + p > k { ((in_size + p - k - 1) / s + 1).min(out_size) } else { 0 };
        (lo.min(hi), hi)
    }
}

/// im2col of `images` consecutive images starting at `x` (`[images, C_in, H, W]`) into
/// `col` (`[C_in*KH*KW, images*P]`, P output pixels per image); padding reads as zero.
fn im2col(s: &ConvShape, x: &[f32], images: usize, col: &mut [f32]) {
    let [oh, ow] = s.out_hw();
    let (p, cols) = (oh * ow, images * oh * ow);
    let [kh, kw] = s.kernel;
    let plane = s.height * s.width;
    for ci in 0..s.c_in {
        for ky in 0..kh {
            let (y_lo, y_hi) = s.valid(0, ky, s.height, oh);
            for kx in 0..kw {
                let (x_lo, x_hi) = s.valid(1, kx, s.width, ow);
                let row = (ci * kh + ky) * kw + kx;
                for img in 0..images {
                    let dst = &mut col[row * cols + img * p..][..p];
                    let src = &x[(img * s.c_in + ci) * plane..][..plane];
                    dst[..y_lo * ow].fill(0.0);
                    dst[y_hi * ow..].fill(0.0);
                    for oy in y_lo..y_hi {
                        let iy = oy * s.stride[0] + ky - s.padding[0];
                        let d = &mut dst[oy * ow..][..ow];
                        d[..x_lo].fill(0.0);
                        d[x_hi..].fill(0.0);
                        let src_row = &src[iy * s.width..][..s.width];
                        if x_lo == x_hi {
                            // No output column sees this kernel column (start would underflow).
                        } else if s.stride[1] == 1 {
                            let start = x_lo + kx - s.padding[1];
                            d[x_lo..x_hi].copy_from_slice(&src_row[start..start + x_hi - x_lo]);
                        } else {
                            for (ox, d) in d.iter_mut().enumerate().take(x_hi).skip(x_lo) {
                                *d = src_row[ox * s.stride[1] + kx - s.padding[1]];
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: adds `col` back into `dx` (`[images, C_in, H, W]`, zeroed by
/// the caller). Each input element receives its terms in a fixed order.
fn col2im(s: &ConvShape, col: &[f32], images: usize, dx: &mut [f32]) {
    let [oh, ow] = s.out_hw();
    let (p, cols) = (oh * ow, images * oh * ow);
    let [kh, kw] = s.kernel;
    let plane = s.height * s.width;
    for img in 0..images {
        for ci in 0..s.c_in {
            let dst = &mut dx[(img * s.c_in + ci) * plane..][..plane];
            for ky in 0..kh {
                let (y_lo, y_hi) = s.valid(0, ky, s.height, oh);
                for kx in 0..kw {
                    let (x_lo, x_hi) = s.valid(1, kx, s.width, ow);
                    let row = (ci * kh + ky) * kw + kx;
                    let src = &col[row * cols + img * p..][..p];
                    for oy in y_lo..y_hi {
                        let iy = oy * s.stride[0] + ky - s.padding[0];
                        let d = &mut dst[iy * s.width..][..s.width];
                        let c = &src[oy * ow..][..ow];
                        if x_lo == x_hi {
                            // As in im2col: nothing to add, and start would underflow.
                        } else if s.stride[1] == 1 {
                            let start = x_lo + kx - s.padding[1];
                            for (d, c) in
                                d[start..start + x_hi - x_lo].iter_mut().zip(&c[x_lo..x_hi])
                            {
                                *d += *c;
                            }
                        } else {
                            for (ox, c) in c.iter().enumerate().take(x_hi).skip(x_lo) {
                                d[ox * s.stride[1] + kx - s.padding[1]] += *c;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Copies `images` images of `[C, P]` (NCHW) into one `[C, images*P]` matrix, or back.
fn gather_channels(src: &[f32], channels: usize, p: usize, images: usize, dst: &mut [f32]) {
    for img in 0..images {
        for c in 0..channels {
            dst[c * images * p + img * p..][..p]
                .copy_from_slice(&src[(img * channels + c) * p..][..p]);
        }
    }
}

fn scatter_channels(src: &[f32], channels: usize, p: usize, images: usize, dst: &mut [f32]) {
    for img in 0..images {
        for c in 0..channels {
            dst[(img * channels + c) * p..][..p]
                .copy_from_slice(&src[c * images * p + img * p..][..p]);
        }
    }
}

/// `y = conv(x, w)`: `x` `[B, C_in, H, W]`, `w` `[C_out, C_in, KH, KW]`, returns
/// `[B, C_out, OH, OW]`.
pub(crate) fn conv2d_forward(s: &ConvShape, x: &[f32], w: &[f32]) -> Vec<f32> {
    assert_eq!(x.len(), s.input_len(), "input shape");
    assert_eq!(w.len(), s.weight_len(), "weight shape");
    let (p, k, nb) = (s.out_pixels(), s.patch(), s.chunk());
    let in_img = s.c_in * s.height * s.width;
    let mut y = vec![0.0; s.output_len()];
    let weights = MatRef::row_major(w, s.c_out, k);
    y.par_chunks_mut(nb * s.c_out * p).enumerate().for_each(|(chunk, y)| {
        let images = y.len() / (s.c_out * p);
        let x = &x[chunk * nb * in_img..][..images * in_img];
        let cols = images * p;
        let tmp_len = if images == 1 { 0 } else { s.c_out * cols };
        with_scratch(k * cols, tmp_len, |col, tmp| {
            im2col(s, x, images, col);
            let col = MatRef::row_major(col, k, cols);
            if images == 1 {
                matmul(y, p, weights, col, false);
            } else {
                matmul(tmp, cols, weights, col, false);
                scatter_channels(tmp, s.c_out, p, images, y);
            }
        });
    });
    y
}

/// Gradient of [`conv2d_forward`] with respect to `x`, given `dy` `[B, C_out, OH, OW]`.
pub(crate) fn conv2d_input_grad(s: &ConvShape, w: &[f32], dy: &[f32]) -> Vec<f32> {
    assert_eq!(dy.len(), s.output_len(), "output-gradient shape");
    assert_eq!(w.len(), s.weight_len(), "weight shape");
    let (p, k, nb) = (s.out_pixels(), s.patch(), s.chunk());
    let in_img = s.c_in * s.height * s.width;
    let mut dx = vec![0.0; s.input_len()];
    let weights_t = MatRef::row_major(w, s.c_out, k).t();
    dx.par_chunks_mut(nb * in_img).enumerate().for_each(|(chunk, dx)| {
        let images = dx.len() / in_img;
        let dy = &dy[chunk * nb * s.c_out * p..][..images * s.c_out * p];
        let cols = images * p;
        let tmp_len = if images == 1 { 0 } else { s.c_out * cols };
        with_scratch(k * cols, tmp_len, |col, tmp| {
            let dy = if images == 1 {
                dy
            } else {
                gather_channels(dy, s.c_out, p, images, tmp);
                &*tmp
            };
            matmul(col, cols, weights_t, MatRef::row_major(dy, s.c_out, cols), false);
            col2im(s, col, images, dx);
        });
    });
    dx
}

/// Gradient of [`conv2d_forward`] with respect to `w`: `sum over chunks of
/// dY_chunk[C_out, n*P] x im2col(X_chunk)^T`, the partial sums added in chunk order.
pub(crate) fn conv2d_weight_grad(s: &ConvShape, x: &[f32], dy: &[f32]) -> Vec<f32> {
    assert_eq!(x.len(), s.input_len(), "input shape");
    assert_eq!(dy.len(), s.output_len(), "output-gradient shape");
    let (p, k, nb) = (s.out_pixels(), s.patch(), s.chunk());
    let in_img = s.c_in * s.height * s.width;
    let chunks = s.batch.div_ceil(nb);
    let partials: Vec<Vec<f32>> = (0..chunks)
        .into_par_iter()
        .map(|chunk| {
            let images = nb.min(s.batch - chunk * nb);
            let x = &x[chunk * nb * in_img..][..images * in_img];
            let dy = &dy[chunk * nb * s.c_out * p..][..images * s.c_out * p];
            let cols = images * p;
            let tmp_len = if images == 1 { 0 } else { s.c_out * cols };
            let mut dw = vec![0.0; s.c_out * k];
            with_scratch(k * cols, tmp_len, |col, tmp| {
                im2col(s, x, images, col);
                let dy = if images == 1 {
                    dy
                } else {
                    gather_channels(dy, s.c_out, p, images, tmp);
                    &*tmp
                };
                matmul(
                    &mut dw,
                    k,
                    MatRef::row_major(dy, s.c_out, cols),
                    MatRef::row_major(col, k, cols).t(),
                    false,
                );
            });
            dw
        })
        .collect();
    let mut partials = partials.into_iter();
    let mut dw = partials.next().unwrap_or_else(|| vec![0.0; s.weight_len()]);
    for partial in partials {
        for (a, b) in dw.iter_mut().zip(&partial) {
            *a += *b;
        }
    }
    dw
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct seven-loop convolution, the reference for the im2col kernels.
    fn naive_forward(s: &ConvShape, x: &[f32], w: &[f32]) -> Vec<f32> {
        let [oh, ow] = s.out_hw();
        let mut y = vec![0.0; s.output_len()];
        for b in 0..s.batch {
            for co in 0..s.c_out {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = 0.0;
                        for ci in 0..s.c_in {
                            for ky in 0..s.kernel[0] {
                                for kx in 0..s.kernel[1] {
                                    let iy =
                                        (oy * s.stride[0] + ky) as isize - s.padding[0] as isize;
                                    let ix =
                                        (ox * s.stride[1] + kx) as isize - s.padding[1] as isize;
                                    if iy < 0
                                        || ix < 0
                                        || iy >= s.height as isize
                                        || ix >= s.width as isize
                                    {
                                        continue;
                                    }
                                    let xi = ((b * s.c_in + ci) * s.height + iy as usize) * s.width
                                        + ix as usize;
                                    let wi =
                                        ((co * s.c_in + ci) * s.kernel[0] + ky) * s.kernel[1] + kx;
                                    acc += x[xi] * w[wi];
                                }
                            }
                        }
                        y[((b * s.c_out + co) * oh + oy) * ow + ox] = acc;
                    }
                }
            }
        }
        y
    }

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| (((i as u32).wrapping_mul(2_654_435_761) ^ seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

    fn dot(a: &[f32], b: &[f32]) -> f64 {
        a.iter().zip(b).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum()
    }

    #[test]
    fn forward_matches_the_direct_loops_and_gradients_are_its_adjoints() {
        for s in [
            ConvShape {
                batch: 3,
                c_in: 2,
                height: 5,
                width: 6,
                c_out: 3,
                kernel: [3, 3],
                stride: [1, 1],
                padding: [1, 1],
            },
            ConvShape {
                batch: 2,
                c_in: 3,
                height: 7,
                width: 5,
                c_out: 2,
                kernel: [3, 3],
                stride: [2, 2],
                padding: [1, 1],
            },
            ConvShape {
                batch: 2,
                c_in: 1,
                height: 9,
                width: 9,
                c_out: 2,
                kernel: [7, 7],
                stride: [2, 2],
                padding: [3, 3],
            },
            ConvShape {
                batch: 70,
                c_in: 2,
                height: 4,
                width: 4,
                c_out: 2,
                kernel: [1, 1],
                stride: [2, 2],
                padding: [0, 0],
            },
            // A kernel wider than input plus padding allows: some kernel columns see no input.
            ConvShape {
                batch: 1,
                c_in: 1,
                height: 2,
                width: 1,
                c_out: 1,
                kernel: [7, 7],
                stride: [1, 1],
                padding: [3, 3],
            },
        ] {
            let (x, w) = (values(s.input_len(), 1), values(s.weight_len(), 2));
            let y = conv2d_forward(&s, &x, &w);
            for (a, b) in y.iter().zip(naive_forward(&s, &x, &w)) {
                assert!((a - b).abs() < 1e-4, "{s:?}: {a} vs {b}");
            }
            // <dy, conv(x, w)> = <dx, x> = <dw, w> since conv is linear in each argument.
            let dy = values(s.output_len(), 3);
            let lhs = dot(&dy, &y);
            let dx = conv2d_input_grad(&s, &w, &dy);
            let dw = conv2d_weight_grad(&s, &x, &dy);
            assert!((dot(&dx, &x) - lhs).abs() < 1e-3 * (1.0 + lhs.abs()), "{s:?} input grad");
            assert!((dot(&dw, &w) - lhs).abs() < 1e-3 * (1.0 + lhs.abs()), "{s:?} weight grad");
        }
    }

    #[test]
    fn results_are_bit_identical_whatever_the_thread_count() {
        // 70 images of 4x4 (64 per chunk) make two chunks, so the weight-gradient partials are summed.
        let s = ConvShape {
            batch: 70,
            c_in: 3,
            height: 4,
            width: 4,
            c_out: 5,
            kernel: [3, 3],
            stride: [1, 1],
            padding: [1, 1],
        };
        let (x, w, dy) =
            (values(s.input_len(), 4), values(s.weight_len(), 5), values(s.output_len(), 6));
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                (
                    conv2d_forward(&s, &x, &w),
                    conv2d_input_grad(&s, &w, &dy),
                    conv2d_weight_grad(&s, &x, &dy),
                )
            })
        };
        assert!(s.batch > s.chunk(), "the case must span several chunks");
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        let (one, three) = (run(1), run(3));
        assert_eq!(bits(&one.0), bits(&three.0));
        assert_eq!(bits(&one.1), bits(&three.1));
        assert_eq!(bits(&one.2), bits(&three.2));
    }
}
