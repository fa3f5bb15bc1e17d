//! Shards of a tiny experiment sharing one folder: the last to finish writes the report,
//! `report_experiment` names what is missing, and a shard that finds the folder renamed
//! under it leaves the report to the process that renamed it.
use std::path::Path;
use std::sync::Mutex;

use corruptencoder_core::{NoProgress, Progress};
use corruptencoder_experiment::*;
use corruptencoder_report::RunResult;

use super::{Record, opts, tiny};

fn half(k: usize) -> Shard {
    Shard::new(k, 2).unwrap()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The runs `rec` saw made since it was last asked.
fn ran(rec: &Record) -> Vec<String> {
    rec.take().into_iter().filter(|e| e.ends_with(": ran")).collect()
}

/// The three runs (random encoder, clean, corruptencoder; seed 0) dealt to two shards:
/// shard 0 gets the random encoder and corruptencoder, shard 1 the clean arm.
#[test]
fn the_last_shard_writes_the_report_and_report_names_the_missing_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("exp");
    let config = tiny();
    let rec = Record::default();

    // Nothing there yet: every run is named, and nothing is created.
    let err = report_experiment(&config, &opts(&out), &rec).unwrap_err().to_string();
    assert!(err.starts_with("3 of the experiment's 3 runs are not finished"), "{err}");
    assert!(names(tmp.path()).is_empty());

    let first = run_shard(&config, &opts(&out), half(0), &rec).unwrap();
    let ShardOutcome::Waiting { missing } = first else { panic!("{first:?}") };
    assert_eq!(missing, ["clean seed 0 (runs/clean/seed-0)"]);
    assert_eq!(ran(&rec), ["random-encoder seed 0: ran", "corruptencoder seed 0: ran"]);
    assert_eq!(names(tmp.path()), [".exp.lock", ".exp.partial"], "staged, not renamed");
    assert!(!tmp.path().join(".exp.partial/results.json").exists());
    let err = report_experiment(&config, &opts(&out), &rec).unwrap_err().to_string();
    assert_eq!(
        err,
        "1 of the experiment's 3 runs are not finished: clean seed 0 (runs/clean/seed-0); run \
         them first (their shards, or the whole experiment)"
    );

    let second = run_shard(&config, &opts(&out), half(1), &rec).unwrap();
    let ShardOutcome::Reported(report) = second else { panic!("{second:?}") };
    assert_eq!(ran(&rec), ["clean seed 0: ran"]);
    let arms: Vec<&str> = report.runs.iter().map(|r| r.arm.as_str()).collect();
    assert_eq!(arms, ["random-encoder", "clean", "corruptencoder"], "plan order");
    assert_eq!(names(tmp.path()), [".exp.lock", "exp"]);
    assert!(out.join("report.html").is_file());

    // A shard started after the report runs nothing and leaves the report alone.
    let before = std::fs::read(out.join("results.json")).unwrap();
    let late = run_shard(&config, &opts(&out), half(0), &rec).unwrap();
    assert!(matches!(late, ShardOutcome::AlreadyReported), "{late:?}");
    assert!(rec.take().iter().all(|e| e.ends_with("reused")));
    // The report of the runs present, written again: the same.
    let again = report_experiment(&config, &opts(&out), &rec).unwrap();
    assert_eq!(again.runs, report.runs);
    assert_eq!(std::fs::read(out.join("results.json")).unwrap(), before);
}

/// An observer that, when its shard's first run starts, runs the other shard to the end
/// (which writes the report and renames the staging folder) as another process would.
struct Interloper<'a> {
    config: &'a ExperimentConfig,
    out: &'a Path,
    other: Mutex<Option<ShardOutcome>>,
}

impl Observer for Interloper<'_> {
    fn run_started(&self, _label: &str, _index: usize, _total: usize) {
        let mut other = self.other.lock().unwrap();
        if other.is_none() {
            let done = run_shard(self.config, &opts(self.out), half(1), &Record::default());
            *other = Some(done.unwrap());
        }
    }
    fn run_finished(&self, _r: &RunResult, _reused: bool) {}
    fn progress(&self) -> &dyn Progress {
        &NoProgress
    }
}

#[test]
fn a_shard_that_finds_its_folder_renamed_leaves_the_report_to_whoever_renamed_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("exp");
    let config = tiny();
    let waiting = run_shard(&config, &opts(&out), half(0), &Record::default()).unwrap();
    assert!(matches!(waiting, ShardOutcome::Waiting { .. }));
    // Shard 0 again: set up in the staging folder, then shard 1 finishes everything.
    let spy = Interloper { config: &config, out: &out, other: Mutex::default() };
    let stale = run_shard(&config, &opts(&out), half(0), &spy).unwrap();
    let other = spy.other.lock().unwrap().take();
    assert!(matches!(other, Some(ShardOutcome::Reported(_))), "{other:?}");
    assert!(matches!(stale, ShardOutcome::AlreadyReported), "{stale:?}");
    assert_eq!(names(tmp.path()), [".exp.lock", "exp"], "no staging folder made again");
    let results: corruptencoder_report::Results =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(results.runs.len(), 3);
}
