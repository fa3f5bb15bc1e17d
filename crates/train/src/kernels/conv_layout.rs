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

/// The columns of a plane's rows regrouped by their remainder modulo the column stride:
/// each row holds columns `0, s, 2s, ...`, then `1, 1 + s, ...`, and so on. The input
/// columns one kernel column reads at stride `s` then lie side by side, so im2col copies and
/// col2im adds whole runs instead of one strided element at a time (which cost most of
/// im2col's time in strided layers). At stride 1 it is the plane itself.
struct PhasedRows {
    stride: usize,
    width: usize,
    /// Where each remainder's columns start within a row.
    starts: Vec<usize>,
}

impl PhasedRows {
    fn new(s: &ConvShape) -> Self {
        let (stride, width) = (s.stride[1], s.width);
        let mut starts = Vec::with_capacity(stride);
        let mut at = 0;
        for phase in 0..stride {
            starts.push(at);
            at += width.saturating_sub(phase).div_ceil(stride);
        }
        Self { stride, width, starts }
    }

    /// Where, in a regrouped row, output column `x_lo` of kernel column `kx` reads: input
    /// column `x_lo * stride + kx - padding`; the following output columns read the
    /// following places.
    fn start(&self, s: &ConvShape, kx: usize, x_lo: usize) -> usize {
        let offset = kx as isize - s.padding[1] as isize;
        let (shift, phase) =
            (offset.div_euclid(self.stride as isize), offset.rem_euclid(self.stride as isize));
        (self.starts[phase as usize] as isize + shift + x_lo as isize) as usize
    }

    /// Regroups every row of `plane` into `out`.
    fn regroup(&self, plane: &[f32], out: &mut [f32]) {
        for (src, dst) in plane.chunks_exact(self.width).zip(out.chunks_exact_mut(self.width)) {
            if self.stride == 2 {
                // The common case, written so that it compiles to straight copies.
                let pairs = self.width / 2;
                let (even, odd) = dst.split_at_mut(self.starts[1]);
                let (even_pairs, odd, src_pairs) =
                    (&mut even[..pairs], &mut odd[..pairs], &src[..2 * pairs]);
                for j in 0..pairs {
                    even_pairs[j] = src_pairs[2 * j];
                    odd[j] = src_pairs[2 * j + 1];
                }
                if self.width % 2 == 1 {
                    even[pairs] = src[self.width - 1];
                }
                continue;
            }
            for (phase, &at) in self.starts.iter().enumerate() {
                let n = self.width.saturating_sub(phase).div_ceil(self.stride);
                for j in 0..n {
                    dst[at + j] = src[phase + j * self.stride];
                }
            }
        }
    }

    /// Adds the regrouped rows of `grouped` back into `plane`, each element once.
    fn add_back(&self, grouped: &[f32], plane: &mut [f32]) {
        for (src, dst) in grouped.chunks_exact(self.width).zip(plane.chunks_exact_mut(self.width)) {
            if self.stride == 2 {
                // As in `regroup`.
                let pairs = self.width / 2;
                let (even, odd) = src.split_at(self.starts[1]);
                let (even_pairs, odd, dst_pairs) =
                    (&even[..pairs], &odd[..pairs], &mut dst[..2 * pairs]);
                for j in 0..pairs {
                    dst_pairs[2 * j] += even_pairs[j];
                    dst_pairs[2 * j + 1] += odd[j];
                }
                if self.width % 2 == 1 {
                    dst[self.width - 1] += even[pairs];
                }
                continue;
            }
            for (phase, &at) in self.starts.iter().enumerate() {
                let n = self.width.saturating_sub(phase).div_ceil(self.stride);
                let src = &src[at..at + n];
                for (j, v) in src.iter().enumerate() {
                    dst[phase + j * self.stride] += *v;
                }
            }
        }
    }
}

