//! What an experiment would run, checked as a run checks it, without running or writing
//! anything.
use std::path::{Path, PathBuf};

use corruptencoder_core::OutputDir;
use corruptencoder_report::SweepPoint;

use crate::config::ExperimentConfig;
use crate::error::{Error, Result};
use crate::inputs::check_files;
use crate::plan::plan;

/// One run of an experiment, in the order the experiment runs them.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRun {
    /// The arm (`random-encoder` for a seed's untrained baseline).
    pub arm: String,
    /// The sweep value, if the experiment sweeps.
    pub sweep: Option<SweepPoint>,
    /// The run's seed.
    pub seed: u64,
    /// The run's folder relative to the output folder.
    pub dir: PathBuf,
    /// Its `result.json` is already in the output folder or its staged `.<out>.partial`
    /// folder, and that folder holds this experiment: a run would reuse it.
    pub finished: bool,
}

/// The runs of `config` with output folder `out`, after the checks a run makes first (the
/// settings, the input files and folders); creates nothing.
pub fn plan_runs(config: &ExperimentConfig, out: &Path) -> Result<Vec<PlannedRun>> {
    config
        .validate()
        .map_err(|source| Error::Invalid { path: out.join("experiment.toml"), source })?;
    check_files(config)?;
    let roots: Vec<PathBuf> = [out.to_path_buf(), OutputDir::partial_path(out)]
        .into_iter()
        .filter(|root| crate::workdir::holds(root, config))
        .collect();
    Ok(plan(config, out)?
        .into_iter()
        .map(|p| {
            let dir = p.dir.strip_prefix(out).unwrap_or(&p.dir).to_path_buf();
            let finished = roots.iter().any(|root| root.join(&dir).join("result.json").is_file());
            PlannedRun { arm: p.arm.name, sweep: p.sweep, seed: p.seed, dir, finished }
        })
        .collect())
}
