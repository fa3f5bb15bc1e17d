//! The report of an experiment folder: every run's `result.json` read back in plan order
//! (the same files whichever process or shard made them, so a report gathered from shards
//! is the report of one process), the statistics over them, the figures, and the three
//! report files.
use std::path::Path;

use corruptencoder_report::{Results, RunResult, attach_gains, attach_statistics, summarize};

use crate::config::ExperimentConfig;
use crate::error::Result;
use crate::inputs::Inputs;
use crate::options::RunOptions;
use crate::plan::Plan;
use crate::report::{figures, settings};

/// The runs of a folder: all of them, or the ones still missing.
pub(crate) enum Gathered {
    /// Every run's result, in plan order.
    All(Vec<RunResult>),
    /// The runs without a readable `result.json`, named by label and folder.
    Missing(Vec<String>),
}

/// The results of `plans` under `root`, or which are missing.
pub(crate) fn gather(plans: &[Plan], root: &Path) -> Result<Gathered> {
    let mut runs = Vec::with_capacity(plans.len());
    let mut missing = Vec::new();
    for p in plans {
        match read_result(&p.dir.join("result.json"))? {
            Some(r) => runs.push(r),
            None => missing.push(p),
        }
    }
    Ok(if missing.is_empty() {
        Gathered::All(runs)
    } else {
        Gathered::Missing(names(missing, root))
    })
}

/// Each run of `plans` by label and folder under `root`: `ce seed 1 (runs/ce/seed-1)`.
pub(crate) fn names<'a>(plans: impl IntoIterator<Item = &'a Plan>, root: &Path) -> Vec<String> {
    plans
        .into_iter()
        .map(|p| {
            let dir = p.dir.strip_prefix(root).unwrap_or(&p.dir);
            format!("{} ({})", p.label(), dir.display())
        })
        .collect()
}

/// Writes `results.json`, `report.md`, `report.html` and the figures into `out` from the
/// runs `results` (plan order).
pub(crate) fn write_report(
    config: &ExperimentConfig,
    opts: &RunOptions,
    inputs: &Inputs,
    out: &Path,
    mut results: Vec<RunResult>,
) -> Result<Results> {
    attach_gains(&mut results);
    let mut report = Results {
        name: config.name.clone(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        settings: settings(config, inputs, &opts.device),
        summary: summarize(&results),
        runs: results,
        ..Default::default()
    };
    attach_statistics(&mut report, &config.report);
    report.settings.extend(made_with(&report.runs));
    report.figures = figures(config, inputs, out, &report.runs, &opts.limits)?;
    corruptencoder_report::write_report(&report, out)?;
    Ok(report)
}

/// One `made with` setting per distinct commit and machine among the runs, so a report
/// that gathers runs from several invocations says which code and CPU made its numbers.
fn made_with(runs: &[RunResult]) -> Vec<corruptencoder_report::Setting> {
    corruptencoder_report::distinct_provenances(runs)
        .into_iter()
        .map(|text| corruptencoder_report::Setting::new("made with", text))
        .collect()
}

/// A run's result, if its `result.json` is there and readable.
pub(crate) fn read_result(path: &Path) -> Result<Option<RunResult>> {
    // Not found is no error: the run is not finished, or (read without the lock) its folder
    // was just renamed into place, which the caller finds out under the lock.
    let text = match fs_err::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(crate::error::io("read", path)(e)),
    };
    match serde_json::from_str(&text) {
        Ok(r) => Ok(Some(r)),
        Err(e) => {
            // Written atomically, so this is a hand edit or another version: run again.
            log::warn!("ignoring unreadable {}: {e}", path.display());
            Ok(None)
        }
    }
}
