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

#[test]
fn defend_scores_a_list_writes_the_kept_list_and_refuses_to_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    cifar_batch(dir, 16);
    let args: Vec<&str> =
        TINY_PRETRAIN.iter().copied().chain(["--epochs", "1", "--out", "run"]).collect();
    let o = run(dir, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    labelled_list(dir, 20, 4);

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
    let o = run(dir, &defend);
    assert!(o.status.success(), "{}", stderr(&o));
    let printed = String::from_utf8(o.stdout).unwrap();
    assert!(printed.contains("scored 24 images (4 marked as poisons)"), "{printed}");
    assert!(printed.contains("AUROC"), "{printed}");
    let det = dir.join("det");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(det.join("summary.json")).unwrap()).unwrap();
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

    caption_csv_is_scored_by_its_rows(dir);

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

/// `k-distance` over the same images as an `image,caption` CSV whose last 4 rows are the
/// poisons: the rows are scored against `--poisons-from`, the kept pairs keep their
/// captions, and a row past the end or the flag on a list is refused before any output.
fn caption_csv_is_scored_by_its_rows(dir: &Path) {
    let mut csv = String::from("image,caption\n");
    for i in 0..24 {
        csv += &format!("img{i:02}.png,\"a photo of thing {i}, small\"\n");
    }
    std::fs::write(dir.join("pairs.csv"), csv).unwrap();
    let args = |data: &'static str, first: &'static str, out: &'static str| {
        let mut a = vec!["defend", "k-distance", "--encoder", "run/encoder.safetensors"];
        a.extend(["--data", data, "--poisons-from", first, "--out", out, "--k", "4"]);
        a.extend(["--flag-fraction", "0.2", "--resize", "0", "--crop", "16"]);
        a
    };
    let o = run(dir, &args("pairs.csv", "20", "csv"));
    assert!(o.status.success(), "{}", stderr(&o));
    let printed = String::from_utf8(o.stdout).unwrap();
    assert!(printed.contains("scored 24 images (4 marked as poisons)"), "{printed}");
    assert!(printed.contains("kept.csv"), "{printed}");
    let kept = std::fs::read_to_string(dir.join("csv/kept.csv")).unwrap();
    assert_eq!(kept.lines().count(), 1 + 24 - 5, "the header and the kept pairs: {kept}");
    assert!(kept.starts_with("image,caption\n") && kept.contains(", small\""), "{kept}");
    let scores = std::fs::read_to_string(dir.join("csv/scores.csv")).unwrap();
    let poisons = scores.lines().skip(1).filter(|l| l.rsplit(',').nth(2) == Some("1"));
    assert_eq!(poisons.count(), 4, "{scores}");

    let o = run(dir, &args("pairs.csv", "25", "past"));
    assert!(stderr(&o).contains("--poisons-from 25") && stderr(&o).contains("24 rows"));
    let o = run(dir, &args("list.txt", "20", "list"));
    assert!(stderr(&o).contains("--poisons-from") && stderr(&o).contains("label -1"));
    assert!(!dir.join("past").exists() && !dir.join("list").exists());
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
