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

pub(crate) use super::conv_layout::ConvShape;
use super::conv_layout::{col2im, gather_channels, im2col, scatter_channels, transpose_channels};
use super::matmul::{MatRef, matmul};
use super::winograd;

thread_local! {
    /// Per-thread scratch (im2col matrix, gathered gradient), kept between calls: zeroing
    /// and faulting in fresh megabytes per chunk cost ~5 % of a convolution.
    static SCRATCH: RefCell<[Vec<f32>; 2]> = const { RefCell::new([Vec::new(), Vec::new()]) };
}

/// Runs `f` on two scratch slices of `a` and `b` elements with stale contents: `f` must
/// write every element before reading it.
pub(super) fn with_scratch<R>(
    a: usize,
    b: usize,
    f: impl FnOnce(&mut [f32], &mut [f32]) -> R,
) -> R {
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

/// `y = conv(x, w)`: `x` `[B, C_in, H, W]`, `w` `[C_out, C_in, KH, KW]`, returns
/// `[B, C_out, OH, OW]`. Wide 3x3 convolutions at stride 1 run as Winograd F(2x2, 3x3)
/// (`winograd.rs`, chosen by the shape alone), the others as im2col and products.
pub(crate) fn conv2d_forward(s: &ConvShape, x: &[f32], w: &[f32]) -> Vec<f32> {
    assert_eq!(x.len(), s.input_len(), "input shape");
    assert_eq!(w.len(), s.weight_len(), "weight shape");
    if winograd::applies(s) {
        return winograd::conv3x3_forward(s, x, w);
    }
    im2col_forward(s, x, w)
}

/// [`conv2d_forward`] as im2col and one product per chunk of images.
fn im2col_forward(s: &ConvShape, x: &[f32], w: &[f32]) -> Vec<f32> {
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

/// Gradient of [`conv2d_forward`] with respect to `x`, given `dy` `[B, C_out, OH, OW]`:
/// for the shapes the forward runs as Winograd, a Winograd convolution of `dy` (the adjoint
/// of a 3x3 convolution at stride 1 and padding 1 is another); else `W^T x dY` and col2im.
pub(crate) fn conv2d_input_grad(s: &ConvShape, w: &[f32], dy: &[f32]) -> Vec<f32> {
    assert_eq!(dy.len(), s.output_len(), "output-gradient shape");
    assert_eq!(w.len(), s.weight_len(), "weight shape");
    if winograd::applies(s) {
        return winograd::conv3x3_input_grad(s, w, dy);
    }
    col2im_input_grad(s, w, dy)
}

/// [`conv2d_input_grad`] as `W^T x dY` per chunk of images, then col2im.
fn col2im_input_grad(s: &ConvShape, w: &[f32], dy: &[f32]) -> Vec<f32> {
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
/// im2col(X_chunk)[K, n*P] x dY_chunk^T[n*P, C_out]`, the partial sums added in chunk order,
/// then transposed to `[C_out, K]`. This orientation lets gemm stream both operands as they
/// lie (`dY` is gathered transposed); the product `dY x im2col^T` costs it a transposing pack
/// of the whole im2col matrix and ran 1.3-3.7x slower on the small CNN's shapes. Each entry
/// is the same sum in the same order either way.
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
            let mut dw_t = vec![0.0; k * s.c_out];
            with_scratch(k * cols, cols * s.c_out, |col, dy_t| {
                im2col(s, x, images, col);
                transpose_channels(dy, s.c_out, p, images, dy_t);
                matmul(
                    &mut dw_t,
                    s.c_out,
                    MatRef::row_major(col, k, cols),
                    MatRef::row_major(dy_t, cols, s.c_out),
                    false,
                );
            });
            dw_t
        })
        .collect();
    let mut partials = partials.into_iter();
    let mut dw_t = partials.next().unwrap_or_else(|| vec![0.0; s.weight_len()]);
    for partial in partials {
        for (a, b) in dw_t.iter_mut().zip(&partial) {
            *a += *b;
        }
    }
    let mut dw = vec![0.0; s.weight_len()];
    for (row, values) in dw_t.chunks_exact(s.c_out.max(1)).enumerate() {
        for (co, v) in values.iter().enumerate() {
            dw[co * k + row] = *v;
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

    /// A 3x3 convolution at stride 1 and padding 1.
    fn same_3x3(batch: usize, c_in: usize, [height, width]: [usize; 2], c_out: usize) -> ConvShape {
        let (kernel, stride, padding) = ([3, 3], [1, 1], [1, 1]);
        ConvShape { batch, c_in, height, width, c_out, kernel, stride, padding }
    }

    /// Winograd's shapes: forward and input gradient agree with im2col's to rounding,
    /// at odd and even sizes (partial 2x2 blocks at the edges) and a 1x1 image.
    #[test]
    fn winograd_agrees_with_im2col_where_it_applies() {
        for (batch, size) in [(3, [5, 7]), (2, [4, 4]), (2, [1, 1]), (1, [2, 3])] {
            let s = same_3x3(batch, 128, size, 136);
            assert!(winograd::applies(&s));
            let (x, w) = (values(s.input_len(), 9), values(s.weight_len(), 10));
            let dy = values(s.output_len(), 11);
            let pairs = [
                (conv2d_forward(&s, &x, &w), im2col_forward(&s, &x, &w)),
                (conv2d_input_grad(&s, &w, &dy), col2im_input_grad(&s, &w, &dy)),
            ];
            for (which, (fast, plain)) in pairs.iter().enumerate() {
                assert_eq!(fast.len(), plain.len());
                for (a, b) in fast.iter().zip(plain) {
                    assert!((a - b).abs() < 1e-4 * (1.0 + b.abs()), "{s:?} {which}: {a} vs {b}");
                }
            }
        }
        let narrow = same_3x3(1, 64, [4, 4], 128);
        assert!(!winograd::applies(&narrow), "too few input channels");
        assert!(!winograd::applies(&ConvShape { c_in: 128, stride: [2, 2], ..narrow }));
    }

    #[test]
    fn results_are_bit_identical_whatever_the_thread_count() {
        // im2col: 70 images of 4x4 (64 per chunk) make two chunks, so the weight-gradient
        // partials are summed; Winograd: 300 images of 4x4 at 128 channels make three.
        let im2col = same_3x3(70, 3, [4, 4], 5);
        let wide = same_3x3(300, 128, [4, 4], 128);
        for (s, chunk) in [(im2col, im2col.chunk()), (wide, winograd::images_per_chunk(&wide))] {
            assert!(s.batch > chunk, "{s:?}: the case must span several chunks");
            let (x, w, dy) =
                (values(s.input_len(), 4), values(s.weight_len(), 5), values(s.output_len(), 6));
            let run = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                let all = || {
                    [
                        conv2d_forward(&s, &x, &w),
                        conv2d_input_grad(&s, &w, &dy),
                        conv2d_weight_grad(&s, &x, &dy),
                    ]
                };
                pool.install(all).map(|v| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>())
            };
            assert_eq!(run(1), run(3), "{s:?}");
        }
    }
}
