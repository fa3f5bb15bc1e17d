use std::path::PathBuf;

/// Errors of the poison generators.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input data (images, masks, folders).
    #[error(transparent)]
    Data(#[from] corruptencoder_data::Error),
    /// Output folder or file problems.
    #[error(transparent)]
    Output(#[from] corruptencoder_core::Error),
    /// The trigger does not fit into the free part of a poisoned image.
    #[error(
        "the {trigger_w}x{trigger_h} trigger does not fit the {free_w}x{free_h} free part of \
         poison {index} (reference {reference}); use a smaller --trigger-size or a larger \
         --area-ratio"
    )]
    TriggerDoesNotFit {
        /// Poison index.
        index: usize,
        /// Reference used.
        reference: String,
        /// Trigger width.
        trigger_w: u32,
        /// Trigger height.
        trigger_h: u32,
        /// Free part's width.
        free_w: u32,
        /// Free part's height.
        free_h: u32,
    },
    /// No background images were found.
    #[error("no background images in {path}")]
    NoBackgrounds {
        /// The folder searched.
        path: PathBuf,
    },
    /// An option is out of its valid range.
    #[error("invalid option {name}: {problem}")]
    InvalidOption {
        /// Option name as the user writes it.
        name: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// Reading a file list or writing an output file failed.
    #[error("cannot {action} {path}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Result with the poison [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
