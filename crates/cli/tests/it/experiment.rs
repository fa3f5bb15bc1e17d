//! `experiment` on a tiny synthetic file, then `eval` on the encoder it trained.
use crate::{run, stderr};

/// The demo's file, shrunk to seconds: 16 px, 3 classes, one epoch, clean + CorruptEncoder.
pub(crate) const TINY: &str = r#"
name = "tiny"
[data]
source = "synthetic"
pretrain = 24
downstream_train = 12
downstream_test = 9
backgrounds = 4
background_size = [96, 72]
[data.world]
classes = 3
size = 16
reference_size = 48
seed = 1
[attack]
poison_ratio = 0.1
[testset]
trigger_size = 4
format = "png"
[eval]
transform = { resize = 0, crop = 16 }
classifier = { kind = "linear", epochs = 3 }
[pretrain]
epochs = 1
batch_size = 8
encoder = { arch = "small-cnn", width = 4 }
views = { size = 16 }
method = { name = "simclr" }
[[arms]]
name = "clean"
[[arms]]
name = "ce"
attack = { kind = "corruptencoder", trigger_size = 8 }
"#;

#[test]
fn experiment_then_eval_on_its_encoder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("tiny.toml"), TINY).unwrap();
    let o = run(dir, &["-q", "experiment", "tiny.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(table.contains("| clean | 0 |") && table.contains("| ce | 2 |"), "{table}");
    let out = dir.join("results/tiny");
    for f in ["results.json", "report.md", "report.html", "table.md", "experiment.toml"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }

    // A different experiment into the same folder is refused, naming the fix.
    std::fs::write(dir.join("tiny.toml"), TINY.replace("epochs = 1", "epochs = 2")).unwrap();
    let o = run(dir, &["-q", "experiment", "tiny.toml"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));

    let encoder = out.join("runs/ce/seed-0/pretrain/encoder.safetensors");
    let o = run(
        dir,
        &[
            "-q",
            "eval",
            "--encoder",
            encoder.to_str().unwrap(),
            "--train",
            out.join("data/downstream-train").to_str().unwrap(),
            "--test",
            out.join("data/downstream-test").to_str().unwrap(),
            "--triggered",
            out.join("testset/filelist.txt").to_str().unwrap(),
            "--target",
            "0",
            "--resize",
            "0",
            "--crop",
            "16",
            "--epochs",
            "3",
            "--json",
            "eval.json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(text.contains("ASR:") && text.contains("of 6 triggered non-target images"), "{text}");
    // The command scores exactly what the experiment scored for the same encoder and seed.
    let result: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("runs/ce/seed-0/result.json")).unwrap(),
    )
    .unwrap();
    let eval: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("eval.json")).unwrap()).unwrap();
    let hits = eval["attack"]["hits"].as_u64().unwrap();
    assert_eq!(hits, result["asr_hits"].as_u64().unwrap());
    let correct = eval["clean"]["accuracy"]["correct"].as_f64().unwrap();
    assert_eq!(100.0 * correct / 9.0, result["accuracy"].as_f64().unwrap());

    // Bad input: a file that is no encoder.
    std::fs::write(dir.join("junk.pth"), b"not a checkpoint").unwrap();
    let (train, test) = (out.join("data/downstream-train"), out.join("data/downstream-test"));
    let sets = ["--train", train.to_str().unwrap(), "--test", test.to_str().unwrap()];
    let o = run(dir, &[&["eval", "--encoder", "junk.pth"], &sets[..]].concat());
    assert!(!o.status.success());
    assert!(stderr(&o).contains("junk.pth"), "{}", stderr(&o));
    // A target that is no class is refused before any feature is extracted.
    let enc = ["--encoder", "junk.pth", "--triggered", "x", "--target", "7"];
    let o = run(dir, &[&["eval"], &enc[..], &sets[..]].concat());
    assert!(stderr(&o).contains("--target 7 is not one of the 3 classes"), "{}", stderr(&o));
}

