//! Which folder an experiment is written in. A new experiment is built in `.<out>.partial`
//! (core's resumable output) and renamed to `<out>` when its report is written; an
//! experiment whose `<out>` already holds it is resumed in place. Every function here is
//! called with the experiment's lock held (`lock.rs`), so that all the processes of one
//! experiment agree on the folder and only one renames it.
use std::path::{Path, PathBuf};

use corruptencoder_core::{OutputDir, write_atomic};

use crate::config::ExperimentConfig;
use crate::error::{Error, Result};

/// Where an experiment is written.
#[derive(Debug)]
pub(crate) enum Workdir {
    /// The finished folder holds this very experiment: resumed in place (every stage's
    /// output is written atomically, so nothing there is ever half-written).
    InPlace(PathBuf),
    /// A new or unfinished experiment, staged and renamed when its report is written.
    Staged(OutputDir),
}

impl Workdir {
    pub(crate) fn path(&self) -> &Path {
        match self {
            Self::InPlace(p) => p,
            Self::Staged(d) => d.path(),
        }
    }

    /// Moves a staged folder into place; a folder in place stays.
    pub(crate) fn commit(self) -> Result<()> {
        if let Self::Staged(dir) = self {
            dir.commit()?;
        }
        Ok(())
    }
}

/// Whether `dir`'s `experiment.toml` describes the runs of `config`.
pub(crate) fn holds(dir: &Path, config: &ExperimentConfig) -> bool {
    let text = config.to_toml();
    fs_err::read_to_string(dir.join("experiment.toml"))
        .is_ok_and(|old| crate::identity::same_runs(&old, &text))
}

/// The folder to work in: the finished one when it holds this experiment, else a staged
/// one (continuing an unfinished run of this experiment, or created). A folder holding
/// another experiment is refused unless `force`, and replaced only when the new one is
/// complete.
pub(crate) fn open_out(config: &ExperimentConfig, out: &Path, force: bool) -> Result<Workdir> {
    check_not_file(out)?;
    let text = config.to_toml();
    if out.exists() && holds(out, config) {
        // The same runs; the file is rewritten when only its `[report]` table changed.
        keep_text(out, &text)?;
        return Ok(Workdir::InPlace(out.to_path_buf()));
    }
    if out.exists() && !force {
        return Err(Error::DifferentExperiment { path: out.to_path_buf() });
    }
    let partial = OutputDir::partial_path(out);
    let resume = partial.exists() && holds(&partial, config);
    if partial.exists() && !resume && !force {
        return Err(Error::DifferentExperiment { path: partial });
    }
    let dir = OutputDir::resumable(out, force, resume)?;
    keep_text(dir.path(), &text)?;
    Ok(Workdir::Staged(dir))
}

/// The folder that holds this experiment now, creating nothing: `out`, else its staging
/// folder; `None` when neither holds it. A folder holding another experiment is refused
/// unless `force` (with `force`, a staged folder replaces it when committed).
pub(crate) fn locate(
    config: &ExperimentConfig,
    out: &Path,
    force: bool,
) -> Result<Option<Workdir>> {
    check_not_file(out)?;
    if out.exists() && holds(out, config) {
        keep_text(out, &config.to_toml())?;
        return Ok(Some(Workdir::InPlace(out.to_path_buf())));
    }
    if out.exists() && !force {
        return Err(Error::DifferentExperiment { path: out.to_path_buf() });
    }
    let partial = OutputDir::partial_path(out);
    if !holds(&partial, config) {
        return Ok(None);
    }
    keep_text(&partial, &config.to_toml())?;
    Ok(Some(Workdir::Staged(OutputDir::resumable(out, force, true)?)))
}

/// A file where the folder should be is named as such, whatever `force` says.
pub(crate) fn check_not_file(out: &Path) -> Result<()> {
    if out.exists() && !out.is_dir() {
        return Err(corruptencoder_core::Error::NotAFolder { path: out.to_path_buf() }.into());
    }
    Ok(())
}

/// Writes `text` as the folder's `experiment.toml` unless it already says exactly that.
fn keep_text(dir: &Path, text: &str) -> Result<()> {
    let path = dir.join("experiment.toml");
    if fs_err::read_to_string(&path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    Ok(write_atomic(&path, text.as_bytes())?)
}
