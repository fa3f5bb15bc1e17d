use std::path::PathBuf;

use corruptencoder_core::{IoError, SettingError};

/// Errors of pre-training. Variants name the file or the setting concerned and keep the
/// cause.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration, checkpoint or weight file could not be read, or an output written
    /// (the error names the path).
    #[error(transparent)]
    Io(#[from] IoError),
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
    #[error("batch size {batch} is larger than the {images} usable images; lower `batch_size`")]
    BatchTooLarge {
        /// The batch size asked for.
        batch: usize,
        /// Usable images.
        images: usize,
    },
    /// A setting is out of range (the error names its key and value).
    #[error(transparent)]
    Setting(#[from] SettingError),
    /// A run being resumed was started with another configuration.
    #[error("{path} was run with a different configuration; resume with its config.toml")]
    DifferentRun {
        /// The run folder.
        path: PathBuf,
    },
    /// Image-text pre-training was given images without captions.
    #[error(
        "method `clip` needs image-caption data (an `image,caption` CSV or a folder of images \
         with .txt captions); {path} has no captions"
    )]
    NoCaptions {
        /// The dataset.
        path: PathBuf,
    },
    /// Image-text pre-training was asked to run on several devices.
    #[error("method `clip` runs on one device; data-parallel image-text pre-training is not built")]
    OneDevice,
    /// Zero-shot scoring was asked of a model without a text tower.
    #[error("{path} was pre-trained with {method}, not clip: zero-shot needs a text tower")]
    NotImageText {
        /// The run folder.
        path: PathBuf,
        /// Its method.
        method: &'static str,
    },
    /// A test image is smaller than the centre crop the encoder sees.
    #[error(
        "{source_image} is {width}x{height} after resizing, smaller than the {crop} px centre crop"
    )]
    ImageTooSmall {
        /// The image.
        source_image: String,
        /// Its width after resizing.
        width: u32,
        /// Its height after resizing.
        height: u32,
        /// The crop side.
        crop: u32,
    },
    /// A tensor's values could not be read back as floats (a backend fault).
    #[error("cannot read tensor values back: {what}")]
    TensorData {
        /// The backend's description.
        what: String,
    },
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
