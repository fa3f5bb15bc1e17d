//! `export` and `pretrain --tensorboard` from the command line: the flags reach the library,
//! the export prints the Python lines for the encoder it wrote, and outputs are not
//! overwritten silently.
use corruptencoder_train::{EVENTS_FILE, read_scalars};

use crate::pretrain::cifar_batch;
use crate::{TINY_PRETRAIN, run, stderr};

#[test]
fn export_writes_the_encoder_and_prints_how_to_load_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    cifar_batch(dir, 16);
    let args: Vec<&str> = TINY_PRETRAIN
        .iter()
        .copied()
        .chain(["--epochs", "1", "--out", "run", "--tensorboard"])
        .collect();
    let o = run(dir, &args);
    assert!(o.status.success(), "{}", stderr(&o));

    // --tensorboard: an event file whose losses are log.jsonl's, and the key in config.toml.
    let scalars = read_scalars(&dir.join("run").join(EVENTS_FILE)).unwrap();
    let losses = scalars.iter().filter(|s| s.tag == "train/loss").count();
    let log = std::fs::read_to_string(dir.join("run/log.jsonl")).unwrap();
    assert_eq!(losses, log.lines().count());
    let config = std::fs::read_to_string(dir.join("run/config.toml")).unwrap();
    assert!(config.contains("tensorboard = true"), "{config}");

    let o = run(dir, &["export", "run", "--format", "torchvision", "--out", "enc.safetensors"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let snippet = String::from_utf8(o.stdout).unwrap();
    assert!(snippet.contains("model = SmallCnn(width=4)"), "{snippet}");
    assert!(snippet.contains("load_file(\"enc.safetensors\"), strict=True)"), "{snippet}");
    assert!(dir.join("enc.safetensors").is_file());

    let o = run(dir, &["export", "run", "--out", "enc.safetensors"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("enc.safetensors already exists (pass --force"), "{}", stderr(&o));
    let o = run(dir, &["export", "run", "--out", "enc.safetensors", "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(dir, &["export", "run", "--out", "enc.pth"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("torch.save(safetensors.torch.load_file(p)"), "{}", stderr(&o));
    assert!(!dir.join("enc.pth").exists());
}
