//! Encoders: torchvision ResNets and a small demo CNN.
mod arch;
mod base;
mod block;
mod resnet;
mod small_cnn;

pub use arch::{Arch, Stem};
pub use base::{Encoder, EncoderConfig, global_average};
pub use block::{BasicBlock, Bottleneck, Downsample, ResidualBlock};
pub use resnet::ResNet;
pub use small_cnn::SmallCnn;
