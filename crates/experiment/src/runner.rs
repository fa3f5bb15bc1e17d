//! Runs an experiment, whole or one shard of it: per (arm, sweep value, seed) the stages of
//! `stages.rs`, each skipped when its output is already there, so an interrupted
//! experiment resumes where it stopped.
//!
//! The output policy, for one process or for many sharing one folder on a shared
//! filesystem (each shard a process, perhaps on another machine):
//!
//! - A new experiment is built in `.<out>.partial` and renamed to `<out>` when its report
//!   is written; a folder `<out>` that holds this experiment is resumed in place; one
//!   holding another experiment is refused unless `force` (and replaced only once the new
//!   experiment is complete).
//! - Three moments take the experiment's lock (`lock.rs`), and only these: *setup*, which
//!   picks the folder (so every shard picks the same staging folder, and `force` clears a
//!   stale one once) and makes the shared inputs (data, test sets), which the first shard
//!   writes and the others find; *claim*, before each run that is not finished, which
//!   checks that the folder still holds the experiment; *finish*, which reads every run's
//!   `result.json` and, when all are there, writes the report and renames the staging
//!   folder. Between them shards run unlocked, each in its own runs' folders, which no
//!   other shard writes; every stage's output is staged and renamed, `result.json` last.
//! - Each shard writes its results before it finishes, and finishes under the lock, so the
//!   last shard to finish finds every run and writes the report; the others find runs
//!   missing and leave it. The rename happens only when every `result.json` is there, so
//!   no process is running a run then; a process started before it that still looks at
//!   the staging folder learns of the rename at its next claim or at its finish, and
//!   leaves the report to the process that wrote it. A shard started after the rename
//!   resumes in place.
//! - Two processes must not run the same shard at once (nothing stops them both running
//!   its unfinished runs).
use std::path::Path;

use corruptencoder_core::{OutputDir, write_atomic};
use corruptencoder_report::Results;

use crate::config::ExperimentConfig;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::finish::{Gathered, gather, names, read_result, write_report};
use crate::inputs::{Inputs, check_files, prepare};
use crate::lock::Lock;
use crate::options::{Observer, RunOptions};
use crate::plan::{Plan, plan};
use crate::shard::Shard;
use crate::stages::run_one;
use crate::workdir::{Workdir, check_not_file, holds, locate, open_out};

/// How a shard ended.
#[derive(Debug)]
pub enum ShardOutcome {
    /// Every run of the experiment was there: this process wrote the report (and moved a
    /// staged folder into place).
    Reported(Box<Results>),
    /// Runs of other shards are not finished yet (named by label and folder); the last
    /// shard to finish writes the report.
    Waiting {
        /// The unfinished runs.
        missing: Vec<String>,
    },
    /// Another process already wrote the report, with every run this shard made.
    AlreadyReported,
}

/// Runs `config` into `opts.out` and writes `results.json`, `report.md` and `report.html`
/// there. Runs whose `result.json` exists are not run again; a rerun with nothing left to
/// run writes the report again.
pub fn run_experiment(
    config: &ExperimentConfig,
    opts: &RunOptions,
    observer: &dyn Observer,
) -> Result<Results> {
    match run_shard(config, opts, Shard::WHOLE, observer)? {
        ShardOutcome::Reported(report) => Ok(*report),
        // `finish` gives the whole experiment the report or an error, nothing else.
        other => unreachable!("a whole experiment ended as {other:?}"),
    }
}

/// Runs shard `shard` of `config` into `opts.out` (see the module for how shards share the
/// folder); the last shard to finish writes the report. [`Shard::WHOLE`] runs everything
/// and always writes the report.
pub fn run_shard(
    config: &ExperimentConfig,
    opts: &RunOptions,
    shard: Shard,
    observer: &dyn Observer,
) -> Result<ShardOutcome> {
    check(config, &opts.out)?;
    let progress = observer.progress();
    let (root, inputs) = {
        let _lock = Lock::acquire(&opts.out, progress)?;
        let workdir = open_out(config, &opts.out, opts.force)?;
        let root = workdir.path().to_path_buf();
        let inputs = prepare(config, &root, &opts.limits, progress)?;
        (root, inputs)
    };
    let plans = plan(config, &root)?;
    crate::detection::check_defense_sets(&root.join("experiment.toml"), &inputs, &plans)?;
    let arms: Vec<&str> = plans.iter().map(|p| p.arm.name.as_str()).collect();
    let mine = shard.runs_of(&arms);
    let cx = Context { config, inputs: &inputs, opts, observer, root: &root };
    let made = run_runs(&cx, &plans, &mine)?;
    finish(&cx, shard, made)
}

