//! Winograd F(2x2, 3x3) for 3x3 convolutions at stride 1 and padding 1 (Lavin and Gray,
//! "Fast Algorithms for Convolutional Neural Networks", 2016): each 2x2 block of outputs is
//! one 4x4 tile of input, so a chunk of images becomes 16 independent products
//! `U_k [C_out, C_in] x V_k [C_in, tiles]` (k over the 4x4 transform domain) of 16
//! multiplications per 4 outputs where im2col spends 36: 2.25x fewer, paid for by the
//! input and output transforms, which are additions only. The rounding differs from
//! im2col's (the sums are formed in another basis); tests bound the difference.
//!
//! Which shapes take it is fixed by [`applies`] (shape only, never timed at run time).
//! Determinism: as in `conv.rs`, chunks of images whose size depends on the shape only,
//! each one single-threaded product per k.

use rayon::prelude::*;

use super::conv::with_scratch;
use super::conv_layout::ConvShape;
use super::matmul::{MatRef, matmul};

/// Floats aimed at in a chunk's transformed input and in its products' outputs, each
/// `16 * channels * tiles` (tiles: images x 2x2 output blocks): 4 MiB, so that a chunk's
/// products are long (512 tiles at 128 channels, 256 at 256) while both stay in a shared L3.
const TARGET_FLOATS: usize = 1 << 20;

/// Fewest input and output channels for which the transforms pay: below them the products
/// are too short for the saved multiplications to outweigh the transforms' memory traffic.
/// Measured with `bench/op_times.sh` on AVX2 (docs/performance.md): at 64 channels
/// (16x16) Winograd and im2col tie, at 128 (8x8) and 256 (4x4) Winograd is faster.
const MIN_CHANNELS: usize = 128;

/// Whether a convolution of shape `s` runs as Winograd F(2x2, 3x3).
pub(crate) fn applies(s: &ConvShape) -> bool {
    s.kernel == [3, 3]
        && s.stride == [1, 1]
        && s.padding == [1, 1]
        && s.c_in >= MIN_CHANNELS
        && s.c_out >= MIN_CHANNELS
}

/// Images per chunk: a function of the shape alone.
pub(crate) fn images_per_chunk(s: &ConvShape) -> usize {
    let tiles_per_image = s.height.div_ceil(2) * s.width.div_ceil(2);
    let target_tiles = TARGET_FLOATS / (16 * s.c_in.max(s.c_out));
    (target_tiles / tiles_per_image.max(1)).clamp(1, s.batch.max(1))
}

/// `y = conv(x, w)` for a shape that [`applies`]: `x` `[B, C_in, H, W]`, `w`
/// `[C_out, C_in, 3, 3]`, returns `[B, C_out, H, W]`.
pub(crate) fn conv3x3_forward(s: &ConvShape, x: &[f32], w: &[f32]) -> Vec<f32> {
    debug_assert!(applies(s));
    let (h, wd) = (s.height, s.width);
    let (th, tw) = (h.div_ceil(2), wd.div_ceil(2));
    let tiles_per_image = th * tw;
    let images_per_chunk = images_per_chunk(s);
    let in_img = s.c_in * h * wd;
    let out_img = s.c_out * h * wd;
    let u = transformed_weights(s, w);
    let mut y = vec![0.0; s.batch * out_img];
    y.par_chunks_mut(images_per_chunk * out_img).enumerate().for_each(|(chunk, y)| {
        let images = y.len() / out_img;
        let x = &x[chunk * images_per_chunk * in_img..][..images * in_img];
        let tiles = images * tiles_per_image;
        // Both buffers are written whole before they are read (stale contents are fine).
        with_scratch(16 * s.c_in * tiles, 16 * s.c_out * tiles, |v, m| {
            transform_input(s, x, images, v);
            let pairs = s.c_out * s.c_in;
            for k in 0..16 {
                let uk = MatRef::row_major(&u[k * pairs..][..pairs], s.c_out, s.c_in);
                let vk =
                    MatRef::row_major(&v[k * s.c_in * tiles..][..s.c_in * tiles], s.c_in, tiles);
                matmul(&mut m[k * s.c_out * tiles..][..s.c_out * tiles], tiles, uk, vk, false);
            }
            transform_output(s, m, images, y);
        });
    });
    y
}

/// Gradient of [`conv3x3_forward`] with respect to `x`, given `dy` `[B, C_out, H, W]`: the
/// adjoint of a 3x3 convolution at stride 1 and padding 1 is the 3x3 convolution of `dy`,
/// also at stride 1 and padding 1, with each kernel turned by 180 degrees and the channel
/// axes swapped (`w'[ci, co, ky, kx] = w[co, ci, 2 - ky, 2 - kx]`).
pub(crate) fn conv3x3_input_grad(s: &ConvShape, w: &[f32], dy: &[f32]) -> Vec<f32> {
    let adjoint = ConvShape { c_in: s.c_out, c_out: s.c_in, ..*s };
    let mut turned = vec![0.0; w.len()];
    for co in 0..s.c_out {
        for ci in 0..s.c_in {
            let src = &w[(co * s.c_in + ci) * 9..][..9];
            let dst = &mut turned[(ci * s.c_out + co) * 9..][..9];
            for (d, v) in dst.iter_mut().zip(src.iter().rev()) {
                *d = *v;
            }
        }
    }
    conv3x3_forward(&adjoint, dy, &turned)
}

