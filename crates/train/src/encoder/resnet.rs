use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, PaddingConfig2d, conv::Conv2d};
use burn::prelude::*;
use burn::tensor::activation::relu;

use super::arch::{Arch, Stem};
use super::block::{ResidualBlock, bn, conv};
use crate::kernels::{Kernels, conv2d, split_batch_norm};

/// torchvision's `ResNet` without its `fc` layer: the encoder outputs the pooled features.
/// Field names follow torchvision so exported keys match (`layer1.0.conv1.weight`).
#[derive(Module, Debug)]
pub struct ResNet {
    conv1: Conv2d,
    bn1: BatchNorm,
    maxpool: Option<MaxPool2d>,
    layer1: Vec<ResidualBlock>,
    layer2: Vec<ResidualBlock>,
    layer3: Vec<ResidualBlock>,
    layer4: Vec<ResidualBlock>,
    /// Not a weight: which CPU kernels the forward pass runs (see `Kernels`).
    #[module(skip)]
    kernels: Kernels,
}

impl ResNet {
    /// A ResNet of `arch` (18, 34 or 50) with base width `width` (64 in torchvision) and
    /// the given stem. The CIFAR stem is a 3x3 stride-1 conv without max-pool, as in the
    /// CIFAR ports of SimCLR/MoCo.
    pub(crate) fn new(
        arch: Arch,
        stem: Stem,
        width: usize,
        kernels: Kernels,
        device: &Device,
    ) -> Self {
        let (blocks, bottleneck) = match arch {
            Arch::ResNet18 => ([2, 2, 2, 2], false),
            Arch::ResNet34 => ([3, 4, 6, 3], false),
            Arch::ResNet50 => ([3, 4, 6, 3], true),
            Arch::SmallCnn => unreachable!("SmallCnn is not a ResNet"),
        };
        let (conv1, maxpool) = match stem {
            Stem::Imagenet => (
                conv(3, width, 7, 2, device),
                Some(
                    MaxPool2dConfig::new([3, 3])
                        .with_strides([2, 2])
                        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                        .init(),
                ),
            ),
            Stem::Cifar => (conv(3, width, 3, 1, device), None),
        };
        let expansion = if bottleneck { 4 } else { 1 };
        let mut c_in = width;
        let mut layer = |i: usize, stride: usize| {
            let planes = width << i;
            (0..blocks[i])
                .map(|b| {
                    let block = ResidualBlock::new(
                        bottleneck,
                        c_in,
                        planes,
                        if b == 0 { stride } else { 1 },
                        device,
                    );
                    c_in = planes * expansion;
                    block
                })
                .collect::<Vec<_>>()
        };
        let (layer1, layer2, layer3, layer4) = (layer(0, 1), layer(1, 2), layer(2, 2), layer(3, 2));
        Self { conv1, bn1: bn(width, device), maxpool, layer1, layer2, layer3, layer4, kernels }
    }

    /// `[B, 3, H, W]` images to `[B, F, h, w]`, the output of `layer4` before the pool;
    /// training-mode batch norms in `g` groups ([`split_batch_norm`]).
    pub(crate) fn feature_map(&self, x: Tensor<4>, g: usize) -> Tensor<4> {
        let k = self.kernels;
        let mut x = relu(split_batch_norm(&self.bn1, conv2d(&self.conv1, x, k), k, g));
        if let Some(pool) = &self.maxpool {
            x = pool.forward(x);
        }
        for block in self.layer1.iter().chain(&self.layer2).chain(&self.layer3).chain(&self.layer4)
        {
            x = block.forward(x, k, g);
        }
        x
    }
}
