use std::path::PathBuf;

use corruptencoder_core::{IoError, SettingError};

/// Errors of an experiment; each names the file, the setting or the stage concerned.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder operation failed (the error names the path).
    #[error(transparent)]
    Io(#[from] IoError),
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
    #[error("{}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: Invalid,
    },
    /// The output folder holds a different experiment.
    #[error(
        "{path} holds a different experiment (its experiment.toml differs); choose another \
         output folder, or set `force` to replace it"
    )]
    DifferentExperiment {
        /// The output folder.
        path: PathBuf,
    },
    /// The report was asked for while runs are not finished.
    #[error("{}", missing_runs(runs, *total))]
    MissingRuns {
        /// The unfinished runs, each named by label and folder (`ce seed 1 (runs/ce/seed-1)`).
        runs: Vec<String>,
        /// The experiment's number of runs.
        total: usize,
    },
    /// The folder a process works in holds another experiment, or none: a process that ran
    /// beside it removed or replaced it.
    #[error(
        "{path} no longer holds this experiment: another process removed or replaced it \
         while this one ran"
    )]
    Gone {
        /// The folder.
        path: PathBuf,
    },
    /// A path the experiment file names does not exist.
    #[error("{path} does not exist")]
    Missing {
        /// The path.
        path: PathBuf,
    },
    /// A file a command writes exists, and replacing it was not asked for.
    #[error("{path} already exists (`force` replaces it)")]
    OutputExists {
        /// The file.
        path: PathBuf,
    },
    /// A setting of a command other than the experiment file (re-scoring's
    /// `trigger_sizes`, `targets`) is unusable.
    #[error(transparent)]
    Setting(#[from] SettingError),
    /// The experiment gives no trigger for the triggered test set.
    #[error("no trigger for the triggered test set: set data.trigger")]
    NoTrigger,
    /// Image-text pre-training needs captioned clean data.
    #[error(
        "{path}: pretrain.method = clip needs image-caption data: an `image,caption` CSV or a \
         folder of images with .txt captions as data.pretrain"
    )]
    NoCaptions {
        /// The clean pre-training data.
        path: PathBuf,
    },
    /// An image-only attack's poisons in an image-text run.
    #[error(
        "arm `{arm}`: its attack makes no captions ({path} is missing); image-text \
         pre-training takes the image-text attacks"
    )]
    NoPoisonCaptions {
        /// The arm.
        arm: String,
        /// The captions file its poisons lack.
        path: PathBuf,
    },
    /// Zero-shot prompts need one class name per class.
    #[error(
        "{path}: zero-shot prompts need one name per class: {names} names for {classes} \
         classes (an image folder's class folders, or data.class_names)"
    )]
    ClassNames {
        /// The downstream test set.
        path: PathBuf,
        /// Names known.
        names: usize,
        /// Classes.
        classes: usize,
    },
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

/// Runs named in an error: the first ten, then how many more.
const NAMED_RUNS: usize = 10;

fn missing_runs(runs: &[String], total: usize) -> String {
    let mut names = runs.iter().take(NAMED_RUNS).cloned().collect::<Vec<_>>().join(", ");
    if runs.len() > NAMED_RUNS {
        names += &format!(" and {} more", runs.len() - NAMED_RUNS);
    }
    format!(
        "{} of the experiment's {total} runs are not finished: {names}; run them first (their \
         shards, or the whole experiment)",
        runs.len()
    )
}

/// What is wrong in an experiment file: a setting, named by its key in the file
/// (`pretrain.batch_size`), within one arm or for the whole file.
#[derive(Debug, thiserror::Error)]
pub enum Invalid {
    /// A setting of the file.
    #[error(transparent)]
    Setting(#[from] SettingError),
    /// A setting of one arm (its `attack` or `defense` table, or its name).
    #[error("arm `{arm}`")]
    Arm {
        /// The arm's name.
        arm: String,
        /// The setting.
        #[source]
        source: SettingError,
    },
    /// The synthetic world's settings.
    #[error(transparent)]
    World(#[from] corruptencoder_data::Error),
}

impl Invalid {
    /// `source` as a setting of the arm named `arm`.
    pub(crate) fn in_arm(arm: &str) -> impl Fn(SettingError) -> Self + '_ {
        move |source| Self::Arm { arm: arm.to_owned(), source }
    }
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn io(
    action: &'static str,
    path: &std::path::Path,
) -> impl FnOnce(std::io::Error) -> Error {
    let at = IoError::at(action, path);
    move |source| Error::Io(at(source))
}
