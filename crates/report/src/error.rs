use std::path::PathBuf;

/// Errors of report writing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A figure to embed could not be read.
    #[error("cannot read figure {path}")]
    Figure {
        /// The image file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A chart could not be drawn.
    #[error("cannot draw chart {chart}: {problem}")]
    Chart {
        /// Which chart.
        chart: &'static str,
        /// What went wrong.
        problem: String,
    },
    /// Writing a report file failed.
    #[error(transparent)]
    Core(#[from] corruptencoder_core::Error),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;
