//! The data layout of a convolution: its geometry ([`ConvShape`]), im2col and its adjoint
//! col2im, and the NCHW <-> `[C, images*P]` copies the products work on.

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

    pub(crate) fn out_pixels(&self) -> usize {
        let [h, w] = self.out_hw();
        h * w
    }

    /// Rows of the im2col matrix: `C_in * KH * KW`.
    pub(crate) fn patch(&self) -> usize {
        self.c_in * self.kernel[0] * self.kernel[1]
    }

    /// Images per chunk: a function of the shape alone (see the module doc).
    pub(crate) fn chunk(&self) -> usize {
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
    pub(crate) fn valid(
        &self,
        axis: usize,
        k: usize,
        in_size: usize,
        out_size: usize,
    ) -> (usize, usize) {
        let (s, p) = (self.stride[axis], self.padding[axis]);
        // input index = o * s + k - p must lie in [0, in_size).
        let lo = if p > k { (p - k).div_ceil(s) } else { 0 };
        let hi = if in_size + p > k { ((in_size + p - k - 1) / s + 1).min(out_size) } else { 0 };
        (lo.min(hi), hi)
    }
}

/// im2col of `images` consecutive images starting at `x` (`[images, C_in, H, W]`) into
/// `col` (`[C_in*KH*KW, images*P]`, P output pixels per image); padding reads as zero.
pub(crate) fn im2col(s: &ConvShape, x: &[f32], images: usize, col: &mut [f32]) {
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
pub(crate) fn col2im(s: &ConvShape, col: &[f32], images: usize, dx: &mut [f32]) {
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
pub(crate) fn gather_channels(
    src: &[f32],
    channels: usize,
    p: usize,
    images: usize,
    dst: &mut [f32],
) {
    for img in 0..images {
        for c in 0..channels {
            dst[c * images * p + img * p..][..p]
                .copy_from_slice(&src[(img * channels + c) * p..][..p]);
        }
    }
}

pub(crate) fn scatter_channels(
    src: &[f32],
    channels: usize,
    p: usize,
    images: usize,
    dst: &mut [f32],
) {
    for img in 0..images {
        for c in 0..channels {
            dst[(img * channels + c) * p..][..p]
                .copy_from_slice(&src[c * images * p + img * p..][..p]);
        }
    }
}
