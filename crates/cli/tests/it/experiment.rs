//! `experiment` on a tiny synthetic file, then `eval` on the encoder it trained.
use crate::{run, stderr};

/// The demo's file, shrunk to seconds: 16 px, 3 classes, one epoch, clean + CorruptEncoder.
const TINY: &str = r#"
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
