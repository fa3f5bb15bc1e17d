//! The run folder: staged under `.<out>.partial` (core's resumable [`OutputDir`]) with
//! `config.toml`, `seed` and `checkpoints/`, or the unfinished one being resumed.
use std::path::{Path, PathBuf};

use corruptencoder_core::{IoError, OutputDir, write_atomic};

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
        let stored = PretrainConfig::from_stored_toml_file(&staged.join("config.toml"))?;
        if &stored != config {
            return Err(Error::DifferentRun { path: staged.to_path_buf() });
        }
        return Ok(dir);
    }
    let checkpoints = checkpoints_dir(staged);
    fs_err::create_dir_all(&checkpoints).map_err(IoError::at("create", &checkpoints))?;
    write_atomic(&staged.join("config.toml"), config.to_toml().as_bytes())?;
    write_atomic(&staged.join("seed"), format!("{}\n", config.seed).as_bytes())?;
    Ok(dir)
}
