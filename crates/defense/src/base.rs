use std::path::{Path, PathBuf};

use corruptencoder_train::{CleanClipConfig, PretrainConfig};

use crate::decree::DecreeConfig;
use crate::detect::Detector;

/// What a defense can fail with: file work goes through core's atomic writes and staged
/// folders, so their error (which names the path) is the one to carry.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error(transparent)]
    Files(#[from] corruptencoder_core::Error),
    /// A setting does not fit the data it meets (the error names its key).
    #[error(transparent)]
    Setting(#[from] corruptencoder_core::SettingError),
    /// The pre-training list or one of its images could not be read.
    #[error(transparent)]
    Data(#[from] corruptencoder_data::Error),
    /// The encoder could not be loaded or run.
    #[error(transparent)]
    Encoder(#[from] corruptencoder_train::Error),
    /// The embeddings or scores are unusable (a non-finite value).
    #[error(transparent)]
    Scores(#[from] corruptencoder_eval::Error),
}

/// Result with the defense [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A defense acts at one or more points of the pipeline; every hook defaults to doing
/// nothing, so a defense implements only the ones it uses.
pub trait Defense: Send + Sync {
    /// The name in tables (`localized-cropping`).
    fn name(&self) -> &'static str;

    /// Changes how pre-training runs (crop policy, augmentations, schedule).
    fn adjust_pretraining(&self, _config: &mut PretrainConfig) {}

    /// Filters the pre-training set before training: given its `path label` list, writes
    /// the kept lines under `work` and returns that list, or `None` to keep every image.
    fn filter_pretraining_set(&self, _list: &Path, _work: &Path) -> Result<Option<PathBuf>> {
        Ok(None)
    }

    /// A poison detector: the pipeline pre-trains on the poisoned set, embeds every
    /// pre-training image with that encoder, scores them with this detector, leaves the
    /// flagged ones out and pre-trains again.
    fn detector(&self) -> Option<&dyn Detector> {
        None
    }

    /// An encoder-level check: the pipeline inverts a trigger on the arm's encoder after
    /// pre-training (DECREE) and records its verdict; the encoder itself is left as it is.
    fn inverts_trigger(&self) -> Option<&DecreeConfig> {
        None
    }

    /// A fine-tuning after image-text pre-training (CleanCLIP): the pipeline fine-tunes the
    /// arm's CLIP model on clean image-caption pairs with these settings and scores it
    /// zero-shot before and after.
    fn finetunes_clip(&self) -> Option<&CleanClipConfig> {
        None
    }
}
