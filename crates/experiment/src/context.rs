//! What every stage of a run reads, and how a stage's failure names the run.
use std::path::Path;

use crate::config::ExperimentConfig;
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::options::{Observer, RunOptions};
use crate::plan::Plan;

/// What every stage of a run reads.
pub(crate) struct Context<'a> {
    pub(crate) config: &'a ExperimentConfig,
    pub(crate) inputs: &'a Inputs,
    pub(crate) opts: &'a RunOptions,
    pub(crate) observer: &'a dyn Observer,
    /// The folder the experiment is built in (its staging name until it is complete).
    pub(crate) root: &'a Path,
}

impl Context<'_> {
    /// `path` relative to the experiment folder, as results name files (absolute paths
    /// would name the staging folder, which is renamed when the experiment completes).
    pub(crate) fn shown(&self, path: &Path) -> String {
        let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let (root, path) = (absolute(self.root), absolute(path));
        path.strip_prefix(&root).unwrap_or(&path).display().to_string()
    }
}

pub(crate) fn stage<T, E>(p: &Plan, stage: &'static str, r: std::result::Result<T, E>) -> Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    r.map_err(|e| Error::Stage { run: p.label(), stage, source: Box::new(e) })
}
