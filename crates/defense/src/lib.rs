//! Defenses against poisoned contrastive pre-training, behind one [`Defense`] trait with a
//! serde-tagged registry, [`DefenseConfig`]: localized cropping (docs/method.md section 6),
//! i-CutMix, pre-training-set filtering by poison detectors (k-distance and DAO in the
//! embedding space, PatchSearch by the triggers themselves), DECREE's encoder inspection and
//! CleanCLIP's fine-tuning of image-text models.
//!
//! ```
//! use corruptencoder_defense::{DefenseConfig, LocalizedCroppingConfig};
//! use corruptencoder_train::PretrainConfig;
//! let defense = DefenseConfig::LocalizedCropping(LocalizedCroppingConfig::default()).build();
//! let mut pretrain = PretrainConfig::default();
//! defense.adjust_pretraining(&mut pretrain);
//! assert_eq!(pretrain.views.crops, corruptencoder_augment::Crops::Localized);
//! ```
#![deny(missing_docs)]

mod base;
mod cleanclip;
mod config;
mod decree;
mod decree_check;
mod detect;
mod detector_filter;
mod filter;
mod icutmix;
mod localized_cropping;
mod patch_search;

pub use base::{Defense, Error, Result};
pub use cleanclip::CleanClip;
pub use config::DefenseConfig;
pub use decree::{DecreeConfig, DecreeReport, DecreeSummary, Inversion, decree, invert_trigger};
pub use detect::{
    Dao, Detection, DetectionSet, Detector, EmbeddingDetector, EmbeddingDetectorConfig, KDistance,
};
pub use filter::{FilterJob, Filtered, filter_list, read_scores};
pub use icutmix::ICutMix;
pub use localized_cropping::{LocalizedCropping, LocalizedCroppingConfig};
pub use patch_search::{PatchSearch, PatchSearchConfig};
