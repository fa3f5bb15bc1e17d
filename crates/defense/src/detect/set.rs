//! What a detector reads and what it returns.
use std::path::Path;

use corruptencoder_core::Progress;
use corruptencoder_data::Dataset;
use corruptencoder_eval::Features;
use corruptencoder_train::{Encoder, EvalTransform, ExtractOptions};

/// The pre-training set as a detector sees it.
pub struct DetectionSet<'a> {
    /// The images, in list order.
    pub images: &'a dyn Dataset,
    /// Their embeddings under `encoder`, one row per image in list order.
    pub embeddings: &'a Features,
    /// The poisoned encoder, on the inference device of `extract`.
    pub encoder: &'a Encoder,
    /// How an image is shown to the encoder (it gave `embeddings`).
    pub transform: EvalTransform,
    /// Batch, device and image limits of the encoder's passes.
    pub extract: &'a ExtractOptions,
    /// The seed every random choice of the detector flows from.
    pub seed: u64,
    /// An existing folder where a detector may leave files of its own (PatchSearch's
    /// candidate triggers), beside the scores.
    pub dir: &'a Path,
    /// Progress of the detector's passes.
    pub progress: &'a dyn Progress,
}

/// A detector's verdict on a set.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// One score per image (higher: more likely a poison).
    pub scores: Vec<f64>,
    /// The images flagged and left out of pre-training.
    pub flagged: Vec<bool>,
}
