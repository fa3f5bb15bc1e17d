//! The run folder: staged under `.<out>.partial` (core's resumable [`OutputDir`]) with
//! `config.toml`, `seed` and `checkpoints/`, or the unfinished one being resumed.
use std::path::{Path, PathBuf};

use corruptencoder_core::{OutputDir, write_atomic};

use crate::config::PretrainConfig;
use crate::error::{Error, Result};

/// Where a run folder keeps its per-epoch checkpoints.
pub(crate) fn checkpoints_dir(run_dir: &Path) -> PathBuf {
    run_dir.join("checkpoints")
}

/// The run's staged folder: a fresh one with `config.toml`, `seed` and checkpoints, or the
/// unfinished one being resumed, whose configuration must be this one.
pub(crate) fn prepare_output(
    config: &PretrainConfig,
    out: &Path,
    resume: bool,
    force: bool,
) -> Result<OutputDir> {
    let dir = OutputDir::resumable(out, force, resume)?;
    let staged = dir.path();
    if dir.resumed() {
        // A run killed while writing a checkpoint left its temporary file behind.
        corruptencoder_core::remove_stale(&checkpoints_dir(staged))?;
        let stored = PretrainConfig::from_toml_file(&staged.join("config.toml"))?;
        if &stored != config {
            return Err(Error::Config(format!(
                "{} was run with a different configuration; resume with its config.toml",
                staged.display()
            )));
        }
        return Ok(dir);
    }
    let io = |source| Error::Write { path: staged.to_path_buf(), source };
    fs_err::create_dir_all(checkpoints_dir(staged)).map_err(io)?;
    write_atomic(&staged.join("config.toml"), config.to_toml().as_bytes())?;
    write_atomic(&staged.join("seed"), format!("{}\n", config.seed).as_bytes())?;
    Ok(dir)
}
