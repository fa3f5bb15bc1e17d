//! `poison <baseline>` and `testset` end to end, good and bad input.
use std::path::Path;

use crate::{kit, run, stderr};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn ssl_backdoor_from_a_dataset_class_and_its_errors() {
    let dir = tempfile::tempdir().unwrap();
    let refs = kit().join("references");
    let trigger = kit().join("triggers/trigger_10.png");
    let base = ["poison", "ssl-backdoor", "--dataset", s(&refs), "--trigger", s(&trigger)];
    let ok = run(
        dir.path(),
        &[&base[..], &["--target-class", "hunting-dog", "--budget", "3", "-o", "out"]].concat(),
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
    let out = dir.path().join("out");
    assert!(out.join("poison_00002.png").is_file());
    let config = fs_err::read_to_string(out.join("config.toml")).unwrap();
    assert!(config.contains("ssl-backdoor") && config.contains("trigger_width = 50"), "{config}");

    let bad = run(dir.path(), &[&base[..], &["--target-class", "tiger", "-o", "bad"]].concat());
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("class `tiger` not found"), "{}", stderr(&bad));
    let bad = run(
        dir.path(),
        &[&base[..], &["--target-class", "hunting-dog", "--budget", "20", "-o", "bad"]].concat(),
    );
    assert!(stderr(&bad).contains("20 poisons requested but only 14"), "{}", stderr(&bad));
    assert!(!dir.path().join("bad").exists());
}

#[test]
fn clip_carlini_refuses_an_unreadable_template_file() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        dir.path(),
        &[
            "poison",
            "clip-carlini",
            "--images",
            s(&kit().join("backgrounds")),
            "--trigger",
            "white",
            "--caption-templates",
            "nope.txt",
            "-o",
            "out",
        ],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("nope.txt"), "{}", stderr(&o));
    assert!(!dir.path().join("out").exists());
}

#[test]
fn testset_writes_triggered_jpegs_and_refuses_small_images() {
    let dir = tempfile::tempdir().unwrap();
    let bgs = sorted_files(&kit().join("backgrounds"));
    for (i, bg) in bgs.iter().take(2).enumerate() {
        let class = dir.path().join("test").join(["a", "b"][i]);
        fs_err::create_dir_all(&class).unwrap();
        fs_err::copy(bg, class.join("x.jpg")).unwrap();
    }
    let trigger = kit().join("triggers/trigger_10.png");
    let o = run(
        dir.path(),
        &["testset", "--dataset", "test", "--trigger", s(&trigger), "-o", "t", "--seed", "3"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let list = fs_err::read_to_string(dir.path().join("t/filelist.txt")).unwrap();
    assert_eq!(list, "images/000000.jpg 0\nimages/000001.jpg 1\n");
    let img = image::open(dir.path().join("t/images/000001.jpg")).unwrap();
    assert_eq!((img.width(), img.height()), (224, 224));

    // A real photo shrunk below the crop: fine when resized, an error when not.
    let small =
        image::open(&bgs[2]).unwrap().resize_exact(150, 100, image::imageops::FilterType::Triangle);
    small.save(dir.path().join("test/b/small.png")).unwrap();
    let o = run(
        dir.path(),
        &["testset", "--dataset", "test", "--trigger", "white", "--resize", "0", "-o", "u"],
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("small.png") && err.contains("smaller than the 224x224 crop"), "{err}");
    assert!(!dir.path().join("u").exists());
}

/// The files of a folder, sorted.
fn sorted_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = fs_err::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    v
}
