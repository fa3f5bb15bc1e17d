use std::path::PathBuf;

/// Errors of an experiment; each names the file or the stage concerned.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder operation failed.
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
    /// The experiment file is not valid TOML for an experiment.
    #[error("cannot parse experiment file {path}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: toml::de::Error,
    },
    /// The experiment file parses but a value is unusable.
    #[error("{path}: {problem}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The output folder holds a different experiment.
    #[error(
        "{path} holds a different experiment (its experiment.toml differs); choose another \
         --out, or pass --force to replace it"
    )]
    DifferentExperiment {
        /// The output folder.
        path: PathBuf,
    },
    /// A path the experiment file names does not exist.
    #[error("{path} does not exist")]
    Missing {
        /// The path.
        path: PathBuf,
    },
    /// A file a command writes exists, and replacing it was not asked for.
    #[error("{path} already exists (pass --force to replace it)")]
    OutputExists {
        /// The file.
        path: PathBuf,
    },
    /// A re-scoring setting is unusable.
    #[error("{setting} {value}: {problem}")]
    Rescore {
        /// The setting (`trigger_sizes`, `targets`).
        setting: &'static str,
        /// Its value.
        value: String,
        /// What is wrong.
        problem: String,
    },
    /// The experiment gives no trigger for the triggered test set.
    #[error("no trigger for the triggered test set: set data.trigger")]
    NoTrigger,
    /// A defense failed.
    #[error(transparent)]
    Defense(#[from] corruptencoder_defense::Error),
    /// A stage of one run failed.
    #[error("run {run}: {stage} failed")]
    Stage {
        /// The run (arm, sweep value, seed).
        run: String,
        /// The stage.
        stage: &'static str,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Preparing the shared data failed.
    #[error(transparent)]
    Data(#[from] corruptencoder_data::Error),
    /// Making poisons or the test set failed.
    #[error(transparent)]
    Poison(#[from] corruptencoder_poison::Error),
    /// Training or feature extraction failed.
    #[error(transparent)]
    Train(#[from] corruptencoder_train::Error),
    /// The probe or the metrics failed.
    #[error(transparent)]
    Eval(#[from] corruptencoder_eval::Error),
    /// Writing the report failed.
    #[error(transparent)]
    Report(#[from] corruptencoder_report::Error),
    /// A core helper failed (atomic writes, output folders).
    #[error(transparent)]
    Core(#[from] corruptencoder_core::Error),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn io(
    action: &'static str,
    path: &std::path::Path,
) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Io { action, path, source }
}
