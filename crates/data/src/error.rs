use std::path::PathBuf;

use corruptencoder_core::{IoError, SettingError};

/// Everything that can be wrong with input data. Each variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read or written (the error names the path).
    #[error(transparent)]
    Io(#[from] IoError),
    /// The image could not be decoded (corrupt, truncated, unknown format).
    #[error("cannot decode image {path}")]
    Decode {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: image::ImageError,
    },
    /// The image's declared size exceeds the memory limit (decompression-bomb guard).
    #[error("{path} declares {width}x{height} pixels, over the limit of {limit} pixels")]
    TooLarge {
        /// The path.
        path: PathBuf,
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// The limit in pixels.
        limit: u64,
    },
    /// A mask has no object pixels.
    #[error("mask {path} marks no object pixels")]
    EmptyMask {
        /// The mask's path.
        path: PathBuf,
    },
    /// A mask and its image differ in size.
    #[error("mask {mask} is {mask_w}x{mask_h} but its image {image} is {image_w}x{image_h}")]
    MaskSize {
        /// The mask's path.
        mask: PathBuf,
        /// Mask width.
        mask_w: u32,
        /// Mask height.
        mask_h: u32,
        /// The image's path.
        image: PathBuf,
        /// Image width.
        image_w: u32,
        /// Image height.
        image_h: u32,
    },
    /// A labelme JSON file is malformed.
    #[error("cannot parse labelme file {path}")]
    Labelme {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// Input is well-formed but unusable; `problem` says why.
    #[error("{path}: {problem}")]
    Invalid {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// A line of a `path label` file list is malformed.
    #[error("{path} line {line}: expected `path label`, got `{content}`")]
    ListLine {
        /// The list file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The offending line.
        content: String,
    },
    /// A tokenizer file is not valid JSON of the expected shape.
    #[error("cannot parse tokenizer file {path}")]
    TokenizerFile {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A row of an `image,caption` CSV is malformed.
    #[error("{path} line {line}: {problem}")]
    CaptionLine {
        /// The CSV file.
        path: PathBuf,
        /// 1-based line number where the row starts.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// A binary dataset file is shorter than its header or record size says.
    #[error("{path} is truncated or not in the expected format: {problem}")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// What does not add up.
        problem: String,
    },
    /// A class asked for by name or index is not in the dataset.
    #[error("class `{class}` not found in {path} (known: {known})")]
    UnknownClass {
        /// The dataset.
        path: PathBuf,
        /// The class asked for.
        class: String,
        /// The known classes, comma-separated (possibly shortened).
        known: String,
    },
    /// A dataset has no samples.
    #[error("dataset {path} has no samples")]
    EmptyDataset {
        /// The dataset.
        path: PathBuf,
    },
    /// A size or limit the user set is out of range (the error names its key).
    #[error(transparent)]
    Setting(#[from] SettingError),
    /// Writing output failed (the core error names the path).
    #[error(transparent)]
    Output(#[from] corruptencoder_core::Error),
}

/// Result with the data [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
