//! Poison detectors over the pre-training set under a poisoned encoder ([`Detector`]). The
//! embedding-space ones ([`EmbeddingDetector`]) are those of Huang et al., ICLR 2025
//! (`HanxunH/Detect-CLIP-Backdoor-Samples`): poisons sit in sparse neighbourhoods of the embedding space, so a large distance to the
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
mod set;
mod settings;

pub use dao::Dao;
pub use k_distance::KDistance;
pub use set::{Detection, DetectionSet};
pub use settings::EmbeddingDetectorConfig;

use corruptencoder_core::SettingError;
use corruptencoder_eval::{Features, flag_highest};

use crate::base::Result;

/// A poison detector over the pre-training set under the poisoned encoder: it sees every
/// image's embedding, and the images and the encoder themselves when it needs more
/// (PatchSearch), and decides which images to leave out.
pub trait Detector: Send + Sync {
    /// One score per image of `set` (higher: more likely a poison) and the images flagged.
    fn detect(&self, set: &DetectionSet<'_>) -> Result<Detection>;

    /// Whether a set of `images` can be scored, checked before any image is read; the
    /// error names the setting by its key.
    fn check_set(&self, images: usize) -> Result<(), SettingError>;
}

/// A detector that reads the embeddings alone and flags a set number of the highest
/// scores: k-distance and DAO. Each is a [`Detector`] too.
pub trait EmbeddingDetector: Send + Sync {
    /// One score per row of `embeddings` (higher: more likely a poison).
    fn score(&self, embeddings: &Features) -> Result<Vec<f64>>;

    /// How many of `images` scored images to flag and leave out of pre-training.
    fn flag_count(&self, images: usize) -> usize;

    /// Whether a set of `images` can be scored (see [`Detector::check_set`]).
    fn check_set(&self, images: usize) -> Result<(), SettingError>;
}

impl<T: EmbeddingDetector> Detector for T {
    fn detect(&self, set: &DetectionSet<'_>) -> Result<Detection> {
        let scores = self.score(set.embeddings)?;
        let flagged = flag_highest(&scores, self.flag_count(scores.len()));
        Ok(Detection { scores, flagged })
    }

    fn check_set(&self, images: usize) -> Result<(), SettingError> {
        EmbeddingDetector::check_set(self, images)
    }
}
