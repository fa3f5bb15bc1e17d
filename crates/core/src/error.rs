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
