//! Runs stopped at random points and run again: `poison`, `pretrain` and `experiment` are
//! each killed (SIGKILL) and interrupted (SIGINT) at moments drawn from a seed, then rerun
//! (`pretrain` with `--resume`, `experiment` as it is, since it resumes by itself) until one
//! finishes. The finished output must be byte-identical to an uninterrupted run's, SIGINT
//! must end a run with exit 130, and no staging folder or `.part` file may be left.
//!
//! The seed comes from the clock and is printed on failure; `KILL_SEED=<n>` replays it.
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::experiment::TINY;
use crate::{TINY_PRETRAIN, kit, run, stderr};

/// A signal the test sends.
#[derive(Debug, Clone, Copy)]
enum Stop {
    Kill,
    Interrupt,
}

/// The stops each test makes, in order, before the run that is let finish.
const STOPS: [Stop; 3] = [Stop::Kill, Stop::Interrupt, Stop::Kill];

/// xorshift64 from `KILL_SEED` or the clock: the moments to stop at.
struct Moments {
    seed: u64,
    state: u64,
}

impl Moments {
    fn new() -> Self {
        let seed =
            std::env::var("KILL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
                let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
                t.map_or(1, |d| d.as_nanos() as u64) | 1
            });
        Self { seed, state: seed }
    }

    /// A moment in `[0.05, 0.95]` of `whole`.
    fn within(&mut self, whole: Duration) -> Duration {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let fraction = 0.05 + 0.9 * (self.state % 10_000) as f64 / 10_000.0;
        whole.mul_f64(fraction)
    }
}

/// Starts the binary with `args` in `dir`, sends `stop` after `after`, and returns how it
/// ended with its standard error.
fn stop_at(dir: &Path, args: &[&str], stop: Stop, after: Duration) -> (ExitStatus, String) {
    let err_path = dir.join(".stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_corruptencoder"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("the binary starts");
    std::thread::sleep(after);
    match stop {
        Stop::Kill => {
            let _ = child.kill();
        }
        Stop::Interrupt => {
            // std has no way to send SIGINT; kill(1) does, and only to this child.
            let _ = Command::new("kill").args(["-s", "INT", &child.id().to_string()]).status();
        }
    }
    let status = child.wait().unwrap();
    let err = std::fs::read_to_string(&err_path).unwrap_or_default();
    std::fs::remove_file(&err_path).unwrap();
    (status, err)
}

/// Checks how a stopped run ended: finished, or ended by the signal as promised.
fn check_ending(stop: Stop, status: ExitStatus, err: &str, why: &str) {
    use std::os::unix::process::ExitStatusExt;
    assert!(!err.contains("panicked"), "{why}: panicked: {err}");
    let ok = match stop {
        Stop::Kill => status.success() || status.signal() == Some(9),
        // 130 = 128 + SIGINT once the handler is installed; the default action (signal 2)
        // only in the first instant before main installs it.
        Stop::Interrupt => {
            status.success() || status.code() == Some(130) || status.signal() == Some(2)
        }
    };
    assert!(ok, "{why}: ended with {status:?}: {err}");
}

/// What a test compares of a file: its bytes as they are, as `normal` makes them (a
/// timing taken out), or nothing (`None`).
type Normal<'a> = &'a dyn Fn(&Path, Vec<u8>) -> Option<Vec<u8>>;

/// Every file under `dir` (relative path, bytes as `normal` makes them).
fn files(dir: &Path, normal: Normal<'_>) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(dir).unwrap().to_path_buf();
            if p.is_dir() {
                todo.push(p);
            } else if let Some(bytes) = normal(&rel, std::fs::read(&p).unwrap()) {
                out.push((rel, bytes));
            }
        }
    }
    out.sort();
    out
}

/// Names a stopped run may leave and a later run must clear.
fn is_debris(name: &str) -> bool {
    name.contains(".staging-") || name.contains(".part-") || name.contains(".old-")
}

