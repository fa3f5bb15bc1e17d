//! `pretrain` on tiny generated data: the outputs a run promises, CIFAR input found by its
//! name, `--stop-after` + `--resume` equal to an uninterrupted run, and clear refusals.
use std::path::Path;

use crate::{TINY_PRETRAIN, run, stderr};

/// `n` CIFAR-10 records (1 label byte + 3072 planar pixel bytes) of blocky random images:
/// enough texture for crops to differ, written as `data_batch_1.bin`.
pub(crate) fn cifar_batch(dir: &Path, n: usize) -> std::path::PathBuf {
    let mut bytes = Vec::with_capacity(n * 3073);
    let mut state = 0x9e37_79b9_u32;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    for i in 0..n {
        bytes.push((i % 10) as u8);
        let blocks: Vec<u8> = (0..3 * 16).map(|_| next() as u8).collect();
        for c in 0..3 {
            for y in 0..32 {
                for x in 0..32 {
                    bytes.push(blocks[c * 16 + (y / 8) * 4 + x / 8]);
                }
            }
        }
    }
    let path = dir.join("data_batch_1.bin");
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `pretrain` with the tiny flags, seed 3, for `epochs` epochs into `out`, then `extra`.
fn pretrain(dir: &Path, out: &str, epochs: &str, extra: &[&str]) -> std::process::Output {
    let args: Vec<&str> = TINY_PRETRAIN
        .iter()
        .copied()
        .chain(["--seed", "3", "--epochs", epochs, "--out", out])
        .chain(extra.iter().copied())
        .collect();
    run(dir, &args)
}

#[test]
fn pretrain_writes_its_outputs_and_resumes_to_the_same_encoder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    cifar_batch(dir, 24);

    let o = pretrain(dir, "whole", "2", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let whole = dir.join("whole");
    for f in ["config.toml", "seed", "log.jsonl", "encoder.safetensors"] {
        assert!(whole.join(f).is_file(), "{f} missing");
    }
    assert_eq!(std::fs::read_to_string(whole.join("seed")).unwrap().trim(), "3");
    let config = std::fs::read_to_string(whole.join("config.toml")).unwrap();
    assert!(config.contains("epochs = 2") && config.contains("batch_size = 8"), "{config}");
    // 24 images, batch 8: three steps an epoch, one checkpoint per epoch.
    let log = std::fs::read_to_string(whole.join("log.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 6, "{log}");
    for e in ["epoch-0001", "epoch-0002"] {
        assert!(whole.join(format!("checkpoints/{e}.safetensors")).is_file(), "{e} missing");
    }

    // Killed after step 4 (mid epoch 2), then resumed: the same encoder bytes.
    let o = pretrain(dir, "killed", "2", &["--stop-after", "4"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let killed = dir.join("killed");
    assert!(!killed.join("encoder.safetensors").exists());
    let o =
        run(dir, &["-q", "pretrain", "--data", "data_batch_1.bin", "--out", "killed", "--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let read = |p: &Path| std::fs::read(p.join("encoder.safetensors")).unwrap();
    assert!(read(&whole) == read(&killed), "resumed encoder differs from the uninterrupted one");

    // An existing output is refused without --force, and replaced with it (one epoch).
    let o = run(dir, &["-q", "pretrain", "--data", "data_batch_1.bin", "--out", "whole"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    let o = pretrain(dir, "whole", "1", &["--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let log = std::fs::read_to_string(whole.join("log.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 3, "{log}");
    assert!(!whole.join("checkpoints/epoch-0002.safetensors").exists());
}

/// A MoCo-v2 run folder written before `split_bn` existed (no such key in its
/// `config.toml`; it ran one encoder pass per group) resumes as it ran, to the encoder of an
/// uninterrupted run with `split_bn = "passes"`.
#[test]
fn a_run_folder_from_before_split_bn_resumes_as_it_ran() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    cifar_batch(dir, 24);
    let o = pretrain(dir, "probe", "2", &["--stop-after", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let probe = std::fs::read_to_string(dir.join(".probe.partial/config.toml")).unwrap();
    let start = probe.find("[method]").expect("a method table");
    let end = probe[start + 1..].find("\n[").map_or(probe.len(), |i| start + 1 + i);
    let moco = "[method]\nname = \"moco-v2\"\nqueue_size = 8\nmomentum = 0.99\ntemperature = 0.2\n\
                hidden_dim = 8\nprojection_dim = 8\nbn_splits = 2\nsplit_bn = \"passes\"\n";
    std::fs::write(dir.join("moco.toml"), format!("{}{moco}{}", &probe[..start], &probe[end..]))
        .unwrap();
    let with_config = |out: &str, extra: &[&str]| {
        let args = ["-q", "pretrain", "--data", "data_batch_1.bin", "--config", "moco.toml"];
        let args = args.into_iter().chain(["--out", out]).chain(extra.iter().copied());
        run(dir, &args.collect::<Vec<&str>>())
    };
    let o = with_config("whole", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = with_config("killed", &["--stop-after", "4"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stored = dir.join(".killed.partial/config.toml");
    let text = std::fs::read_to_string(&stored).unwrap();
    assert!(text.contains("split_bn = \"passes\"\n"), "{text}");
    std::fs::write(&stored, text.replace("split_bn = \"passes\"\n", "")).unwrap();
    let o =
        run(dir, &["-q", "pretrain", "--data", "data_batch_1.bin", "--out", "killed", "--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let read = |p: &str| std::fs::read(dir.join(p).join("encoder.safetensors")).unwrap();
    assert!(read("whole") == read("killed"), "resumed as another form of split BN");
}

#[test]
fn pretrain_names_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("empty.txt"), "# nothing here\n").unwrap();
    let o = run(dir, &["-q", "pretrain", "--data", "empty.txt", "--out", "a"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("empty.txt"), "{}", stderr(&o));

    cifar_batch(dir, 6);
    let o = pretrain(dir, "b", "2", &[]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("lower --batch-size"), "{}", stderr(&o));

    // A format that does not fit the file is reported against the file.
    let o = pretrain(dir, "c", "2", &["--format", "cifar100"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("data_batch_1.bin"), "{}", stderr(&o));
}

/// `--device` takes a list: two CPU replicas train data-parallel; a split that is not even,
/// or a GPU backend the build lacks, is refused by name.
#[test]
fn pretrain_takes_a_device_list() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    cifar_batch(dir, 16);
    let o = pretrain(dir, "two", "1", &["--device", "flex,flex"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.join("two/encoder.safetensors").is_file());
    let o = pretrain(dir, "three", "1", &["--device", "flex,flex,flex"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("multiple of the 3 devices"), "{}", stderr(&o));
    #[cfg(not(feature = "cuda"))]
    {
        let o = pretrain(dir, "gpu", "1", &["--device", "cuda:0,cuda:1"]);
        assert!(stderr(&o).contains("--features cuda"), "{}", stderr(&o));
    }
}
