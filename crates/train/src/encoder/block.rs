use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;

use crate::kernels::{Kernels, conv2d, split_batch_norm};

/// torchvision's conv initialisation: `kaiming_normal_(mode="fan_out", nonlinearity="relu")`,
/// no bias (every conv is followed by a batch norm).
pub(crate) fn conv(
    c_in: usize,
    c_out: usize,
    kernel: usize,
    stride: usize,
    device: &Device,
) -> Conv2d {
    Conv2dConfig::new([c_in, c_out], [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(kernel / 2, kernel / 2, kernel / 2, kernel / 2))
        .with_bias(false)
        .with_initializer(Initializer::KaimingNormal { gain: 2f64.sqrt(), fan_out_only: true })
        .init(device)
}

/// Batch norm with torchvision's defaults (weight 1, bias 0, eps 1e-5, momentum 0.1).
pub(crate) fn bn(channels: usize, device: &Device) -> BatchNorm {
    BatchNormConfig::new(channels).init(device)
}

/// torchvision's `downsample`: a strided 1x1 conv and a batch norm on the shortcut.
/// Exported as `downsample.0` / `downsample.1` (see `weights.rs`).
#[derive(Module, Debug)]
pub struct Downsample {
    conv: Conv2d,
    bn: BatchNorm,
}

impl Downsample {
    fn new(c_in: usize, c_out: usize, stride: usize, device: &Device) -> Self {
        Self { conv: conv(c_in, c_out, 1, stride, device), bn: bn(c_out, device) }
    }

    fn forward(&self, x: Tensor<4>, k: Kernels, g: usize) -> Tensor<4> {
        split_batch_norm(&self.bn, conv2d(&self.conv, x, k), k, g)
    }
}

/// Ports torchvision's `BasicBlock` (ResNet-18/34): two 3x3 convs, stride on the first.
#[derive(Module, Debug)]
pub struct BasicBlock {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    downsample: Option<Downsample>,
}

/// Ports torchvision's `Bottleneck` (ResNet-50), v1.5: the stride sits on the 3x3 conv, not
/// the first 1x1 as in the original paper.
#[derive(Module, Debug)]
pub struct Bottleneck {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    conv3: Conv2d,
    bn3: BatchNorm,
    downsample: Option<Downsample>,
}

/// One residual block of either kind; an enum rather than trait objects so the whole network
/// stays a plain burn module (resnet-burn's `ResidualBlock`).
#[expect(
    clippy::large_enum_variant,
    reason = "built once per model and moved rarely; burn's derive does not see through Box"
)]
#[derive(Module, Debug)]
pub enum ResidualBlock {
    /// ResNet-18/34 block (expansion 1).
    Basic(BasicBlock),
    /// ResNet-50 block (expansion 4).
    Bottleneck(Bottleneck),
}

impl ResidualBlock {
    /// A block from `c_in` channels with `planes` inner channels; `bottleneck` picks the kind.
    /// Output channels are `planes * expansion`.
    pub(crate) fn new(
        bottleneck: bool,
        c_in: usize,
        planes: usize,
        stride: usize,
        device: &Device,
    ) -> Self {
        let c_out = planes * if bottleneck { 4 } else { 1 };
        let downsample =
            (stride != 1 || c_in != c_out).then(|| Downsample::new(c_in, c_out, stride, device));
        if bottleneck {
            Self::Bottleneck(Bottleneck {
                conv1: conv(c_in, planes, 1, 1, device),
                bn1: bn(planes, device),
                conv2: conv(planes, planes, 3, stride, device),
                bn2: bn(planes, device),
                conv3: conv(planes, c_out, 1, 1, device),
                bn3: bn(c_out, device),
                downsample,
            })
        } else {
            Self::Basic(BasicBlock {
                conv1: conv(c_in, planes, 3, stride, device),
                bn1: bn(planes, device),
                conv2: conv(planes, planes, 3, 1, device),
                bn2: bn(planes, device),
                downsample,
            })
        }
    }

    /// `[B, C_in, H, W]` to `[B, C_out, H / stride, W / stride]`, on the kernels `k`, with
    /// training-mode batch norms in `g` groups ([`split_batch_norm`]).
    pub(crate) fn forward(&self, x: Tensor<4>, k: Kernels, g: usize) -> Tensor<4> {
        match self {
            Self::Basic(b) => {
                let identity =
                    b.downsample.as_ref().map_or(x.clone(), |d| d.forward(x.clone(), k, g));
                let out = relu(split_batch_norm(&b.bn1, conv2d(&b.conv1, x, k), k, g));
                let out = split_batch_norm(&b.bn2, conv2d(&b.conv2, out, k), k, g);
                relu(out + identity)
            }
            Self::Bottleneck(b) => {
                let identity =
                    b.downsample.as_ref().map_or(x.clone(), |d| d.forward(x.clone(), k, g));
                let out = relu(split_batch_norm(&b.bn1, conv2d(&b.conv1, x, k), k, g));
                let out = relu(split_batch_norm(&b.bn2, conv2d(&b.conv2, out, k), k, g));
                let out = split_batch_norm(&b.bn3, conv2d(&b.conv3, out, k), k, g);
                relu(out + identity)
            }
        }
    }
}
