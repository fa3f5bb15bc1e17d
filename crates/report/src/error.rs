/// Errors of report writing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A figure to embed could not be read (the error names the file).
    #[error(transparent)]
    Io(#[from] corruptencoder_core::IoError),
    /// A chart could not be drawn.
    #[error("cannot draw chart {chart}")]
    Chart {
        /// Which chart.
        chart: &'static str,
        /// What went wrong.
        #[source]
        source: DrawError,
    },
    /// Writing a report file failed.
    #[error(transparent)]
    Core(#[from] corruptencoder_core::Error),
}

/// What drawing a chart on the SVG canvas fails with.
pub type DrawError = plotters::drawing::DrawingAreaErrorKind<std::io::Error>;

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;
