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
    let o = run(dir, &defend);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("pre-trained on"), "--crop 16 is the encoder's: {}", stderr(&o));
    let printed = String::from_utf8(o.stdout).unwrap();
    assert!(printed.contains("scored 24 images (4 marked as poisons)"), "{printed}");
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

    // The transform flags' defaults are ImageNet's: an encoder whose run folder says it saw
    // 16 px views is still scored at 224 px, with a warning naming the flags that match it.
    let at_224 = ["defend", "k-distance", "--encoder", "run/encoder.safetensors"];
    let at_224: Vec<&str> =
        at_224.into_iter().chain(["--data", "list.txt", "--out", "det224", "--k", "4"]).collect();
    let o = run(dir, &at_224);
    assert!(o.status.success(), "{}", stderr(&o));
    let warned = stderr(&o);
    assert!(
        warned.contains("pre-trained on 16 px views") && warned.contains("--resize 0 --crop 16"),
        "{warned}"
    );

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

/// `n` plain 16 px images of three colours and an `image,caption` CSV naming the colour.
fn captioned(dir: &Path, n: usize) {
    let colours = [("red", [220, 30, 30]), ("green", [30, 200, 40]), ("blue", [30, 40, 220])];
    let rows: Vec<String> = (0..n)
        .map(|i| {
            let (name, rgb) = colours[i % 3];
            image::RgbImage::from_pixel(16, 16, rgb.into())
                .save(dir.join(format!("c{i}.png")))
                .unwrap();
            format!("c{i}.png,a photo of a {name} square\n")
        })
        .collect();
    std::fs::write(dir.join("pairs.csv"), format!("image,caption\n{}", rows.concat())).unwrap();
}

#[test]
fn defend_cleanclip_fine_tunes_a_clip_run_into_another() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    captioned(dir, 12);
    std::fs::write(
        dir.join("clip.toml"),
        "[method]\nname = \"clip\"\nembed_dim = 8\ntext_width = 8\ntext_layers = 1\ntext_heads = 2\ncontext = 8\n",
    )
    .unwrap();
    // The tiny pre-training with captions and a small CLIP (the file's, same method).
    let clip = ["--config", "clip.toml", "--epochs", "1", "--out", "clip"];
    let pretrain: Vec<&str> = TINY_PRETRAIN
        .iter()
        .map(|&a| match a {
            "data_batch_1.bin" => "pairs.csv",
            "simclr" => "clip",
            other => other,
        })
        .chain(clip)
        .collect();
    let o = run(dir, &pretrain);
    assert!(o.status.success(), "{}", stderr(&o));
    let cleanclip = [
        "defend",
        "cleanclip",
        "--clip",
        "clip",
        "--pairs",
        "pairs.csv",
        "--out",
        "clean",
        "--epochs",
        "2",
        "--batch-size",
        "4",
        "--clean-pairs",
        "8",
        "--lr",
        "0.001",
    ];
    let o = run(dir, &cleanclip);
    assert!(o.status.success(), "{}", stderr(&o));
    let printed = String::from_utf8(o.stdout).unwrap();
    assert!(printed.contains("fine-tuned for 4 steps"), "8 pairs, batch 4, 2 epochs: {printed}");
    for f in
        ["clip.safetensors", "encoder.safetensors", "tokenizer.json", "pairs.csv", "cleanclip.toml"]
    {
        assert!(dir.join("clean").join(f).is_file(), "{f}");
    }
    let pairs = std::fs::read_to_string(dir.join("clean/pairs.csv")).unwrap();
    assert_eq!(pairs.lines().count(), 9, "header and 8 pairs");

    // Refusals name the flag and write nothing.
    let o = run(dir, &cleanclip);
    assert!(!o.status.success() && stderr(&o).contains("already exists"), "{}", stderr(&o));
    let mut bad = cleanclip.to_vec();
    bad[7] = "other";
    bad[11] = "1";
    let o = run(dir, &bad);
    assert!(stderr(&o).contains("--batch-size 1: must be at least 2"), "{}", stderr(&o));
    assert!(!dir.join("other").exists());
    let o = run(dir, &["defend", "cleanclip", "--pairs", "pairs.csv", "--out", "x"]);
    assert!(!o.status.success() && stderr(&o).contains("--clip"), "{}", stderr(&o));
}
