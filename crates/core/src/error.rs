use std::fmt::Display;
use std::path::PathBuf;

/// Errors of the core crate: file-system problems with a path, and a stop on request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The output folder exists and replacing it was not asked for.
    #[error("output folder {path} already exists (`force` replaces it)")]
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
    #[error("an unfinished run is in {partial}: `resume` continues it, `force` starts over")]
    Unfinished {
        /// The unfinished run's folder.
        partial: PathBuf,
    },
    /// Any I/O failure, with the path it concerns.
    #[error(transparent)]
    Io(#[from] IoError),
}

/// Result with the core [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A file-system operation that failed, with what was being done and the path: the one
/// I/O error of the workspace, which every crate's error wraps.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {}", path.display())]
pub struct IoError {
    /// What was being done ("read", "write", "rename", ...).
    pub action: &'static str,
    /// The path concerned.
    pub path: PathBuf,
    /// The cause.
    #[source]
    pub source: std::io::Error,
}

impl IoError {
    /// The error of `action` on `path` failing with `source`.
    pub fn new(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self { action, path: path.into(), source }
    }

    /// A `map_err` adapter: `fs_err::read(p).map_err(IoError::at("read", p))`.
    pub fn at(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self { action, path, source }
    }
}

/// A setting whose value is unusable, named by its configuration key (the field of the
/// TOML table it is set in, `area_ratio`, or a dotted path, `views.size`), with the value
/// and what is wrong: `area_ratio = 0.5: must be above 1`.
///
/// Libraries speak in keys, never in command-line flags; the binary renders the flag of a
/// key it has one for, so that a CLI user reads the flag and a file user the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key} = {value}: {problem}")]
pub struct SettingError {
    /// The configuration key.
    pub key: String,
    /// The value, as written.
    pub value: String,
    /// What is wrong with it.
    pub problem: String,
}

impl SettingError {
    /// `key = value: problem`.
    pub fn new(key: impl Into<String>, value: impl Display, problem: impl Into<String>) -> Self {
        Self { key: key.into(), value: value.to_string(), problem: problem.into() }
    }

    /// The same error with its key under `table` (`batch_size` under `pretrain` becomes
    /// `pretrain.batch_size`), for settings nested in a larger file.
    pub fn within(mut self, table: &str) -> Self {
        self.key = format!("{table}.{}", self.key);
        self
    }
}

pub(crate) fn io(
    action: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(std::io::Error) -> Error {
    let at = IoError::at(action, path);
    move |source| Error::Io(at(source))
}
