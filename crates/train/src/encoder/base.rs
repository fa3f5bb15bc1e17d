use burn::prelude::*;
use corruptencoder_core::Rng;
use serde::{Deserialize, Serialize};

use super::arch::{Arch, Stem};
use super::resnet::ResNet;
use super::small_cnn::SmallCnn;
use crate::kernels::Kernels;

/// Which encoder to build. Default: ResNet-18, ImageNet stem, width 64 (method.md section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EncoderConfig {
    /// Architecture (method.md section 6: ResNet-18).
    pub arch: Arch,
    /// ResNet stem (ignored by the small CNN).
    pub stem: Stem,
    /// Base width: 64 for torchvision's ResNets; smaller values thin every layer alike.
    pub width: usize,
    /// Convolution and batch-norm kernels on the CPU backend: ours (the default, left out of
    /// written configs) or burn's stock ops (`kernels = "stock"`, for comparisons).
    #[serde(skip_serializing_if = "Kernels::is_own")]
    pub kernels: Kernels,
}

impl Default for EncoderConfig {
    fn default() -> Self {
        Self { arch: Arch::ResNet18, stem: Stem::Imagenet, width: 64, kernels: Kernels::Own }
    }
}

impl EncoderConfig {
    /// `arch` at base `width` with `stem`, on our CPU kernels.
    pub fn new(arch: Arch, stem: Stem, width: usize) -> Self {
        Self { arch, stem, width, kernels: Kernels::Own }
    }

    /// Length of the feature vector: `8 * width` for ResNet-18/34 (512 at width 64),
    /// `32 * width` for ResNet-50, `4 * width` for the small CNN.
    pub fn feature_dim(&self) -> usize {
        match self.arch {
            Arch::ResNet18 | Arch::ResNet34 => 8 * self.width,
            Arch::ResNet50 => 32 * self.width,
            Arch::SmallCnn => 4 * self.width,
        }
    }

    /// Builds the encoder with fresh weights drawn from `rng` (torchvision's init).
    pub fn init(&self, device: &Device, rng: &mut Rng) -> Encoder {
        let encoder = match self.arch {
            Arch::SmallCnn => Encoder::Small(SmallCnn::new(self.width, self.kernels, device)),
            arch => Encoder::ResNet(ResNet::new(arch, self.stem, self.width, self.kernels, device)),
        };
        crate::init::init_weights(encoder, rng)
    }
}

/// An image encoder: images to feature vectors.
#[expect(
    clippy::large_enum_variant,
    reason = "built once per model and moved rarely; burn's derive does not see through Box"
)]
#[derive(Module, Debug)]
pub enum Encoder {
    /// A torchvision-style ResNet.
    ResNet(ResNet),
    /// The demo CNN.
    Small(SmallCnn),
}

impl Encoder {
    /// `[B, 3, H, W]` normalised images to `[B, feature_dim]` features: the global average
    /// of [`feature_map`](Self::feature_map) over its positions.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        global_average(self.feature_map(images))
    }

    /// [`forward`](Self::forward) with every training-mode batch norm in `bn_groups`
    /// interleaved groups of the batch, each with its own batch statistics (MoCo's
    /// `SplitBatchNorm`; [`crate::split_batch_norm`]). One group is `forward`.
    pub fn forward_split(&self, images: Tensor<4>, bn_groups: usize) -> Tensor<2> {
        global_average(self.feature_map_split(images, bn_groups))
    }

    /// `[B, 3, H, W]` normalised images to the last convolutional feature map
    /// `[B, feature_dim, h, w]` (ResNet's `layer4`, the small CNN's last conv), which the
    /// features average; saliency methods such as Grad-CAM weigh its channels.
    pub fn feature_map(&self, images: Tensor<4>) -> Tensor<4> {
        self.feature_map_split(images, 1)
    }

    fn feature_map_split(&self, images: Tensor<4>, bn_groups: usize) -> Tensor<4> {
        match self {
            Self::ResNet(m) => m.feature_map(images, bn_groups),
            Self::Small(m) => m.feature_map(images, bn_groups),
        }
    }
}

/// `[B, C, h, w]` to `[B, C]`: the mean over the `h w` positions (torchvision's
/// `AdaptiveAvgPool2d(1)` and `flatten`).
pub fn global_average(map: Tensor<4>) -> Tensor<2> {
    let [b, c, h, w] = map.dims();
    map.reshape([b, c, h * w]).mean_dim(2).reshape([b, c])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng() -> Rng {
        corruptencoder_core::item_rng(0, 0, 0)
    }

    #[test]
    fn feature_dims_match_the_forward_pass() {
        let device = Device::flex();
        let x = Tensor::<4>::zeros([2, 3, 32, 32], &device);
        for config in [
            EncoderConfig::new(Arch::ResNet18, Stem::Cifar, 4),
            EncoderConfig::new(Arch::ResNet50, Stem::Imagenet, 2),
            EncoderConfig::new(Arch::SmallCnn, Stem::Cifar, 4),
        ] {
            let out = config.init(&device, &mut rng()).forward(x.clone());
            assert_eq!(out.dims(), [2, config.feature_dim()], "{config:?}");
        }
        assert_eq!(EncoderConfig::default().feature_dim(), 512);
    }

    #[test]
    fn stock_kernels_are_a_config_choice_left_out_by_default() {
        let own = EncoderConfig::new(Arch::SmallCnn, Stem::Cifar, 4);
        assert!(!toml::to_string(&own).unwrap().contains("kernels"));
        let stock: EncoderConfig =
            toml::from_str("arch = \"small-cnn\"\nwidth = 4\nkernels = \"stock\"").unwrap();
        assert_eq!(stock.kernels, Kernels::Stock);
        // Both run the same network: the outputs agree to float rounding.
        let device = Device::flex().autodiff();
        let x = Tensor::<4>::random([2, 3, 8, 8], burn::tensor::Distribution::Default, &device);
        let a = own.init(&device, &mut rng()).forward(x.clone());
        let b = EncoderConfig { stem: Stem::Cifar, ..stock }.init(&device, &mut rng()).forward(x);
        let gap = (a - b).abs().max().into_scalar::<f32>();
        assert!(gap < 1e-4, "own and stock kernels differ by {gap}");
    }

    #[test]
    fn resnet18_has_torchvision_parameter_count() {
        // torchvision resnet18 has 11,689,512 parameters, 513,000 of them in `fc`; ours adds
        // the batch norms' running mean and variance (9,600 values) to the count.
        let device = Device::flex();
        let enc = EncoderConfig::default().init(&device, &mut rng());
        assert_eq!(enc.num_params(), 11_689_512 - 513_000 + 9_600);
    }
}