/// Fails if anything under `dir` (the output's parent) is debris or an unfinished run.
fn assert_clean(dir: &Path, why: &str) {
    let left = files(dir, &|_, b| Some(b));
    let bad: Vec<_> = left
        .iter()
        .map(|(p, _)| p.to_string_lossy().into_owned())
        .filter(|p| is_debris(p) || p.contains(".partial"))
        .collect();
    assert!(bad.is_empty(), "{why}: left behind {bad:?}");
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!is_debris(&name) && !name.ends_with(".partial"), "{why}: left {name}");
    }
}

/// Runs `args` (whose output is `out` in `dir`) once uninterrupted, moves the result aside,
/// then stops it at each of [`STOPS`] and reruns with `rerun` (the same args, or with
/// `--resume`) until it finishes; returns the uninterrupted and the stopped-and-rerun
/// outputs' files as `normal` makes them (timings taken out).
fn stopped_and_rerun(
    dir: &Path,
    args: &[&str],
    rerun: &[&str],
    out: &str,
    normal: Normal<'_>,
) -> Vec<(PathBuf, Vec<u8>)> {
    let mut moments = Moments::new();
    let seed = moments.seed;
    let started = Instant::now();
    let o = run(dir, args);
    let whole_time = started.elapsed();
    assert!(o.status.success(), "{}", stderr(&o));
    let whole = files(&dir.join(out), normal);
    assert!(!whole.is_empty());
    // Same output path for both runs, since some files hold their absolute paths.
    std::fs::rename(dir.join(out), dir.join("uninterrupted")).unwrap();

    let mut plan = Vec::new();
    let mut command = args;
    for stop in STOPS {
        let at = moments.within(whole_time);
        plan.push(format!("{stop:?} at {at:?}"));
        let why = format!("KILL_SEED={seed} ({} of a {whole_time:?} run)", plan.join(", "));
        let (status, err) = stop_at(dir, command, stop, at);
        check_ending(stop, status, &err, &why);
        if status.success() {
            break;
        }
        command = rerun;
    }
    let why = format!("KILL_SEED={seed} ({})", plan.join(", "));
    if !dir.join(out).exists() {
        let o = run(dir, command);
        assert!(o.status.success(), "{why}: rerun failed: {}", stderr(&o));
    }
    assert_clean(dir, &why);
    let stopped = files(&dir.join(out), normal);
    let names = |v: &[(PathBuf, Vec<u8>)]| v.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(names(&whole), names(&stopped), "{why}: different files");
    for ((p, a), (_, b)) in whole.iter().zip(&stopped) {
        assert!(a == b, "{why}: {} differs from the uninterrupted run's", p.display());
    }
    whole
}

/// Files compared as they are.
fn same(_: &Path, bytes: Vec<u8>) -> Option<Vec<u8>> {
    Some(bytes)
}

/// Training logs record step times: left out.
fn no_logs(p: &Path, bytes: Vec<u8>) -> Option<Vec<u8>> {
    (!p.ends_with("log.jsonl")).then_some(bytes)
}

/// Experiment outputs: logs and the rendered reports (which show run times) left out,
/// and the `seconds` of each run taken out of the JSON results.
fn no_timings(p: &Path, bytes: Vec<u8>) -> Option<Vec<u8>> {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.remove("seconds");
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let name = p.file_name()?.to_str()?;
    if matches!(name, "log.jsonl" | "report.md" | "report.html" | "table.md") {
        return None;
    }
    if name.ends_with(".json") {
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        strip(&mut v);
        return Some(serde_json::to_vec(&v).unwrap());
    }
    Some(bytes)
}

#[test]
fn poison_stopped_anywhere_and_rerun_writes_the_same_poisons() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let k = kit().canonicalize().unwrap();
    let refs = k.join("references/hunting-dog");
    let bgs = k.join("backgrounds");
    let trigger = k.join("triggers/trigger_10.png");
    let args = [
        "-q",
        "poison",
        "corruptencoder",
        "--references",
        refs.to_str().unwrap(),
        "--backgrounds",
        bgs.to_str().unwrap(),
        "--trigger",
        trigger.to_str().unwrap(),
        "--num-poisons",
        "12",
        "--max-size",
        "200",
        "--seed",
        "5",
        "--out",
        "out",
    ];
    let whole = stopped_and_rerun(dir, &args, &args, "out", &same);
    assert!(whole.iter().any(|(p, _)| p.ends_with("manifest.jsonl")));
}

