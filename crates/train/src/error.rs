use std::path::PathBuf;

/// Errors of pre-training. Variants name the file concerned and keep the cause.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration file could not be read.
    #[error("cannot read configuration {path}")]
    ReadConfig {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A dataset or image could not be read (the message names the file); unreadable
    /// images fail pre-training only in strict mode.
    #[error(transparent)]
    Data(#[from] corruptencoder_data::Error),
    /// The dataset holds no usable image.
    #[error("dataset {path} has no usable images")]
    EmptyDataset {
        /// The list file or folder.
        path: PathBuf,
    },
    /// The batch is larger than the dataset, so no full batch exists.
    #[error("batch size {batch} is larger than the {images} usable images; lower --batch-size")]
    BatchTooLarge {
        /// The batch size asked for.
        batch: usize,
        /// Usable images.
        images: usize,
    },
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The loss became NaN or infinite; training stopped.
    #[error(
        "loss became {loss} at epoch {epoch}, step {step}; stopped. Last good checkpoint: {}",
        describe(.checkpoint)
    )]
    NonFiniteLoss {
        /// The loss value.
        loss: f32,
        /// 0-based epoch.
        epoch: usize,
        /// Global step.
        step: u64,
        /// The checkpoint to resume from, if any.
        checkpoint: Option<PathBuf>,
    },
    /// A checkpoint or weight file could not be read.
    #[error("cannot read {path}")]
    ReadWeights {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A checkpoint or weight file is not valid safetensors or lacks what is needed.
    #[error("{path} is not a usable checkpoint: {what}")]
    BadWeights {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// The safetensors encoder failed.
    #[error("cannot encode {path}")]
    Encode {
        /// The file being written.
        path: PathBuf,
        /// The cause.
        #[source]
        source: safetensors::SafeTensorError,
    },
    /// The training monitor could not score the encoder (bad labels, target class).
    #[error("training monitor")]
    Monitor(#[source] corruptencoder_eval::Error),
    /// Writing an output failed.
    #[error(transparent)]
    Output(#[from] corruptencoder_core::Error),
    /// Appending to the step log failed.
    #[error("cannot write {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The configuration file could not be parsed.
    #[error("cannot parse configuration {path}")]
    ParseConfig {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: toml::de::Error,
    },
    /// A TensorBoard event file could not be read or is damaged.
    #[error("TensorBoard event file {path}: {what}")]
    Events {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
        /// The I/O error, when reading failed.
        #[source]
        source: Option<std::io::Error>,
    },
}

/// Result with the train [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn describe(checkpoint: &Option<PathBuf>) -> String {
    checkpoint.as_ref().map_or("none (no epoch finished)".into(), |p| p.display().to_string())
}
