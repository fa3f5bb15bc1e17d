//! Encoders: torchvision ResNets and a small demo CNN.
mod base;
mod block;
mod resnet;
mod small_cnn;

pub use base::{Arch, Encoder, EncoderConfig, Stem};
pub use block::{BasicBlock, Bottleneck, Downsample, ResidualBlock};
pub use resnet::ResNet;
pub use small_cnn::SmallCnn;