/// Writes the report of `opts.out` from the runs there, running nothing; fails naming the
/// runs that are not finished. A staged folder is moved into place.
pub fn report_experiment(
    config: &ExperimentConfig,
    opts: &RunOptions,
    observer: &dyn Observer,
) -> Result<Results> {
    check(config, &opts.out)?;
    let all_missing = || -> Result<Error> {
        let plans = plan(config, &opts.out)?;
        Ok(Error::MissingRuns { total: plans.len(), runs: names(&plans, &opts.out) })
    };
    // Nothing there: said without creating the lock file.
    if !opts.out.exists() && !OutputDir::partial_path(&opts.out).exists() {
        return Err(all_missing()?);
    }
    let _lock = Lock::acquire(&opts.out, observer.progress())?;
    let Some(workdir) = locate(config, &opts.out, opts.force)? else {
        return Err(all_missing()?);
    };
    let plans = plan(config, workdir.path())?;
    let runs = match gather(&plans, workdir.path())? {
        Gathered::All(runs) => runs,
        Gathered::Missing(runs) => return Err(Error::MissingRuns { total: plans.len(), runs }),
    };
    let inputs = prepare(config, workdir.path(), &opts.limits, observer.progress())?;
    let report = write_report(config, opts, &inputs, workdir.path(), runs)?;
    workdir.commit()?;
    Ok(report)
}

/// The checks every entry makes before it takes the lock or creates anything.
fn check(config: &ExperimentConfig, out: &Path) -> Result<()> {
    config
        .validate()
        .map_err(|source| Error::Invalid { path: out.join("experiment.toml"), source })?;
    check_files(config)?;
    check_not_file(out)
}

/// Runs the runs `mine` (positions in `plans`) that are not finished; returns how many it
/// ran. Stops early when the folder was renamed into place by another process, which
/// happens only once every run is finished.
fn run_runs(cx: &Context<'_>, plans: &[Plan], mine: &[usize]) -> Result<usize> {
    let mut made = 0;
    for (n, &k) in mine.iter().enumerate() {
        cx.observer.progress().check_cancelled()?;
        let p = &plans[k];
        cx.observer.run_started(&p.label(), n + 1, mine.len());
        let result_path = p.dir.join("result.json");
        if let Some(done) = read_result(&result_path)? {
            cx.observer.run_finished(&done, true);
            continue;
        }
        if !claim(cx)? {
            break;
        }
        let result = run_one(cx, p)?;
        let json = serde_json::to_string_pretty(&result).expect("results serialise");
        write_atomic(&result_path, json.as_bytes())?;
        cx.observer.run_finished(&result, false);
        made += 1;
    }
    Ok(made)
}

/// Whether an unfinished run may start: under the lock, the folder still holds the
/// experiment. From then on it cannot be renamed before this run's `result.json` exists.
fn claim(cx: &Context<'_>) -> Result<bool> {
    let _lock = Lock::acquire(&cx.opts.out, cx.observer.progress())?;
    Ok(holds(cx.root, cx.config))
}

/// Under the lock: the report, when every run is there and no other process has written
/// it with this shard's runs. A whole experiment always reports (or fails).
fn finish(cx: &Context<'_>, shard: Shard, made: usize) -> Result<ShardOutcome> {
    let (config, opts) = (cx.config, cx.opts);
    let _lock = Lock::acquire(&opts.out, cx.observer.progress())?;
    let workdir = locate(config, &opts.out, opts.force)?
        .ok_or_else(|| Error::Gone { path: cx.root.to_path_buf() })?;
    let moved = workdir.path() != cx.root;
    if shard.is_part() && reported_since(&workdir, moved, made) {
        return Ok(ShardOutcome::AlreadyReported);
    }
    let plans = plan(config, workdir.path())?;
    let runs = match gather(&plans, workdir.path())? {
        Gathered::All(runs) => runs,
        Gathered::Missing(missing) if shard.is_part() => {
            return Ok(ShardOutcome::Waiting { missing });
        }
        Gathered::Missing(runs) => return Err(Error::MissingRuns { total: plans.len(), runs }),
    };
    // The inputs were opened under the staging name; after a rename they are found again.
    let reopened: Inputs;
    let inputs = if moved {
        reopened = prepare(config, workdir.path(), &opts.limits, cx.observer.progress())?;
        &reopened
    } else {
        cx.inputs
    };
    let report = write_report(config, opts, inputs, workdir.path(), runs)?;
    workdir.commit()?;
    Ok(ShardOutcome::Reported(Box::new(report)))
}

/// Whether the finished folder's report already holds everything this shard did: it was
/// renamed into place after this shard's runs were written (`moved`), or this shard made
/// nothing.
fn reported_since(workdir: &Workdir, moved: bool, made: usize) -> bool {
    matches!(workdir, Workdir::InPlace(_))
        && (moved || made == 0)
        && workdir.path().join("results.json").is_file()
}
