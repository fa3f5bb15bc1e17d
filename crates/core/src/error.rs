use std::path::PathBuf;

/// Errors of the core crate: all of them are file-system problems with a path.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The output folder exists and overwriting was not asked for.
    #[error("output folder {path} already exists (pass --force to replace it)")]
    OutputExists {
        /// The folder that exists.
        path: PathBuf,
    },
    /// The output path exists and is not a folder.
    #[error("{path} exists and is not a folder; choose another output path")]
    NotAFolder {
        /// The path.
        path: PathBuf,
    },
    /// The user asked to stop (an interrupt or termination signal).
    #[error("interrupted")]
    Cancelled,
    /// A resumable run stopped before it finished, and neither resuming nor starting over
    /// was asked for.
    #[error(
        "an unfinished run is in {partial}: pass --resume to continue it, or --force to start over"
    )]
    Unfinished {
        /// The unfinished run's folder.
        partial: PathBuf,
    },
    /// Any I/O failure, with the path it concerns.
    #[error("cannot {action} {path}")]
    Io {
        /// What was being done ("write", "rename", ...).
        action: &'static str,
        /// The path concerned.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Result with the core [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io(
    action: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { action, path, source }
}
