//! Downstream evaluation on cached encoder features: the authors' linear probe, a weighted
//! kNN monitor, zero-shot classification for image-text encoders, and the paper's metrics
//! (CA, BA, ASR; method.md sections 2 and 7).
//!
//! Works on feature matrices only, so it needs no deep-learning backend; extracting
//! features with an encoder belongs to the training layer.
//!
//! ```
//! use corruptencoder_eval::{
//!     Features, LabelledFeatures, LinearProbe, LinearProbeConfig, TriggeredSet, evaluate,
//! };
//! let train = Features::from_rows(&[[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])?;
//! let labels = [0, 0, 1, 1];
//! let config = LinearProbeConfig { epochs: 20, ..Default::default() };
//! let (probe, _history) = LinearProbe::fit(&config, &train, &labels, 2, 7)?;
//! let clean = LabelledFeatures { features: &train, labels: &labels };
//! let result = evaluate(&probe, clean, Some(TriggeredSet { set: clean, target: 1 }))?;
//! assert_eq!(result.clean.accuracy.top1, 1.0);
//! assert_eq!(result.attack.unwrap().asr, 0.0);
//! # Ok::<(), corruptencoder_eval::Error>(())
//! ```
#![deny(missing_docs)]

mod detection;
mod error;
mod evaluate;
mod features;
mod knn;
mod linear_probe;
mod metrics;
mod score;
mod standardizer;
mod zero_shot;

pub use detection::{DetectionQuality, auroc, detection_quality, flag_highest};
pub use error::{Error, Result};
pub use evaluate::{Classifier, LabelledFeatures, TriggeredSet, evaluate};
pub use features::Features;
pub use knn::{KnnClassifier, KnnConfig};
pub use linear_probe::{LinearProbe, LinearProbeConfig, ProbeHistory};
pub use metrics::{
    Accuracy, AttackSuccess, ClassificationReport, ConfusionMatrix, DownstreamResult,
    attack_success_rate, top1_accuracy,
};
pub use score::{ClassifierConfig, ScoreInput, class_labels, score};
pub use standardizer::Standardizer;
pub use zero_shot::{ZeroShotResult, zero_shot_predict, zero_shot_scores};
