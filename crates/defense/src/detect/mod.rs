//! Poison detectors over the embeddings a poisoned encoder gives the pre-training images
//! (the detectors of Huang et al., ICLR 2025, `HanxunH/Detect-CLIP-Backdoor-Samples`):
//! poisons sit in sparse neighbourhoods of the embedding space, so a large distance to the
//! k-th neighbour, or a low local density relative to the neighbours', flags them.
//!
//! Deviations from the reference code, each forced by scale or chosen for consistency:
//! - the neighbours of an image are drawn from the whole pre-training set, not from one
//!   random batch (our sets are a few thousand images: the exact answer is cheap);
//! - every image's own zero distance is left out of its neighbour list, for the scored
//!   image and its neighbours alike (the reference leaves it out for the scored image only,
//!   so its neighbours' k-distance is one rank nearer and their LID holds a `ln(1e-4)`
//!   term).
mod dao;
mod k_distance;
mod neighbours;
mod settings;

pub use dao::Dao;
pub use k_distance::KDistance;
pub use settings::EmbeddingDetectorConfig;

use corruptencoder_core::SettingError;
use corruptencoder_eval::Features;

use crate::base::Result;

/// A poison detector over the pre-training images' embeddings under the poisoned encoder.
pub trait Detector: Send + Sync {
    /// One score per row of `embeddings` (higher: more likely a poison).
    fn score(&self, embeddings: &Features) -> Result<Vec<f64>>;

    /// How many of `images` scored images to flag and leave out of pre-training.
    fn flag_count(&self, images: usize) -> usize;

    /// Whether a set of `images` can be scored, checked before any image is read; the
    /// error names the setting by its key.
    fn check_set(&self, images: usize) -> Result<(), SettingError>;
}
