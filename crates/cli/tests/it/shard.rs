//! `experiment --shard K/N` run by several processes into one folder, `--report`, and
//! `--plan` listing the shards with estimated times.
use std::path::Path;
use std::process::{Command, Stdio};

use crate::experiment::TINY;
use crate::{run, stderr};

/// The tiny experiment over two seeds: six runs.
fn two_seeds(dir: &Path) {
    let text = TINY.replace("name = \"tiny\"", "name = \"tiny\"\nseeds = [0, 1]");
    std::fs::write(dir.join("tiny.toml"), text).unwrap();
}

/// `results.json` without what differs between invocations of the same runs: each run's
/// wall time (`seconds`) and the code and machine that made it (`provenance`, and the
/// report's `made with` settings drawn from it).
fn results(out: &Path) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.remove("seconds");
                m.remove("provenance");
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => {
                a.retain(|s| s.get("key").is_none_or(|k| k != "made with"));
                a.iter_mut().for_each(strip);
            }
            _ => {}
        }
    }
    let mut v =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    strip(&mut v);
    v
}

#[test]
fn two_shards_at_once_report_what_one_process_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    two_seeds(dir);
    let o = run(dir, &["-q", "experiment", "tiny.toml", "--out", "whole"]);
    assert!(o.status.success(), "{}", stderr(&o));

    let shard = |k: &str| {
        Command::new(env!("CARGO_BIN_EXE_corruptencoder"))
            .args(["experiment", "tiny.toml", "--out", "sharded", "--shard", k])
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let both = [shard("0/2"), shard("1/2")].map(|c| c.wait_with_output().unwrap());
    for o in &both {
        assert!(o.status.success(), "{}", stderr(o));
    }
    // Exactly one of them finished last and wrote (and printed) the report.
    let reporters = both.iter().filter(|o| !o.stdout.is_empty()).count();
    let said = |o: &std::process::Output| stderr(o);
    assert_eq!(reporters, 1, "{}\n---\n{}", said(&both[0]), said(&both[1]));
    assert!(
        both.iter()
            .any(|o| stderr(o).contains("not finished") || stderr(o).contains("the report is in"))
    );

    assert_eq!(results(&dir.join("sharded")), results(&dir.join("whole")));
    let table = |d: &str| std::fs::read_to_string(dir.join(d).join("table.md")).unwrap();
    assert!(table("sharded").contains("| corruptencoder |") || table("sharded").contains("| ce |"));
    let mut left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, [".sharded.lock", ".whole.lock", "sharded", "tiny.toml", "whole"]);
}

#[test]
fn report_names_the_missing_runs_until_the_last_shard_is_in() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("tiny.toml"), TINY).unwrap();
    let args = ["experiment", "tiny.toml", "--out", "out"];
    // Three runs (random encoder, clean, ce): shard 0 of 2 gets the random encoder and ce.
    let o = run(dir, &[&args[..], &["--shard", "0/2"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "no report yet");
    assert!(stderr(&o).contains("1 run of other shards not finished yet"), "{}", stderr(&o));
    let o = run(dir, &[&args[..], &["--report"]].concat());
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains(
            "1 of the experiment's 3 runs are not finished: clean seed 0 (runs/clean/seed-0)"
        ),
        "{err}"
    );
    assert!(!dir.join("out").exists() && dir.join(".out.partial").is_dir());

    let o = run(dir, &[&["-q"], &args[..], &["--shard", "1/2"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(table.contains("| clean | 0 |") && table.contains("| ce | 2 |"), "{table}");
    assert!(dir.join("out/report.html").is_file() && !dir.join(".out.partial").exists());
    // `--report` on the finished folder writes the same report again.
    let before = results(&dir.join("out"));
    let o = run(dir, &[&["-q"], &args[..], &["--report"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), table);
    assert_eq!(results(&dir.join("out")), before);
}

#[test]
fn plan_lists_the_shards_runs_with_estimated_times_and_creates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    two_seeds(dir);
    let o = run(dir, &["experiment", "tiny.toml", "--plan", "--shards", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plan = String::from_utf8_lossy(&o.stdout).into_owned();
    let rows: Vec<&str> = plan.lines().skip(2).take_while(|l| l.starts_with('|')).collect();
    assert!(
        plan.starts_with("| # | arm | sweep | seed | finished | folder | shard | pre-training |")
    );
    assert_eq!(rows.len(), 6, "{plan}");
    let shard_of = |row: &str| row.split('|').nth(7).unwrap().trim().to_owned();
    let shards: Vec<String> = rows.iter().map(|r| shard_of(r)).collect();
    assert_eq!(shards, ["0", "0", "0", "1", "1", "1"], "shard by shard: {plan}");
    // Dealt by arm: each arm's two runs go one to each shard (here, seed 0's to shard 0).
    assert!(rows[0].starts_with("| 1 | random-encoder | - | 0 | no |"), "{plan}");
    assert!(rows[1].starts_with("| 2 | clean | - | 0 | no |"), "{plan}");
    assert!(rows[2].starts_with("| 3 | ce | - | 0 | no |"), "{plan}");
    assert!(rows[5].starts_with("| 6 | ce | - | 1 | no |"), "{plan}");
    assert!(rows[0].ends_with("| 0 | none |"), "the baseline trains nothing: {plan}");
    // 24 clean images and 2 poisons at batch 8, one epoch: 3 steps.
    assert!(rows[2].contains("(3 steps) |") && rows[2].contains("| ~"), "{plan}");
    assert!(plan.contains("6 runs, 6 to run, into results/tiny"), "{plan}");
    assert!(plan.contains("shard 0/2: 3 runs, 3 to run, ~") && plan.contains("shard 1/2: 3 runs"));
    assert!(
        plan.contains("estimates from 2 pre-training steps measured on this machine"),
        "{plan}"
    );

    let o = run(dir, &["experiment", "tiny.toml", "--plan", "--shard", "1/2"]);
    let plan = String::from_utf8_lossy(&o.stdout).into_owned();
    let rows: Vec<&str> = plan.lines().skip(2).take_while(|l| l.starts_with('|')).collect();
    assert_eq!(rows.len(), 3, "{plan}");
    assert!(rows.iter().all(|r| shard_of(r) == "1"), "{plan}");
    assert!(plan.contains("shard 1/2: 3 of the 6 runs, 3 to run"), "{plan}");
    let entries = std::fs::read_dir(dir).unwrap().count();
    assert_eq!(entries, 1, "--plan wrote nothing beside the file");
}
