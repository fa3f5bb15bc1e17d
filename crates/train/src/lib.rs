//! Contrastive pre-training for corruptencoder on burn: encoders (torchvision ResNets, a
//! small CNN), methods (MoCo-v2, SimCLR, BYOL) behind one [`Method`] trait, image-text
//! pre-training (a small CLIP, `MethodConfig::Clip`) and its CleanCLIP fine-tuning
//! ([`finetune_cleanclip`]), pure losses, and [`pretrain`], the loop with checkpoints,
//! resume and torchvision-named export.
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

mod classifier;
mod config;
mod encoder;
mod error;
mod features;
mod init;
mod io;
mod kernels;
mod loss;
mod method;
mod optim;
mod run;

pub use classifier::ImageClassifier;
pub use config::PretrainConfig;
pub use encoder::{
    Arch, BasicBlock, Bottleneck, Downsample, Encoder, EncoderConfig, ResNet, ResidualBlock,
    SmallCnn, Stem, global_average,
};
pub use error::{Error, Result};
pub use features::extract::{EvalTransform, ExtractedFeatures, extract_features};
pub use features::sets::{ExtractOptions, FeatureJob, FeatureSets};
pub use io::export::{ExportFormat, export_pytorch, pytorch_snippet};
pub use io::import::load_encoder_weights;
pub use io::tensorboard::{EVENTS_FILE, Scalar, read_scalars};
pub use io::weights::{export_encoder, torchvision_key, torchvision_state};
pub use kernels::{Kernels, batch_norm, conv2d, split_batch_norm};
pub use loss::{
    CleanClipBatch, byol_loss, cleanclip_loss, clip_loss, in_modal_loss, info_nce, l2_normalize,
    mixed_byol_loss, mixed_info_nce, mixed_nt_xent, nt_xent,
};
pub use method::clip::{
    CLEANCLIP_FILE, CLIP_FILE, CleanClipConfig, Clip, ClipConfig, ClipEncoders, PAIRS_FILE,
    TOKENIZER_FILE, TextTower, ZERO_SHOT_TEMPLATES, finetune_cleanclip,
};
pub use method::head::MlpHead;
pub use method::{
    Byol, ByolConfig, Method, MethodConfig, MethodOutput, MocoV2, MocoV2Config, Simclr,
    SimclrConfig, SplitBn, update_momentum,
};
pub use optim::{AdamConfig, AdamW, OptimConfig, Sgd};
pub use run::contact_sheet::contact_sheet;
pub use run::entry::{initial_encoder, pretrain, pretrain_data_parallel};
pub use run::icutmix::ICutMixConfig;
pub use run::job::{PretrainRun, PretrainSummary};
pub use run::monitor::{MonitorConfig, MonitorReport, MonitorSets};
pub use run::reporter::{NoReporter, Reporter, StepReport, StepSeconds};
pub use run::timing::time_steps;

/// Re-exported so callers name devices and tensors with the same burn version.
pub use burn;
