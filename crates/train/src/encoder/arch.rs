//! The encoder's architecture and stem, the choices an [`EncoderConfig`](super::EncoderConfig)
//! names.
use serde::{Deserialize, Serialize};

/// Encoder architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Arch {
    /// torchvision ResNet-18 (method.md section 6: the reference encoder, 512-d features).
    #[serde(rename = "resnet18")]
    ResNet18,
    /// torchvision ResNet-34.
    #[serde(rename = "resnet34")]
    ResNet34,
    /// torchvision ResNet-50 (v1.5), 2048-d features.
    #[serde(rename = "resnet50")]
    ResNet50,
    /// The three-conv demo network.
    SmallCnn,
}

/// First layers of a ResNet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stem {
    /// 7x7 stride-2 conv and 3x3 max-pool (torchvision; for 224 px inputs).
    Imagenet,
    /// 3x3 stride-1 conv, no max-pool (for 32 px inputs).
    Cifar,
}
