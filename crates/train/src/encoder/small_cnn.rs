use burn::nn::{BatchNorm, conv::Conv2d};
use burn::prelude::*;
use burn::tensor::activation::relu;

use super::block::{bn, conv};
use crate::kernels::{Kernels, conv2d, split_batch_norm};

/// A three-conv network for CPU demos and tests: widths `w, 2w, 4w`, the last two strided,
/// then global average pooling to `4w` features.
#[derive(Module, Debug)]
pub struct SmallCnn {
    convs: Vec<Conv2d>,
    bns: Vec<BatchNorm>,
    /// Not a weight: which CPU kernels the forward pass runs (see `Kernels`).
    #[module(skip)]
    kernels: Kernels,
}

impl SmallCnn {
    pub(crate) fn new(width: usize, kernels: Kernels, device: &Device) -> Self {
        let chans = [3, width, 2 * width, 4 * width];
        let convs = (0..3)
            .map(|i| conv(chans[i], chans[i + 1], 3, if i == 0 { 1 } else { 2 }, device))
            .collect();
        let bns = (1..4).map(|i| bn(chans[i], device)).collect();
        Self { convs, bns, kernels }
    }

    /// `[B, 3, H, W]` to `[B, 4w, H / 4, W / 4]` (rounded up), the last conv's activations;
    /// training-mode batch norms in `bn_groups` groups ([`split_batch_norm`]).
    pub(crate) fn feature_map(&self, mut x: Tensor<4>, bn_groups: usize) -> Tensor<4> {
        let k = self.kernels;
        for (c, n) in self.convs.iter().zip(&self.bns) {
            x = relu(split_batch_norm(n, conv2d(c, x, k), k, bn_groups));
        }
        x
    }
}