/// im2col of `images` consecutive images starting at `x` (`[images, C_in, H, W]`) into
/// `col` (`[C_in*KH*KW, images*P]`, P output pixels per image); padding reads as zero.
pub(crate) fn im2col(s: &ConvShape, x: &[f32], images: usize, col: &mut [f32]) {
    let [oh, ow] = s.out_hw();
    let (p, cols) = (oh * ow, images * oh * ow);
    let [kh, kw] = s.kernel;
    let plane = s.height * s.width;
    let rows = PhasedRows::new(s);
    let mut grouped = vec![0.0; if s.stride[1] == 1 { 0 } else { plane }];
    for img in 0..images {
        for ci in 0..s.c_in {
            let mut src = &x[(img * s.c_in + ci) * plane..][..plane];
            if s.stride[1] > 1 {
                rows.regroup(src, &mut grouped);
                src = &grouped;
            }
            for ky in 0..kh {
                let (y_lo, y_hi) = s.valid(0, ky, s.height, oh);
                for kx in 0..kw {
                    let (x_lo, x_hi) = s.valid(1, kx, s.width, ow);
                    let row = (ci * kh + ky) * kw + kx;
                    let dst = &mut col[row * cols + img * p..][..p];
                    dst[..y_lo * ow].fill(0.0);
                    dst[y_hi * ow..].fill(0.0);
                    // No output column sees this kernel column when x_lo == x_hi.
                    let start = if x_lo < x_hi { rows.start(s, kx, x_lo) } else { 0 };
                    for oy in y_lo..y_hi {
                        let iy = oy * s.stride[0] + ky - s.padding[0];
                        let d = &mut dst[oy * ow..][..ow];
                        d[..x_lo].fill(0.0);
                        d[x_hi..].fill(0.0);
                        let run = &src[iy * s.width + start..][..x_hi - x_lo];
                        d[x_lo..x_hi].copy_from_slice(run);
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: adds `col` back into `dx` (`[images, C_in, H, W]`, zeroed by
/// the caller). Each input element receives its terms in a fixed order: kernel row, kernel
/// column, output row.
pub(crate) fn col2im(s: &ConvShape, col: &[f32], images: usize, dx: &mut [f32]) {
    let [oh, ow] = s.out_hw();
    let (p, cols) = (oh * ow, images * oh * ow);
    let [kh, kw] = s.kernel;
    let plane = s.height * s.width;
    let rows = PhasedRows::new(s);
    let strided = s.stride[1] > 1;
    let mut grouped = vec![0.0; if strided { plane } else { 0 }];
    for img in 0..images {
        for ci in 0..s.c_in {
            let out = &mut dx[(img * s.c_in + ci) * plane..][..plane];
            // Strided: the sums build up in the regrouped plane (from zero, as `out` is),
            // then move into `out` in one pass.
            let dst: &mut [f32] = if strided {
                grouped.fill(0.0);
                &mut grouped
            } else {
                out
            };
            for ky in 0..kh {
                let (y_lo, y_hi) = s.valid(0, ky, s.height, oh);
                for kx in 0..kw {
                    let (x_lo, x_hi) = s.valid(1, kx, s.width, ow);
                    if x_lo == x_hi {
                        // As in im2col: nothing to add.
                        continue;
                    }
                    let row = (ci * kh + ky) * kw + kx;
                    let src = &col[row * cols + img * p..][..p];
                    let start = rows.start(s, kx, x_lo);
                    for oy in y_lo..y_hi {
                        let iy = oy * s.stride[0] + ky - s.padding[0];
                        let d = &mut dst[iy * s.width + start..][..x_hi - x_lo];
                        for (d, c) in d.iter_mut().zip(&src[oy * ow + x_lo..oy * ow + x_hi]) {
                            *d += *c;
                        }
                    }
                }
            }
            if strided {
                rows.add_back(&grouped, &mut dx[(img * s.c_in + ci) * plane..][..plane]);
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

/// Pixels per block of [`transpose_channels`].
const TRANSPOSE_BLOCK: usize = 16;

/// Copies `images` images of `[C, P]` (NCHW) into one `[images*P, C]` matrix: each pixel's
/// channels side by side.
pub(crate) fn transpose_channels(
    src: &[f32],
    channels: usize,
    p: usize,
    images: usize,
    dst: &mut [f32],
) {
    for img in 0..images {
        let src = &src[img * channels * p..][..channels * p];
        let dst = &mut dst[img * p * channels..][..p * channels];
        // Blocks of pixels: each channel's run of a block is read in one go, and the block's
        // rows of `dst` stay in L1 while every channel is written into them.
        for q0 in (0..p).step_by(TRANSPOSE_BLOCK) {
            let block = TRANSPOSE_BLOCK.min(p - q0);
            let rows = &mut dst[q0 * channels..][..block * channels];
            for c in 0..channels {
                for (j, v) in src[c * p + q0..][..block].iter().enumerate() {
                    rows[j * channels + c] = *v;
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The input index output column (or row) `o` of kernel column `k` reads on `axis`.
    fn input_index(s: &ConvShape, axis: usize, o: usize, k: usize, size: usize) -> Option<usize> {
        let i = (o * s.stride[axis] + k) as isize - s.padding[axis] as isize;
        (0..size as isize).contains(&i).then_some(i as usize)
    }

    /// Every shape the tests walk: strides 1-3, paddings 0-2, kernels 1-5, odd and even
    /// sizes, and kernels wider than the padded input's last window.
    fn shapes() -> Vec<ConvShape> {
        let mut all = Vec::new();
        for (stride, padding, kernel) in
            [(1, 1, 3), (2, 1, 3), (2, 0, 3), (3, 2, 5), (2, 2, 1), (1, 0, 1), (3, 1, 2)]
        {
            for (height, width) in [(7, 9), (8, 8), (5, 4)] {
                all.push(ConvShape {
                    batch: 2,
                    c_in: 2,
                    height,
                    width,
                    c_out: 1,
                    kernel: [kernel, kernel],
                    stride: [stride, stride],
                    padding: [padding, padding],
                });
            }
        }
        all
    }

    fn values(n: usize) -> Vec<f32> {
        (0..n).map(|i| ((i * 7919) % 1009) as f32 / 100.0 - 5.0).collect()
    }

    #[test]
    fn im2col_copies_each_read_element_and_zero_padding_exactly() {
        for s in shapes() {
            let [oh, ow] = s.out_hw();
            let (p, images) = (oh * ow, s.batch);
            let x = values(s.input_len());
            let mut col = vec![f32::NAN; s.patch() * images * p];
            im2col(&s, &x, images, &mut col);
            for (row, img, oy, ox) in im2col_elements(s.patch(), images, oh, ow) {
                let (ci, ky, kx) = (
                    row / (s.kernel[0] * s.kernel[1]),
                    row / s.kernel[1] % s.kernel[0],
                    row % s.kernel[1],
                );
                let want = match (
                    input_index(&s, 0, oy, ky, s.height),
                    input_index(&s, 1, ox, kx, s.width),
                ) {
                    (Some(iy), Some(ix)) => x[((img * s.c_in + ci) * s.height + iy) * s.width + ix],
                    _ => 0.0,
                };
                let got = col[row * images * p + img * p + oy * ow + ox];
                assert_eq!(
                    got.to_bits(),
                    want.to_bits(),
                    "{s:?} row {row} img {img} at ({oy}, {ox})"
                );
            }
        }
    }

    #[test]
    fn col2im_adds_each_term_in_kernel_row_column_output_row_order() {
        for s in shapes() {
            let [oh, ow] = s.out_hw();
            let (p, images) = (oh * ow, s.batch);
            let col = values(s.patch() * images * p);
            let mut got = vec![0.0; s.input_len()];
            col2im(&s, &col, images, &mut got);
            let mut want = vec![0.0f32; s.input_len()];
            for img in 0..images {
                for ci in 0..s.c_in {
                    for ky in 0..s.kernel[0] {
                        for kx in 0..s.kernel[1] {
                            let row = (ci * s.kernel[0] + ky) * s.kernel[1] + kx;
                            for oy in 0..oh {
                                for ox in 0..ow {
                                    let (Some(iy), Some(ix)) = (
                                        input_index(&s, 0, oy, ky, s.height),
                                        input_index(&s, 1, ox, kx, s.width),
                                    ) else {
                                        continue;
                                    };
                                    want[((img * s.c_in + ci) * s.height + iy) * s.width + ix] +=
                                        col[row * images * p + img * p + oy * ow + ox];
                                }
                            }
                        }
                    }
                }
            }
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&want), "{s:?}");
        }
    }

    /// `(row, image, output row, output column)` for every element of an im2col matrix.
    fn im2col_elements(
        rows: usize,
        images: usize,
        oh: usize,
        ow: usize,
    ) -> impl Iterator<Item = (usize, usize, usize, usize)> {
        (0..rows).flat_map(move |r| {
            (0..images)
                .flat_map(move |i| (0..oh).flat_map(move |y| (0..ow).map(move |x| (r, i, y, x))))
        })
    }
}
