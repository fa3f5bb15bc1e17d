/// Everything that can go wrong when evaluating cached features.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Two inputs that must agree in length do not (e.g. features and labels).
    #[error("{what}: expected {expected}, got {actual}")]
    Length {
        /// What was being compared.
        what: &'static str,
        /// The length required.
        expected: usize,
        /// The length found.
        actual: usize,
    },
    /// An input that must hold at least one item is empty.
    #[error("{what} is empty")]
    Empty {
        /// The empty input.
        what: &'static str,
    },
    /// A class index is not below the number of classes.
    #[error("{what} holds class {label}, but there are only {classes} classes")]
    Label {
        /// Which input holds the label.
        what: &'static str,
        /// The offending label.
        label: usize,
        /// The number of classes.
        classes: usize,
    },
    /// A setting is unusable (the error names its key and value).
    #[error(transparent)]
    Setting(#[from] corruptencoder_core::SettingError),
    /// A label is negative (a poison marker) where a class index is needed.
    #[error(
        "{what}: row {row} has label {label}, not a class index (poisons do not belong in a downstream set)"
    )]
    NegativeLabel {
        /// Which labels.
        what: &'static str,
        /// The row.
        row: usize,
        /// The label.
        label: i64,
    },
    /// A feature is NaN or infinite, so nothing trained on it would mean anything.
    #[error("feature row {row} holds a non-finite value")]
    NonFinite {
        /// The row.
        row: usize,
    },
}

/// Result with the eval [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
