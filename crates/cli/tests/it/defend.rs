//! `defend` from the command line: a poison detector over a `path label` list under a
//! pre-trained encoder, its files, its summary, and refusals before any output.
use std::path::Path;

use crate::pretrain::cifar_batch;
use crate::{TINY_PRETRAIN, run, stderr};

/// `clean` 16 px blocky images labelled 0-2 and `poisons` near-copies of one bright
/// pattern labelled -1, listed in `list.txt` by relative path.
fn labelled_list(dir: &Path, clean: usize, poisons: usize) {
    let mut lines = String::new();
    for i in 0..clean + poisons {
        let poison = i >= clean;
        let img = image::RgbImage::from_fn(16, 16, |x, y| {
            let v = if poison {
                if (x / 4 + y / 4) % 2 == 0 { 250 } else { 5 + i as u8 }
            } else {
                ((x / 8 * 37 + y / 8 * 91 + i as u32 * 53) % 200) as u8
            };
            image::Rgb([v, v / 2, 255 - v])
        });
        let name = format!("img{i:02}.png");
        img.save(dir.join(&name)).unwrap();
        let label = if poison { -1 } else { (i % 3) as i64 };
        lines += &format!("{name} {label}\n");
    }
    std::fs::write(dir.join("list.txt"), lines).unwrap();
}

/// A tiny encoder pre-trained for one epoch in `run/`, and `list.txt` of 20 clean images
/// and 4 poisons.
fn encoder_and_list(dir: &Path) {
    cifar_batch(dir, 16);
    let args: Vec<&str> =
        TINY_PRETRAIN.iter().copied().chain(["--epochs", "1", "--out", "run"]).collect();
    let o = run(dir, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    labelled_list(dir, 20, 4);
}

/// Runs a detector over `list.txt` and returns what it printed, which starts with the
/// 24 images and 4 poisons it scored.
fn scored(dir: &Path, args: &[&str]) -> String {
    let o = run(dir, args);
    assert!(o.status.success(), "{}", stderr(&o));
    let printed = String::from_utf8(o.stdout).unwrap();
    assert!(printed.contains("scored 24 images (4 marked as poisons)"), "{printed}");
    printed
}

/// The JSON file at `path`.
fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn defend_scores_a_list_writes_the_kept_list_and_refuses_to_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    encoder_and_list(dir);

    let defend = [
        "defend",
        "dao",
        "--encoder",
        "run/encoder.safetensors",
        "--data",
        "list.txt",
        "--out",
        "det",
        "--k",
        "4",
        "--flag-fraction",
        "0.2",
        "--resize",
        "0",
        "--crop",
        "16",
    ];
    let printed = scored(dir, &defend);
    assert!(printed.contains("AUROC"), "{printed}");
    let det = dir.join("det");
    let summary = read_json(&det.join("summary.json"));
    assert_eq!(summary["detector"], "dao");
    assert_eq!(summary["quality"]["flagged"], 5, "0.2 of 24, rounded");
    let kept = std::fs::read_to_string(det.join("kept.txt")).unwrap();
    assert_eq!(kept.lines().count(), 19);
    for line in kept.lines() {
        let (path, _) = line.rsplit_once(' ').unwrap();
        assert!(Path::new(path).is_absolute() && Path::new(path).is_file(), "{path}");
    }
    let scores = std::fs::read_to_string(det.join("scores.csv")).unwrap();
    assert_eq!(scores.lines().count(), 25);

    let o = run(dir, &defend);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));

    // DECREE on the same encoder over the clean images: a verdict and the trigger's images.
    let decree = [
        "defend",
        "decree",
        "--encoder",
        "run/encoder.safetensors",
        "--data",
        "data_batch_1.bin",
        "--out",
        "dec",
        "--crop",
        "16",
        "--epochs",
        "40",
        "--early-stop-patience",
        "40",
    ];
    let o = run(dir, &decree);
    assert!(o.status.success(), "{}", stderr(&o));
    let printed = String::from_utf8(o.stdout).unwrap();
    assert!(printed.contains("verdict: "), "{printed}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("dec/summary.json")).unwrap())
            .unwrap();
    assert!(summary["steps"].as_u64().unwrap() <= 40, "{summary}");
    if summary["pl1"].is_number() {
        assert!(dir.join("dec/trigger.png").is_file() && dir.join("dec/mask.png").is_file());
    }
}

#[test]
fn patch_search_flags_by_its_classifier_and_keeps_its_triggers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    encoder_and_list(dir);
    let patch_search: Vec<&str> = "defend patch-search --encoder run/encoder.safetensors \
         --data list.txt --out ps --resize 0 --crop 16 --clusters 3 --topk-poisons 3 \
         --model-count 2 --max-iterations 12 --seed 5"
        .split_whitespace()
        .collect();
    let printed = scored(dir, &patch_search);
    assert!(printed.contains("candidate triggers"), "{printed}");
    let ps = dir.join("ps");
    let summary = read_json(&ps.join("summary.json"));
    assert_eq!(summary["detector"], "patch-search");
    let flagged = summary["quality"]["flagged"].as_u64().unwrap() as usize;
    let kept = std::fs::read_to_string(ps.join("kept.txt")).unwrap();
    assert_eq!(kept.lines().count(), 24 - flagged);
    let own = read_json(&ps.join("patch-search/summary.json"));
    assert_eq!(own["clusters"], 3);
    assert_eq!(own["classifier_steps"].as_array().unwrap().len(), 2);
    assert!(own["classifier_steps"].as_array().unwrap().iter().all(|s| s.as_u64() <= Some(12)));
    assert_eq!(own["flagged"].as_u64(), Some(flagged as u64));
    let patches = std::fs::read_dir(ps.join("patch-search/patches")).unwrap();
    let sides: Vec<(u32, u32)> =
        patches.map(|e| image::open(e.unwrap().path()).unwrap().to_rgb8().dimensions()).collect();
    assert_eq!(sides, [(4, 4); 3], "three candidate triggers, round(16 * 60 / 224) px");
    let csv = std::fs::read_to_string(ps.join("patch-search/search.csv")).unwrap();
    assert_eq!(csv.lines().count(), 25);
    // The same seed gives the same scores.
    let again: Vec<&str> =
        patch_search.iter().map(|&a| if a == "ps" { "ps2" } else { a }).collect();
    scored(dir, &again);
    let scores = |d: &str| std::fs::read_to_string(dir.join(d).join("scores.csv")).unwrap();
    assert_eq!(scores("ps"), scores("ps2"));
}

#[test]
fn bad_detector_settings_name_the_flag_and_create_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let o = run(
        dir,
        &[
            "defend",
            "k-distance",
            "--encoder",
            "e",
            "--data",
            "l",
            "--out",
            "o",
            "--flag-fraction",
            "1.5",
        ],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--flag-fraction 1.5"), "{}", stderr(&o));
    assert!(std::fs::read_dir(dir).unwrap().next().is_none(), "nothing created");
}