/// The CLIP demo's shape, shrunk to seconds: 3 classes at 16 px, one epoch, the clean arm
/// and both image-text attacks.
const TINY_CLIP: &str = r#"
name = "tiny-clip"
[data]
source = "synthetic"
pretrain = 24
downstream_train = 12
downstream_test = 9
backgrounds = 4
background_size = [96, 72]
[data.world]
classes = 3
size = 16
reference_size = 48
seed = 1
[attack]
poison_ratio = 0.1
[testset]
trigger_size = 4
format = "png"
[eval]
transform = { resize = 0, crop = 16 }
classifier = { kind = "linear", epochs = 3 }
[pretrain]
epochs = 1
batch_size = 8
encoder = { arch = "small-cnn", width = 4 }
views = { size = 16 }
method = { name = "clip", embed_dim = 8, text_width = 8, text_layers = 1, text_heads = 2, context = 12 }
[[arms]]
name = "clean"
[[arms]]
name = "carlini"
attack = { kind = "clip-carlini", trigger_size = 4, image_size = 16, class_name = "c00-stripes" }
[[arms]]
name = "ce"
attack = { kind = "clip-corruptencoder", trigger_size = 4, image_size = 16, class_name = "c00-stripes" }
"#;

#[test]
fn clip_experiment_reports_zero_shot_and_probe_for_every_arm() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("clip.toml"), TINY_CLIP).unwrap();
    let o = run(dir, &["-q", "experiment", "clip.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(table.contains("zero-shot ASR % (all, CLIP script)"), "{table}");
    for arm in ["| clean | 0 |", "| carlini | 2 |", "| ce | 2 |"] {
        assert!(table.contains(arm), "{arm} missing: {table}");
    }
    // The output folder is named after the experiment file.
    let out = dir.join("results/clip");
    let run_dir = out.join("runs/ce/seed-0");
    // Clean pairs, then the poisons' pairs naming the target class.
    let captions = std::fs::read_to_string(run_dir.join("captions.csv")).unwrap();
    assert_eq!(captions.lines().count(), 1 + 24 + 2, "{captions}");
    assert!(captions.lines().last().unwrap().contains("c00-stripes"), "{captions}");
    for f in ["pretrain/tokenizer.json", "pretrain/clip.safetensors", "zero-shot.json"] {
        assert!(run_dir.join(f).is_file(), "{f} missing");
    }
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("Zero-shot (image-text encoders)"), "{report}");

    // An image-only attack under CLIP pre-training is refused by name before any work.
    let carlini = r#"{ kind = "clip-carlini", trigger_size = 4, image_size = 16, class_name = "c00-stripes" }"#;
    let bad = TINY_CLIP.replace(carlini, r#"{ kind = "ssl-backdoor" }"#);
    assert_ne!(bad, TINY_CLIP);
    std::fs::write(dir.join("bad.toml"), bad).unwrap();
    let o = run(dir, &["-q", "experiment", "bad.toml"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("makes images without captions"), "{}", stderr(&o));
}

#[test]
fn plan_lists_the_runs_creates_nothing_and_marks_finished_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let seeds = TINY.replace("name = \"tiny\"", "name = \"tiny\"\nseeds = [0, 1]");
    std::fs::write(dir.join("tiny.toml"), &seeds).unwrap();
    let o = run(dir, &["experiment", "tiny.toml", "--plan"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plan = String::from_utf8_lossy(&o.stdout).into_owned();
    // Seed by seed: the random encoder, then each arm.
    let order: Vec<&str> = plan.lines().skip(2).take(6).collect();
    assert!(order[0].starts_with("| 1 | random-encoder | - | 0 | no |"), "{plan}");
    assert!(order[2].starts_with("| 3 | ce | - | 0 | no | runs/ce/seed-0 |"), "{plan}");
    assert!(order[5].starts_with("| 6 | ce | - | 1 | no |"), "{plan}");
    assert!(plan.contains("6 runs, 6 to run, into results/tiny"), "{plan}");
    let entries = |d: &std::path::Path| std::fs::read_dir(d).unwrap().count();
    assert_eq!(entries(dir), 1, "--plan wrote nothing beside the file");

    // After a run every entry is finished; a bad setting is refused as a run refuses it.
    let o = run(dir, &["-q", "experiment", "tiny.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(dir, &["experiment", "tiny.toml", "--plan"]);
    let plan = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(plan.contains("6 runs, 0 to run"), "{plan}");
    std::fs::write(dir.join("bad.toml"), seeds.replace("epochs = 1", "epochs = 0")).unwrap();
    let o = run(dir, &["experiment", "bad.toml", "--plan"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("epochs"), "{}", stderr(&o));
}
