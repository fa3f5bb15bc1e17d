//! Contrastive pre-training for corruptencoder on burn: encoders (torchvision ResNets, a
//! small CNN), methods (MoCo-v2, SimCLR, BYOL) behind one [`Method`] trait, image-text
//! pre-training (a small CLIP, `MethodConfig::Clip`), pure losses,
//! and [`pretrain`], the loop with checkpoints, resume and torchvision-named export.
//!
//! Models take a burn [`Device`](burn::prelude::Device); the caller picks the backend.
//!
//! ```
//! use burn::prelude::*;
//! use corruptencoder_train::{Arch, EncoderConfig, Stem};
//! let config = EncoderConfig::new(Arch::SmallCnn, Stem::Cifar, 4);
//! let mut rng = corruptencoder_core::item_rng(0, 0, 0);
//! let encoder = config.init(&Device::flex(), &mut rng);
//! let features = encoder.forward(Tensor::zeros([2, 3, 16, 16], &Device::flex()));
//! assert_eq!(features.dims(), [2, config.feature_dim()]);
//! ```
#![deny(missing_docs)]

mod adamw;
mod checkpoint;
mod clip;
mod config;
mod contact_sheet;
mod encoder;
mod error;
mod export;
mod feature_sets;
mod features;
mod head;
mod import;
mod init;
mod kernels;
mod loss;
mod method;
mod monitor;
mod optim;
mod parallel;
mod pipeline;
mod pretrain;
mod reporter;
mod tensorboard;
mod tensors;
mod weights;

pub use adamw::{AdamConfig, AdamW};
pub use clip::{
    CLIP_FILE, Clip, ClipConfig, ClipEncoders, TOKENIZER_FILE, TextTower, ZERO_SHOT_TEMPLATES,
};
pub use config::PretrainConfig;
pub use contact_sheet::contact_sheet;
pub use encoder::{
    Arch, BasicBlock, Bottleneck, Downsample, Encoder, EncoderConfig, ResNet, ResidualBlock,
    SmallCnn, Stem,
};
pub use error::{Error, Result};
pub use export::{ExportFormat, export_pytorch, pytorch_snippet};
pub use feature_sets::{ExtractOptions, FeatureJob, FeatureSets};
pub use features::{EvalTransform, ExtractedFeatures, extract_features};
pub use head::MlpHead;
pub use import::load_encoder_weights;
pub use kernels::{Kernels, batch_norm, conv2d};
pub use loss::{byol_loss, clip_loss, info_nce, l2_normalize, nt_xent};
pub use method::{
    Byol, ByolConfig, Method, MethodConfig, MethodOutput, MocoV2, MocoV2Config, Simclr,
    SimclrConfig, update_momentum,
};
pub use monitor::{MonitorConfig, MonitorReport, MonitorSets};
pub use optim::{OptimConfig, Sgd};
pub use parallel::pretrain_data_parallel;
pub use pretrain::{PretrainRun, PretrainSummary, initial_encoder, pretrain};
pub use reporter::{NoReporter, Reporter, StepReport};
pub use tensorboard::{EVENTS_FILE, Scalar, read_scalars};
pub use weights::{export_encoder, torchvision_key, torchvision_state};

/// Re-exported so callers name devices and tensors with the same burn version.
pub use burn;
