//! Bad input to every command, as a new user would give it: each case must fail with a
//! non-zero exit, a message naming the flag or file (and the problem), no panic, and no
//! output left behind. Fixtures (tiny images, truncated files, junk) are generated.
use std::path::{Path, PathBuf};

use image::{Rgb, RgbImage};

use crate::{TINY_PRETRAIN, kit, run, stderr};

/// One bad invocation: `args` (split on spaces, with `{k}` the kit and `{f}` the fixtures),
/// the exit code, text the error must contain (`a|b`: either), and text it must not.
struct Case {
    args: &'static str,
    code: i32,
    needles: &'static [&'static str],
    absent: &'static [&'static str],
}

const fn case(args: &'static str, needles: &'static [&'static str]) -> Case {
    Case { args, code: 1, needles, absent: &[] }
}

/// A flag clap itself refuses (exit code 2).
const fn clap(args: &'static str, needles: &'static [&'static str]) -> Case {
    Case { args, code: 2, needles, absent: &[] }
}

const CE: &str = "poison corruptencoder --references {k}/references/hunting-dog --backgrounds \
                  {k}/backgrounds --trigger {k}/triggers/trigger_10.png --num-poisons 4 -o out";
const SSL: &str = "poison ssl-backdoor --target-images {f}/img --trigger \
                   {k}/triggers/trigger_10.png --trigger-width 20 --num-poisons 2 -o out";
const CTRL: &str = "poison ctrl --target-images {f}/img --num-poisons 2 -o out";
/// The target-class images from a labelled dataset instead of a folder.
const CTRLD: &str = "poison ctrl --num-poisons 2 -o out";
const SSLD: &str = "poison ssl-backdoor --trigger white --num-poisons 2 -o out";
const PE: &str = "poison poisoned-encoder --references {f}/img --backgrounds {f}/img --trigger \
                  white --trigger-size 8 --num-poisons 2 -o out";
const CC: &str = "poison clip-carlini --images {f}/img --trigger white --num-poisons 2 -o out";
const CCE: &str = "poison clip-corruptencoder --references {k}/references/hunting-dog \
                   --backgrounds {f}/img --trigger white --num-poisons 2 -o out";
const TS: &str = "testset --dataset {f}/test_batch.bin --resize 0 --crop 32 --trigger white \
                  --trigger-size 8 -o out";
const TH: &str = "theory --samples 2000";
const PT: &str = "pretrain --data {f}/data_batch_1.bin --out out --method simclr --arch \
                  small-cnn --width 4 --image-size 16 --batch-size 8 --epochs 1";
const EV: &str = "eval --encoder {f}/enc/encoder.safetensors --train {f}/data_batch_1.bin \
                  --test {f}/test_batch.bin --resize 0 --crop 16 --epochs 1 --json out.json";
const EX: &str = "experiment --out out";
const DF: &str = "defend dao --encoder {f}/enc/encoder.safetensors --data {f}/clean10.txt \
                  --out out --resize 16 --crop 16 --k 3";
const DP: &str = "defend patch-search --encoder {f}/enc/encoder.safetensors --data \
                  {f}/clean10.txt --out out --resize 16 --crop 16 --topk-poisons 2";
const DC: &str = "defend decree --encoder {f}/enc/encoder.safetensors --data \
                  {f}/test_batch.bin --out out --crop 16 --epochs 5";
/// Bases without their output flag, for the cases about the output path itself.
const CTRLN: &str = "poison ctrl --target-images {f}/img --num-poisons 2";
const TSN: &str = "testset --dataset {f}/test_batch.bin --resize 0 --crop 32 --trigger white \
                   --trigger-size 8";
const PTN: &str = "pretrain --data {f}/data_batch_1.bin --method simclr --arch small-cnn \
                   --width 4 --image-size 16 --batch-size 8 --epochs 1";

/// Every case: `(base command, extra flags, expectation)`.
fn cases() -> Vec<(&'static str, Case)> {
    vec![
        // poison corruptencoder
        (CE, case("--trigger-size 0", &["--trigger-size", "at least 1"])),
        (CE, case("--trigger-size 100000", &["--trigger-size", "100000x100000", "limit"])),
        (CE, case("--trigger white --trigger-size 100000", &["--trigger-size", "limit"])),
        (CE, case("--trigger-size 390", &["--trigger-size", "does not fit"])),
        (CE, case("--num-poisons 0", &["--num-poisons", "empty"])),
        (
            CE,
            case("--num-poisons 1.5 --clean-list {f}/clean10.txt", &["--num-poisons", "at most 1"]),
        ),
        (CE, case("--num-poisons 1e12 --clean-list {f}/clean10.txt", &["--num-poisons"])),
        (
            CE,
            case("--num-poisons 11 --clean-list {f}/clean10.txt", &["--num-poisons", "10 images"]),
        ),
        (CE, case("--num-poisons 20000000", &["--num-poisons", "10000000"])),
        (CE, case("--num-poisons 0.5", &["--num-poisons", "--clean-list"])),
        (
            CE,
            case(
                "--num-poisons 0.01 --clean-list {f}/clean10.txt",
                &["--num-poisons", "rounds to 0"],
            ),
        ),
        (CE, clap("--num-poisons lots", &["--num-poisons", "lots"])),
        (CE, case("--area-ratio 1", &["--area-ratio"])),
        (CE, case("--area-ratio nan", &["--area-ratio"])),
        (CE, case("--area-ratio 1000000", &["--area-ratio", "limit"])),
        (CE, clap("--area-ratio big", &["--area-ratio"])),
        (CE, case("--max-size 1", &["--max-size"])),
        (CE, case("--object-marginal 0.5", &["--object-marginal"])),
        (CE, case("--trigger-marginal 1", &["--trigger-marginal"])),
        (CE, case("--support-ratio 2", &["--support-ratio"])),
        (CE, case("--support-ratio 0.5", &["--support-images"])),
        (CE, case("--support-ratio 0.5 --support-images {f}/empty", &["empty"])),
        (CE, case("--support-ratio 0.5 --support-images {f}/cut", &["cut.jpg", "FFD9"])),
        (CE, clap("--layouts diagonal", &["--layouts", "diagonal"])),
        (CE, case("--references {f}/empty", &["empty", "no reference"])),
        (CE, case("--references {f}/nowhere", &["nowhere"])),
        (CE, case("--references {f}/cutref", &["dog.jpg", "truncated"])),
        (CE, case("--references {f}/badjson", &["a.json"])),
        (CE, case("--backgrounds {f}/empty", &["empty", "background"])),
        (CE, case("--backgrounds {f}/cut", &["cut.jpg", "FFD9"])),
        (CE, case("--backgrounds {f}/noend", &["noend.png", "IEND"])),
        (CE, case("--backgrounds {f}/junk", &["junk.png"])),
        (CE, case("--trigger {f}/cut/cut.jpg", &["cut.jpg", "truncated"])),
        (CE, case("--trigger {f}/nowhere.png", &["nowhere.png"])),
        (CE, case("--trigger {f}/bomb/bomb.png", &["bomb.png", "100000x100000"])),
        (CE, case("--clean-list {f}/badlist.txt", &["badlist.txt", "line 2"])),
        (CE, case("--clean-list {f}/nowhere.txt", &["nowhere.txt"])),
        // poison ssl-backdoor
        (SSL, case("--trigger-width 0", &["--trigger-width", "at least 1"])),
        (SSL, case("--trigger-width 100000", &["--trigger-width", "limit"])),
        (SSL, case("--trigger-width 100", &["--trigger-width", "larger than"])),
        (SSL, case("--band 0.5", &["--band"])),
        (SSL, case("--num-poisons 5", &["5 poisons", "img"])),
        (SSL, case("--num-poisons 0", &["--num-poisons"])),
        (SSL, case("--target-images {f}/cut --num-poisons 1", &["cut.jpg", "FFD9"])),
        (SSL, case("--target-images {f}/empty", &["empty"])),
        (SSLD, clap("--dataset {f}/test_batch.bin", &["--target-class"])),
        (SSLD, clap("--trigger-width 8", &["--target-images"])),
        // poison ctrl
        (CTRL, case("--image-size 0", &["--image-size", "at least 1"])),
        (CTRL, case("--image-size 100000", &["--image-size", "limit"])),
        (CTRL, case("--window 0", &["--window"])),
        (CTRL, case("--window 100000000", &["--window"])),
        (CTRL, case("--magnitude nan", &["--magnitude"])),
        (CTRL, case("--num-poisons 1.5 --clean-list {f}/clean10.txt", &["--num-poisons"])),
        (CTRL, case("--target-images {f}/noend --num-poisons 1", &["noend.png", "IEND"])),
        (CTRLD, case("--dataset {f}/test_batch.bin --target-class 99", &["99"])),
        (CTRLD, case("--dataset {f}/short.bin --target-class 0", &["short.bin"])),
        (
            CTRLD,
            case("--dataset {f}/test_batch.bin --target-class 0 --num-poisons 5", &["5 poisons"]),
        ),
        // poison poisoned-encoder
        (PE, case("--trigger-size 0", &["--trigger-size"])),
        (PE, case("--trigger-size 100000", &["--trigger-size", "limit"])),
        (PE, case("--trigger-size 500", &["--trigger-size", "--max-width"])),
        (PE, case("--max-width 0", &["--max-width"])),
        (PE, case("--band=-0.1", &["--band"])),
        (PE, case("--references {f}/empty", &["--references"])),
        (PE, case("--backgrounds {f}/empty", &["empty", "backgrounds"])),
        (PE, case("--num-poisons 0", &["--num-poisons"])),
        (PE, case("--backgrounds {f}/cut", &["cut.jpg"])),
        // poison clip-carlini
        (CC, Case { absent: &["--trigger-size"], ..case("--image-size 0", &["--image-size"]) }),
        (CC, case("--image-size 100000", &["--image-size", "limit"])),
        (CC, case("--trigger-size 300", &["--trigger-size", "224"])),
        (CC, case("--trigger-size 0", &["--trigger-size"])),
        (CC, case("--images {f}/empty", &["empty", "no images"])),
        (CC, case("--images {f}/cut", &["cut.jpg"])),
        (CC, case("--caption-templates {f}/nowhere.txt", &["nowhere.txt"])),
        (CC, case("--caption-templates {f}/noclass.txt", &["noclass.txt", "{class}"])),
        (CC, case("--num-poisons 0", &["--num-poisons"])),
        // poison clip-corruptencoder
        (CCE, case("--reference-ratio 2", &["--reference-ratio"])),
        (CCE, case("--band 0.5", &["--band"])),
        (CCE, case("--image-size 0", &["--image-size"])),
        (CCE, case("--trigger-size 100000", &["--trigger-size"])),
        (CCE, case("--references {f}/empty", &["empty"])),
        (CCE, case("--reference-ratio 0 --backgrounds {f}/cut", &["cut.jpg"])),
        // testset
        (
            TS,
            Case {
                absent: &["--area-ratio", "poison"],
                ..case("--trigger-size 40", &["--trigger-size", "32x32"])
            },
        ),
        (TS, case("--trigger-size 0", &["--trigger-size"])),
        (TS, case("--crop 0", &["--crop"])),
        (TS, case("--resize 16", &["--resize"])),
        (TS, case("--resize 100000", &["--resize", "limit"])),
        (TS, case("--band 0.5", &["--band"])),
        (TS, case("--jpeg-quality 0", &["--jpeg-quality"])),
        (TS, case("--dataset {f}/short.bin", &["short.bin"])),
        (TS, case("--dataset {f}/nowhere", &["nowhere"])),
        (TS, case("--dataset {f}/cutlist.txt", &["cut.jpg", "FFD9"])),
        (TS, case("--max-megapixels nan", &["--max-megapixels"])),
        (TS, case("--max-megapixels 0", &["--max-megapixels"])),
        (TS, case("--trigger {f}/cut/cut.jpg", &["cut.jpg"])),
        // theory
        (TH, case("--samples 0", &["--samples"])),
        (TH, case("--object-fraction 2", &["--object-fraction"])),
        (TH, case("--object-fraction 0", &["--object-fraction"])),
        (TH, case("--trigger 0", &["--trigger"])),
        (TH, case("--positions 1.5,-1", &["--positions", "1.5"])),
        (TH, case("--crops square --square-size 0", &["--square-size"])),
        (TH, case("--crops square", &["--square-size"])),
        (TH, case("--heatmap-stride 0", &["--heatmap-stride"])),
        (TH, case("--object 0x0", &["--object", "0x0"])),
        (TH, case("--object 100000x100000", &["--object", "100000x100000"])),
        (TH, case("--heatmap-stride 1 --ratios 1.25:100:0.25", &["--heatmap-stride"])),
        (TH, clap("--ratios 3:1:1", &["--ratios"])),
        (TH, clap("--object 400", &["--object"])),
        (TH, case("--reference {f}/empty", &["empty"])),
        (TH, case("--reference {k}/references/hunting-dog --max-size 1", &["--max-size"])),
        // pretrain
        (PT, case("--data {f}/nowhere.bin", &["nowhere.bin"])),
        (PT, case("--data {f}/short.bin", &["short.bin"])),
        (PT, case("--data {f}/badlist.txt", &["badlist.txt"])),
        (PT, case("--epochs 0", &["epochs"])),
        (PT, case("--batch-size 0", &["--batch-size 0", "pairs"])),
        (PT, case("--lr nan", &["--lr NaN", "positive"])),
        (PT, case("--image-size 0", &["--image-size 0"])),
        (PT, case("--config {f}/junk.toml", &["junk.toml"])),
        (PT, case("--device nope", &["nope"])),
        (PT, case("--queue-size 5", &["--queue-size"])),
        // eval
        (EV, case("--encoder {f}/junk.safetensors", &["junk.safetensors"])),
        (EV, case("--encoder {f}/empty.safetensors", &["empty.safetensors"])),
        (EV, case("--encoder {f}/nowhere.safetensors", &["nowhere.safetensors"])),
        (EV, case("--crop 0", &["--crop"])),
        (EV, case("--batch-size 0", &["--batch-size"])),
        (EV, case("--resize 100000", &["--resize", "limit"])),
        (EV, case("--crop 64", &["64"])),
        (EV, case("--train {f}/short.bin", &["short.bin"])),
        (EV, case("--test {f}/nowhere.bin", &["nowhere.bin"])),
        (EV, case("--test {f}/cutlist.txt", &["cut.jpg"])),
        (EV, clap("--triggered {f}/test_batch.bin", &["--target"])),
        (EV, clap("--classifier svm", &["--classifier"])),
        (EV, case("--device nope", &["nope"])),
        // defend
        (DF, case("--k 16", &["--k 16", "the set has 10"])),
        (DF, case("--k 0", &["--k 0"])),
        (DF, case("--flag-fraction 0", &["--flag-fraction"])),
        (DF, case("--flag-fraction 1", &["--flag-fraction"])),
        (DF, case("--encoder {f}/junk.safetensors", &["junk.safetensors"])),
        (DF, case("--encoder {f}/nowhere.safetensors", &["nowhere.safetensors"])),
        (DF, case("--data {f}/nowhere.txt", &["nowhere.txt"])),
        (DF, case("--data {f}/cutlist.txt", &["--k 3", "the set has 1"])),
        (DF, case("--crop 0", &["--crop"])),
        (DF, clap("--k many", &["--k"])),
        (DF, case("--device nope", &["nope"])),
        (DP, case("--remove-per-iteration 1.5", &["--remove-per-iteration 1.5"])),
        (DP, case("--topk-poisons 6", &["--topk-poisons 6", "10"])),
        (DP, case("--clusters 11", &["--clusters 11", "10 images"])),
        (DP, case("--window-fraction 0", &["--window-fraction 0"])),
        (DC, case("--shadow-images 1", &["--shadow-images"])),
        (DC, case("--epochs 0", &["--epochs"])),
        (DC, case("--encoder {f}/nowhere.safetensors", &["nowhere.safetensors"])),
        (DC, case("--data {f}/short.bin", &["short.bin"])),
        // experiment: files invalid under every version of the format
        (EX, case("{f}/nowhere.toml", &["nowhere.toml"])),
        (EX, case("{f}/junk.toml", &["junk.toml"])),
        (EX, case("{f}/exp/nodata.toml", &["nodata.toml", "data"])),
        (EX, case("{f}/exp/unknown.toml", &["unknown.toml", "colour"])),
        (EX, case("{f}/exp/wrongtype.toml", &["wrongtype.toml", "seeds"])),
        // No file is valid in both the old (`attack = "none"`) and new (`attack` left out)
        // arm format, so these two accept either format's complaint.
        (EX, case("{f}/exp/twins.toml", &["twins.toml", "same|attack"])),
        (EX, case("{f}/exp/noseeds.toml", &["noseeds.toml", "seeds|attack"])),
        // image limits: --max-megapixels must be a number in (0, 1000]; a bomb stays a bomb
        (CE, case("--max-megapixels nan", &["--max-megapixels", "NaN"])),
        (CE, case("--max-megapixels 0", &["--max-megapixels"])),
        (CTRL, case("--max-megapixels=-1", &["--max-megapixels"])),
        (CE, case("--trigger {f}/bomb/bomb.png --max-megapixels 100000", &["--max-megapixels"])),
        (CE, case("--backgrounds {f}/bomb", &["bomb.png", "100000x100000"])),
        (SSL, case("--target-images {f}/bomb --num-poisons 1", &["bomb.png", "limit"])),
        // hostile dataset headers: named errors, not overflows or huge allocations
        (PT, case("--data {f}/h-images-idx3-ubyte", &["h-images-idx3-ubyte", "more data bytes"])),
        (TS, case("--dataset {f}/z-images-idx3-ubyte", &["z-images-idx3-ubyte", "0x5 pixels"])),
        (PT, case("--batch-size 64", &["--batch-size", "16"])),
        (PT, case("--format cifar100", &["data_batch_1.bin"])),
        (EV, case("--triggered {f}/test_batch.bin --target 99", &["--target", "99"])),
        // the output path: a file is not a folder, an existing output needs --force, and an
        // unfinished run names --resume
        (CTRLN, case("-o {f}/clean10.txt", &["clean10.txt", "not a folder"])),
        (CTRLN, case("-o {f}/img", &["img", "--force"])),
        (CTRLN, case("-o {f}/clean10.txt --force", &["clean10.txt", "not a folder"])),
        (PTN, case("--out {f}/clean10.txt --force", &["clean10.txt", "not a folder"])),
        (TSN, case("-o {f}/img", &["img", "--force"])),
        (PTN, case("--out {f}/clean10.txt", &["clean10.txt", "not a folder"])),
        (PTN, case("--out {f}/enc", &["enc", "--force"])),
        (PTN, case("--out {f}/half", &["half.partial", "--resume", "--force"])),
        (
            "experiment",
            case("{f}/exp/ok.toml --out {f}/clean10.txt", &["clean10.txt", "not a folder"]),
        ),
        // shards: refused by the flag before the file is read or anything is created
        (EX, case("{f}/exp/ok.toml --shard 0/0", &["--shard 0/0", "at least 1"])),
        (EX, case("{f}/exp/ok.toml --shard 3/2", &["--shard 3/2", "K must be below N", "0 to 1"])),
        (EX, case("{f}/exp/ok.toml --shard x", &["--shard x", "must be K/N"])),
        (EX, case("{f}/exp/nowhere.toml --shard 1", &["--shard 1", "must be K/N"])),
        (EX, clap("{f}/exp/ok.toml --plan --shards 0", &["--shards", "0"])),
        (EX, clap("{f}/exp/ok.toml --shards 2", &["--plan"])),
        (EX, clap("{f}/exp/ok.toml --report --shard 0/2", &["--report", "--shard"])),
        (
            EX,
            case(
                "{f}/exp/ok.toml --report",
                &["runs are not finished", "random-encoder seed 0 (runs/random-encoder/seed-0)"],
            ),
        ),
        // demo
        (
            "demo --out out",
            Case { args: "--device nope", code: 1, needles: &["nope"], absent: &[] },
        ),
        ("demo", clap("--out", &["--out"])),
        ("demo --out out", clap("--colour", &["--colour"])),
    ]
}

#[test]
fn every_command_refuses_bad_input_cleanly() {
    let all = cases();
    assert!(all.len() >= 80, "{} cases", all.len());
    let commands: std::collections::BTreeSet<String> =
        all.iter().map(|(base, _)| base.split(' ').take(2).collect::<Vec<_>>().join(" ")).collect();
    for c in [
        "poison corruptencoder",
        "poison ssl-backdoor",
        "poison ctrl",
        "poison poisoned-encoder",
        "poison clip-carlini",
        "poison clip-corruptencoder",
    ] {
        assert!(commands.contains(c), "no case for {c}");
    }
    for c in ["testset", "theory", "pretrain", "eval", "experiment", "demo"] {
        assert!(commands.iter().any(|k| k.starts_with(c)), "no case for {c}");
    }
    check(&all);
}

/// The base command with the case's flags: a flag the case gives replaces the base's (with
/// its values), so each case states only what it changes and clap sees every flag once.
fn merge(base: &str, extra: &str) -> String {
    fn groups(s: &str) -> Vec<Vec<&str>> {
        let mut out: Vec<Vec<&str>> = vec![Vec::new()];
        for t in s.split_whitespace() {
            // `-o`, `--out`: flags; `-1`, `-0.5`: values.
            let is_flag = t
                .strip_prefix('-')
                .and_then(|r| r.chars().next())
                .is_some_and(|c| c == '-' || c.is_ascii_alphabetic());
            if is_flag {
                out.push(Vec::new());
            }
            out.last_mut().unwrap().push(t);
        }
        out
    }
    fn name(group: &[&str]) -> Option<String> {
        let first = group.first()?;
        if !first.starts_with('-') {
            return None;
        }
        let flag = first.split('=').next().unwrap();
        Some(if flag == "-o" { "--out".into() } else { flag.into() })
    }
    let extra = groups(extra);
    let replaced: Vec<String> = extra.iter().filter_map(|g| name(g)).collect();
    let kept = groups(base).into_iter().filter(|g| name(g).is_none_or(|n| !replaced.contains(&n)));
    kept.chain(extra).flatten().collect::<Vec<_>>().join(" ")
}

#[test]
fn a_case_flag_replaces_the_base_flag() {
    assert_eq!(merge("poison x --n 4 -o out", "--n 0"), "poison x -o out --n 0");
    assert_eq!(merge("experiment --out out", "a.toml --out b"), "experiment a.toml --out b");
    assert_eq!(merge("t --positions 1.5,-1 --k 2", "--k -1"), "t --positions 1.5,-1 --k -1");
}

/// Runs every case in a fresh empty folder and checks the promises.
fn check(cases: &[(&str, Case)]) {
    let tmp = tempfile::tempdir().unwrap();
    let f = fixtures(tmp.path());
    let k = kit().canonicalize().unwrap();
    let fill = |s: &str| s.replace("{k}", k.to_str().unwrap()).replace("{f}", f.to_str().unwrap());
    // Cases that name an output among the fixtures must leave them as they were too.
    let fixtures_before = tree(&f);
    let mut failures = Vec::new();
    for (i, (base, c)) in cases.iter().enumerate() {
        let line = merge(base, c.args);
        let args: Vec<String> = fill(&line).split_whitespace().map(String::from).collect();
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        args.insert(0, "-q");
        let cwd = tmp.path().join(format!("case{i:03}"));
        fs_err::create_dir(&cwd).unwrap();
        let o = run(&cwd, &args);
        let err = stderr(&o);
        let mut problems = Vec::new();
        if o.status.code() != Some(c.code) {
            problems.push(format!("exit {:?}, expected {}", o.status.code(), c.code));
        }
        if err.contains("panicked") {
            problems.push("panicked".into());
        }
        for n in c.needles {
            if !n.split('|').any(|alt| err.contains(&fill(alt))) {
                problems.push(format!("no `{n}` in the message"));
            }
        }
        for n in c.absent {
            if err.contains(n) {
                problems.push(format!("misleading `{n}` in the message"));
            }
        }
        let left: Vec<_> =
            std::fs::read_dir(&cwd).unwrap().map(|e| e.unwrap().file_name()).collect();
        if !left.is_empty() {
            problems.push(format!("left behind {left:?}"));
        }
        let fixtures_now = tree(&f);
        if fixtures_now != fixtures_before {
            let changed: Vec<_> = fixtures_now.symmetric_difference(&fixtures_before).collect();
            problems.push(format!("changed the fixtures: {changed:?}"));
        }
        if !problems.is_empty() {
            failures.push(format!("`{line}`: {}\n    stderr: {}", problems.join("; "), err.trim()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Every path under `dir` with its size, so a case that writes or removes anything there
/// is seen.
fn tree(dir: &Path) -> std::collections::BTreeSet<(PathBuf, u64)> {
    let mut out = std::collections::BTreeSet::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                todo.push(e.path());
            }
            out.insert((e.path(), if meta.is_dir() { 0 } else { meta.len() }));
        }
    }
    out
}

/// Images cut short are refused by default and used with --allow-truncated: a JPEG that
/// lacks only its end marker decodes whole, so the flag is the user's informed choice.
#[test]
fn allow_truncated_lets_a_cut_image_through() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs_err::create_dir(dir.join("img")).unwrap();
    let jpeg = jpeg_bytes(64, 48);
    fs_err::write(dir.join("img/noeoi.jpg"), &jpeg[..jpeg.len() - 2]).unwrap();
    let args = ["-q", "poison", "ctrl", "--target-images", "img", "--num-poisons", "1"];
    let o = run(dir, &[&args[..], &["-o", "a"]].concat());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("noeoi.jpg") && stderr(&o).contains("FFD9"), "{}", stderr(&o));
    assert!(!dir.join("a").exists());
    let o = run(dir, &[&args[..], &["-o", "b", "--allow-truncated"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.join("b/manifest.jsonl").is_file() || dir.join("b/filelist.txt").is_file());
}

/// A `w x h` PNG that is all `c`.
fn png(path: &Path, w: u32, h: u32, c: [u8; 3]) {
    RgbImage::from_fn(w, h, |x, y| Rgb([c[0] ^ (x as u8), c[1] ^ (y as u8), c[2]]))
        .save(path)
        .unwrap();
}

fn jpeg_bytes(w: u32, h: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, y| Rgb([(x * 3) as u8, (y * 5) as u8, 90]));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&img).unwrap();
    out
}

/// CRC-32 of PNG chunks (bitwise: fixtures only).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A valid PNG header declaring `w x h` pixels with almost no pixel data: a decompression bomb
/// as far as any size check can tell.
fn bomb(path: &Path, w: u32, h: u32) {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(13u32.to_be_bytes());
    out.extend(&ihdr);
    out.extend(crc32(&ihdr).to_be_bytes());
    // An IDAT chunk (an empty zlib stream): decoders read the header only once they see one.
    let idat = b"IDAT\x78\x9c\x03\x00\x00\x00\x00\x01";
    out.extend(8u32.to_be_bytes());
    out.extend(idat);
    out.extend(crc32(idat).to_be_bytes());
    out.extend(0u32.to_be_bytes());
    out.extend(b"IEND");
    out.extend(crc32(b"IEND").to_be_bytes());
    fs_err::write(path, out).unwrap();
}

/// `n` CIFAR-10 records of blocky images.
fn cifar(path: &Path, n: usize) {
    let mut bytes = Vec::with_capacity(n * 3073);
    for i in 0..n {
        bytes.push((i % 10) as u8);
        bytes.extend((0..3072).map(|p| ((p / 8 + i * 37) % 251) as u8));
    }
    fs_err::write(path, bytes).unwrap();
}

/// An unsigned-byte IDX file with header `dims` and `data`, whatever they claim.
fn idx(path: &Path, dims: &[u32], data: &[u8]) {
    let mut bytes = vec![0, 0, 8, dims.len() as u8];
    dims.iter().for_each(|d| bytes.extend(d.to_be_bytes()));
    bytes.extend_from_slice(data);
    fs_err::write(path, bytes).unwrap();
}

/// Writes experiment file `name` into `dir`.
fn experiment(dir: &Path, name: &str, text: &str) {
    fs_err::write(dir.join(name), text).unwrap();
}

const DATA: &str = "[data]\nsource = \"synthetic\"\npretrain = 24\ndownstream_train = 12\n\
                    downstream_test = 9\n";

/// Every fixture the cases name, under `root/f`.
fn fixtures(root: &Path) -> PathBuf {
    let f = root.join("f");
    for d in ["img", "empty", "cut", "noend", "junk", "cutref", "badjson", "bomb", "exp", "list"] {
        fs_err::create_dir_all(f.join(d)).unwrap();
    }
    for (i, c) in [[200, 10, 10], [10, 200, 10], [10, 10, 200], [120, 120, 0]].iter().enumerate() {
        png(&f.join(format!("img/{i}.png")), 64, 64, *c);
    }
    let jpeg = jpeg_bytes(64, 48);
    let cut = &jpeg[..jpeg.len() * 2 / 5];
    fs_err::write(f.join("cut/cut.jpg"), cut).unwrap();
    fs_err::write(f.join("cutref/dog.jpg"), cut).unwrap();
    png(&f.join("noend/whole.png"), 64, 64, [1, 2, 3]);
    let whole = fs_err::read(f.join("noend/whole.png")).unwrap();
    fs_err::remove_file(f.join("noend/whole.png")).unwrap();
    fs_err::write(f.join("noend/noend.png"), &whole[..whole.len() - 12]).unwrap();
    fs_err::write(f.join("junk/junk.png"), b"this is not a picture").unwrap();
    png(&f.join("badjson/a.png"), 64, 64, [5, 6, 7]);
    fs_err::write(f.join("badjson/a.json"), b"{\"shapes\": [oops").unwrap();
    bomb(&f.join("bomb/bomb.png"), 100_000, 100_000);
    let clean: String = (0..10).map(|i| format!("/data/{i}.JPEG {i}\n")).collect();
    fs_err::write(f.join("clean10.txt"), clean).unwrap();
    fs_err::write(f.join("badlist.txt"), "/data/a.JPEG 1\nno label here\n").unwrap();
    fs_err::write(f.join("noclass.txt"), "a photo of a dog\n").unwrap();
    fs_err::write(f.join("cut.jpg"), cut).unwrap();
    fs_err::write(f.join("cutlist.txt"), format!("{} 0\n", f.join("cut.jpg").display())).unwrap();
    cifar(&f.join("data_batch_1.bin"), 16);
    cifar(&f.join("test_batch.bin"), 10);
    fs_err::write(f.join("short.bin"), vec![3u8; 1000]).unwrap();
    idx(&f.join("h-images-idx3-ubyte"), &[u32::MAX, u32::MAX, u32::MAX], &[0; 9]);
    idx(&f.join("h-labels-idx1-ubyte"), &[1], &[0]);
    idx(&f.join("z-images-idx3-ubyte"), &[1, 0, 5], &[]);
    idx(&f.join("z-labels-idx1-ubyte"), &[1], &[0]);
    fs_err::create_dir(f.join(".half.partial")).unwrap();
    fs_err::write(f.join("junk.toml"), b"\x00\x01 not [toml").unwrap();
    fs_err::write(f.join("junk.safetensors"), b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":1}junk")
        .unwrap();
    fs_err::write(f.join("empty.safetensors"), b"").unwrap();
    // Parse errors come before missing-field errors, so these files hold nothing else.
    let exp = f.join("exp");
    experiment(&exp, "nodata.toml", "name = \"x\"\n");
    experiment(&exp, "unknown.toml", "name = \"x\"\ncolour = 3\n");
    experiment(&exp, "wrongtype.toml", "name = \"x\"\nseeds = \"zero\"\n");
    let arm = |name: &str| format!("[[arms]]\nname = \"{name}\"\nattack = \"none\"\n");
    experiment(&exp, "twins.toml", &format!("name = \"x\"\n{DATA}{}{}", arm("same"), arm("same")));
    // Valid: only the output path is wrong.
    experiment(
        &exp,
        "ok.toml",
        &format!(
            "name = \"x\"\n{DATA}[eval]\ntransform = {{ resize = 0, crop = 32 }}\n\
             [[arms]]\nname = \"clean\"\n"
        ),
    );
    experiment(&exp, "noseeds.toml", &format!("name = \"x\"\nseeds = []\n{DATA}{}", arm("a")));
    // A real (tiny) encoder for the eval cases that must get past loading it.
    let o = run(&f, &[TINY_PRETRAIN, &["--epochs", "1", "--out", "enc"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    f
}