/// `U_k = (G g G^T)_k` for every output and input channel, stored as 16 row-major
/// `[C_out, C_in]` matrices, with `G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2],
/// [0, 0, 1]]`.
fn transformed_weights(s: &ConvShape, w: &[f32]) -> Vec<f32> {
    let pairs = s.c_out * s.c_in;
    let mut u = vec![0.0; 16 * pairs];
    for (pair, g) in w.chunks_exact(9).enumerate() {
        // t = G g: 4 rows of 3.
        let mut t = [[0.0f32; 3]; 4];
        for c in 0..3 {
            let (g0, g1, g2) = (g[c], g[3 + c], g[6 + c]);
            t[0][c] = g0;
            t[1][c] = 0.5 * (g0 + g1 + g2);
            t[2][c] = 0.5 * (g0 - g1 + g2);
            t[3][c] = g2;
        }
        // U = t G^T: 4 x 4.
        for (r, row) in t.iter().enumerate() {
            let [a, b, c] = *row;
            let values = [a, 0.5 * (a + b + c), 0.5 * (a - b + c), c];
            for (col, value) in values.into_iter().enumerate() {
                u[(4 * r + col) * pairs + pair] = value;
            }
        }
    }
    u
}

/// `V_k = (B^T d B)_k` for every input channel and 4x4 input tile `d` of `images`
/// consecutive images (`x` `[images, C_in, H, W]`, padding read as zero) into `v`, 16
/// row-major `[C_in, tiles]` matrices, tiles in image, tile-row, tile-column order;
/// `B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]`.
fn transform_input(s: &ConvShape, x: &[f32], images: usize, v: &mut [f32]) {
    let (h, wd) = (s.height, s.width);
    let (th, tw) = (h.div_ceil(2), wd.div_ceil(2));
    let tiles = images * th * tw;
    let plane = h * wd;
    // The plane with a border of zeros: one row and column before, and after up to the
    // last tile's end (2 * tiles + 2).
    let (ph, pw) = (2 * th + 2, 2 * tw + 2);
    let mut padded = vec![0.0f32; ph * pw];
    let mut t = vec![0.0f32; 4 * pw];
    for img in 0..images {
        for ci in 0..s.c_in {
            let p = &x[(img * s.c_in + ci) * plane..][..plane];
            for (r, row) in p.chunks_exact(wd).enumerate() {
                padded[(r + 1) * pw + 1..][..wd].copy_from_slice(row);
            }
            for ty in 0..th {
                // t = B^T d for the four input rows of this tile row, every column.
                let rows = &padded[2 * ty * pw..][..4 * pw];
                let (r0, rest) = rows.split_at(pw);
                let (r1, rest) = rest.split_at(pw);
                let (r2, r3) = rest.split_at(pw);
                let (t0, rest) = t.split_at_mut(pw);
                let (t1, rest) = rest.split_at_mut(pw);
                let (t2, t3) = rest.split_at_mut(pw);
                for c in 0..pw {
                    t0[c] = r0[c] - r2[c];
                    t1[c] = r1[c] + r2[c];
                    t2[c] = r2[c] - r1[c];
                    t3[c] = r1[c] - r3[c];
                }
                let first = (img * th + ty) * tw;
                for (r, tr) in [&*t0, &*t1, &*t2, &*t3].into_iter().enumerate() {
                    // V row r = t row r B, for every tile of the row.
                    let base = |c: usize| ((4 * r + c) * s.c_in + ci) * tiles + first;
                    for tx in 0..tw {
                        let q = &tr[2 * tx..2 * tx + 4];
                        v[base(0) + tx] = q[0] - q[2];
                        v[base(1) + tx] = q[1] + q[2];
                        v[base(2) + tx] = q[2] - q[1];
                        v[base(3) + tx] = q[1] - q[3];
                    }
                }
            }
        }
    }
}

/// `Y = A^T M A` for every output channel and tile of the 16 products `m` (row-major
/// `[C_out, tiles]` each), written into `y` (`[images, C_out, H, W]`) where the 2x2 block
/// lies inside the image; `A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]`.
fn transform_output(s: &ConvShape, m: &[f32], images: usize, y: &mut [f32]) {
    let (h, wd) = (s.height, s.width);
    let (th, tw) = (h.div_ceil(2), wd.div_ceil(2));
    let tiles = images * th * tw;
    let plane = h * wd;
    // Two output rows of a tile row, at the padded width 2 * tw.
    let mut rows = vec![0.0f32; 2 * 2 * tw];
    for img in 0..images {
        for co in 0..s.c_out {
            let out = &mut y[(img * s.c_out + co) * plane..][..plane];
            for ty in 0..th {
                let first = (img * th + ty) * tw;
                let stream = |k: usize| &m[(k * s.c_out + co) * tiles + first..][..tw];
                let ms: [&[f32]; 16] = std::array::from_fn(stream);
                let (y0, y1) = rows.split_at_mut(2 * tw);
                for tx in 0..tw {
                    // t = A^T M: 2 rows of 4; then y = t A.
                    let col = |c: usize| (ms[c][tx], ms[4 + c][tx], ms[8 + c][tx], ms[12 + c][tx]);
                    let sums = std::array::from_fn::<_, 4, _>(|c| {
                        let (m0, m1, m2, m3) = col(c);
                        (m0 + m1 + m2, m1 - m2 - m3)
                    });
                    let t = [sums.map(|p| p.0), sums.map(|p| p.1)];
                    for (row, tr) in [&mut *y0, &mut *y1].into_iter().zip(&t) {
                        row[2 * tx] = tr[0] + tr[1] + tr[2];
                        row[2 * tx + 1] = tr[1] - tr[2] - tr[3];
                    }
                }
                for (r, row) in [&*y0, &*y1].into_iter().enumerate() {
                    let oy = 2 * ty + r;
                    if oy < h {
                        out[oy * wd..][..wd].copy_from_slice(&row[..wd]);
                    }
                }
            }
        }
    }
}
