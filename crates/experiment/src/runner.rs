//! Runs an experiment: per (arm, sweep value, seed) the stages of `stages.rs`, each
//! skipped when its output is already there, so an interrupted experiment resumes where it
//! stopped. The folder follows core's output policy: a new experiment is built in
//! `.<out>.partial` and renamed when its report is written.
use std::path::{Path, PathBuf};

use corruptencoder_core::{OutputDir, write_atomic};
use corruptencoder_report::{Results, RunResult, attach_gains, attach_statistics, summarize};

use crate::config::ExperimentConfig;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::inputs::{check_files, prepare};
use crate::options::{Observer, RunOptions};
use crate::plan::plan;
use crate::report::{figures, settings};
use crate::stages::run_one;

/// Where an experiment is written while it runs.
enum Workdir {
    /// The finished folder holds this very experiment: resumed in place (every stage's
    /// output is written atomically, so nothing there is ever half-written).
    InPlace(PathBuf),
    /// A new or unfinished experiment, staged and renamed at the end.
    Staged(OutputDir),
}

impl Workdir {
    fn path(&self) -> &Path {
        match self {
            Self::InPlace(p) => p,
            Self::Staged(d) => d.path(),
        }
    }
}

/// Runs `config` into `opts.out` and writes `results.json`, `report.md` and `report.html`
/// there. Runs whose `result.json` exists are not run again.
pub fn run_experiment(
    config: &ExperimentConfig,
    opts: &RunOptions,
    observer: &dyn Observer,
) -> Result<Results> {
    config
        .validate()
        .map_err(|source| Error::Invalid { path: opts.out.join("experiment.toml"), source })?;
    check_files(config)?;
    let workdir = open_out(config, &opts.out, opts.force)?;
    let out = workdir.path().to_path_buf();
    let inputs = prepare(config, &out, &opts.limits, observer.progress())?;
    let plans = plan(config, &out)?;
    let cx = Context { config, inputs: &inputs, opts, observer, root: &out };
    let mut results = Vec::new();
    for (k, p) in plans.iter().enumerate() {
        observer.progress().check_cancelled()?;
        observer.run_started(&p.label(), k + 1, plans.len());
        let result_path = p.dir.join("result.json");
        if let Some(done) = read_result(&result_path)? {
            observer.run_finished(&done, true);
            results.push(done);
            continue;
        }
        let result = run_one(&cx, p)?;
        let json = serde_json::to_string_pretty(&result).expect("results serialise");
        write_atomic(&result_path, json.as_bytes())?;
        observer.run_finished(&result, false);
        results.push(result);
    }
    attach_gains(&mut results);
    let mut report = Results {
        name: config.name.clone(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        settings: settings(config, &inputs, &opts.device),
        summary: summarize(&results),
        runs: results,
        ..Default::default()
    };
    attach_statistics(&mut report, &config.report);
    report.settings.extend(made_with(&report.runs));
    report.figures = figures(config, &inputs, &out, &report.runs, &opts.limits)?;
    corruptencoder_report::write_report(&report, &out)?;
    if let Workdir::Staged(dir) = workdir {
        dir.commit()?;
    }
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

/// The folder to work in: the finished one when it holds this experiment, else a staged
/// one (continuing an unfinished run of this experiment). A folder holding another
/// experiment is refused unless `force`, and replaced only when the new one is complete.
fn open_out(config: &ExperimentConfig, out: &Path, force: bool) -> Result<Workdir> {
    // A file where the folder should be is named as such, whatever `force` says.
    if out.exists() && !out.is_dir() {
        return Err(corruptencoder_core::Error::NotAFolder { path: out.to_path_buf() }.into());
    }
    let text = config.to_toml();
    let holds_this = |dir: &Path| {
        fs_err::read_to_string(dir.join("experiment.toml"))
            .is_ok_and(|old| crate::identity::same_runs(&old, &text))
    };
    if out.exists() && holds_this(out) {
        // The same runs; the file is rewritten when only its `[report]` table changed.
        keep_text(out, &text)?;
        return Ok(Workdir::InPlace(out.to_path_buf()));
    }
    if out.exists() && !force {
        return Err(Error::DifferentExperiment { path: out.to_path_buf() });
    }
    let partial = OutputDir::partial_path(out);
    let resume = partial.exists() && holds_this(&partial);
    if partial.exists() && !resume && !force {
        return Err(Error::DifferentExperiment { path: partial });
    }
    let dir = OutputDir::resumable(out, force, resume)?;
    keep_text(dir.path(), &text)?;
    Ok(Workdir::Staged(dir))
}

/// Writes `text` as the folder's `experiment.toml` unless it already says exactly that.
fn keep_text(dir: &Path, text: &str) -> Result<()> {
    let path = dir.join("experiment.toml");
    if fs_err::read_to_string(&path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    Ok(write_atomic(&path, text.as_bytes())?)
}

fn read_result(path: &Path) -> Result<Option<RunResult>> {
    if !path.exists() {
        return Ok(None);
    }
    let text = fs_err::read_to_string(path).map_err(crate::error::io("read", path))?;
    match serde_json::from_str(&text) {
        Ok(r) => Ok(Some(r)),
        Err(e) => {
            // Written atomically, so this is a hand edit or another version: run again.
            log::warn!("ignoring unreadable {}: {e}", path.display());
            Ok(None)
        }
    }
}