/// `n` CIFAR-10 records of blocky images, written as `data_batch_1.bin`.
fn cifar(dir: &Path, n: usize) {
    let mut bytes = Vec::with_capacity(n * 3073);
    for i in 0..n {
        bytes.push((i % 10) as u8);
        bytes
            .extend((0..3072).map(|p| (((p % 32) / 8 * 61 + (p / 256) * 17 + i * 37) % 251) as u8));
    }
    std::fs::write(dir.join("data_batch_1.bin"), bytes).unwrap();
}

#[test]
fn pretrain_stopped_anywhere_and_resumed_trains_the_same_encoder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    cifar(dir, 24);
    let base = [TINY_PRETRAIN, &["--epochs", "3", "--seed", "2", "--out", "out"]].concat();
    let rerun = [&base[..], &["--resume"]].concat();
    let whole = stopped_and_rerun(dir, &base, &rerun, "out", &no_logs);
    let names: Vec<_> = whole.iter().map(|(p, _)| p.to_string_lossy().into_owned()).collect();
    assert!(names.iter().any(|n| n == "encoder.safetensors"), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with("epoch-0003.safetensors")), "{names:?}");
}

#[test]
fn experiment_stopped_anywhere_and_rerun_reports_the_same_results() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("tiny.toml"), TINY).unwrap();
    let args = ["-q", "experiment", "tiny.toml", "--out", "out"];
    let whole = stopped_and_rerun(dir, &args, &args, "out", &no_timings);
    let names: Vec<_> = whole.iter().map(|(p, _)| p.to_string_lossy().into_owned()).collect();
    assert!(names.iter().any(|n| n == "results.json"), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with("ce/seed-0/pretrain/encoder.safetensors")));
}

/// A checkpoint damaged while its run was stopped (cut short, overwritten with junk, or a
/// header byte changed) makes `--resume` fail with the file named, or, where the damage
/// still parses, train on: never a panic.
#[test]
fn resume_from_a_damaged_checkpoint_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    cifar(dir, 16);
    let args = [TINY_PRETRAIN, &["--epochs", "2", "--out", "out"]].concat();
    // Stopped after the first epoch's checkpoint (two steps an epoch).
    let o = run(dir, &[&args[..], &["--stop-after", "2"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let partial = dir.join(".out.partial");
    let checkpoint = partial.join("checkpoints/epoch-0001.safetensors");
    let good = std::fs::read(&checkpoint).unwrap();
    let header_len = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    let mut damaged: Vec<(&str, Vec<u8>)> = vec![
        ("cut in half", good[..good.len() / 2].to_vec()),
        ("junk", b"not a checkpoint at all".to_vec()),
        ("empty", Vec::new()),
    ];
    for at in [0, 9, 8 + header_len / 3, 8 + header_len / 2, 8 + header_len - 2] {
        let mut b = good.clone();
        b[at] ^= 0x5a;
        damaged.push(("a header byte changed", b));
    }
    let stopped = files(&partial, &same);
    let resume = [&args[..], &["--resume"]].concat();
    for (what, bytes) in damaged {
        // The stopped run as it was, with this damage.
        for d in [dir.join("out"), partial.clone()] {
            if d.exists() {
                std::fs::remove_dir_all(&d).unwrap();
            }
        }
        for (rel, b) in &stopped {
            std::fs::create_dir_all(partial.join(rel).parent().unwrap()).unwrap();
            std::fs::write(partial.join(rel), b).unwrap();
        }
        std::fs::write(&checkpoint, &bytes).unwrap();
        let o = run(dir, &resume);
        let err = stderr(&o);
        assert!(!err.contains("panicked"), "{what}: {err}");
        match o.status.code() {
            Some(0) => {}
            Some(1) => assert!(err.contains("epoch-0001.safetensors"), "{what}: {err}"),
            other => panic!("{what}: exit {other:?}: {err}"),
        }
    }
}
