use std::path::Path;

use crate::{kit, run, stderr};

fn poison_args<'a>(k: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "poison",
        "corruptencoder",
        "--references",
        &format!("{k}/references/hunting-dog"),
        "--backgrounds",
        &format!("{k}/backgrounds"),
        "--trigger",
        &format!("{k}/triggers/trigger_10.png"),
        "--num-poisons",
        "6",
        "--out",
        out,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn args_ref(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn poison_writes_the_output_folder_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let k = kit().canonicalize().unwrap();
    let k = k.to_str().unwrap();
    let clean = dir.path().join("clean.txt");
    // As many clean images as poisons at least: more poisons than clean images is refused.
    fs_err::write(&clean, "/data/a.JPEG 3\n/data/b.JPEG 7\n/d/c 0\n/d/d 0\n/d/e 0\n/d/f 0\n")
        .unwrap();
    let extra = ["--seed", "3", "--clean-list", clean.to_str().unwrap(), "-q"];
    let args = poison_args(k, "out", &extra);
    let o = run(dir.path(), &args_ref(&args));
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.path().join("out");
    let manifest = fs_err::read_to_string(out.join("manifest.jsonl")).unwrap();
    let recs: Vec<serde_json::Value> =
        manifest.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(recs.len(), 6);
    for (i, r) in recs.iter().enumerate() {
        let file = r["file"].as_str().unwrap();
        let img = image::open(out.join(file)).unwrap();
        assert_eq!(
            [img.width(), img.height()],
            [r["size"][0].as_u64().unwrap() as u32, r["size"][1].as_u64().unwrap() as u32]
        );
        assert_eq!(r["kind"], "corruptencoder");
        assert_eq!(r["seed"], 3);
        assert_eq!(r["index"], i);
        assert_eq!(r["trigger_box"].as_array().unwrap().len(), 4);
    }
    let list = fs_err::read_to_string(out.join("filelist.txt")).unwrap();
    let lines: Vec<_> = list.lines().collect();
    assert_eq!(lines[..2], ["/data/a.JPEG 3", "/data/b.JPEG 7"]);
    assert_eq!(lines.len(), 12);
    let config: toml::Table =
        fs_err::read_to_string(out.join("config.toml")).unwrap().parse().unwrap();
    assert_eq!(config["seed"].as_integer(), Some(3));
    assert_eq!(config["attack"]["kind"].as_str(), Some("corruptencoder"));
    assert_eq!(config["attack"]["area_ratio"].as_float(), Some(2.0));
    assert_eq!(config["num_poisons"].as_integer(), Some(6));
    assert!(out.join("preview.png").is_file());

    // Same command again: refused, old output intact.
    let o = run(dir.path(), &args_ref(&args));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    assert!(out.join("manifest.jsonl").is_file());
    // With --force: replaced, and identical (same seed).
    let mut forced = args.clone();
    forced.push("--force".into());
    let o = run(dir.path(), &args_ref(&forced));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(fs_err::read_to_string(out.join("manifest.jsonl")).unwrap(), manifest);

    // The folder's config.toml reruns the attack through the generic door, identically.
    let o = run(
        dir.path(),
        &["poison", "from-file", "out/config.toml", "--num-poisons", "6", "-o", "again", "-q"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let again = fs_err::read_to_string(dir.path().join("again/manifest.jsonl")).unwrap();
    let again: Vec<serde_json::Value> =
        again.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_ne!(again[0]["sha256"], recs[0]["sha256"], "seed 0, not the file's 3");
    let o = run(
        dir.path(),
        &[
            "poison",
            "from-file",
            "out/config.toml",
            "--num-poisons",
            "6",
            "-o",
            "third",
            "--seed",
            "3",
            "-q",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let third = fs_err::read_to_string(dir.path().join("third/manifest.jsonl")).unwrap();
    let third: Vec<serde_json::Value> =
        third.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(third, recs);
}

#[test]
fn bad_input_names_the_problem_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let k = kit().canonicalize().unwrap();
    let k = k.to_str().unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            {
                let mut a = poison_args(k, "out", &[]);
                a[3] = "/nonexistent/refs".into();
                a
            },
            "/nonexistent/refs",
        ),
        (poison_args(k, "out", &["--trigger-size", "300"]), "does not fit"),
        (poison_args(k, "out", &["--support-ratio", "0.5"]), "--support-images"),
        (poison_args(k, "out", &["--area-ratio", "0.5"]), "--area-ratio"),
        (
            {
                let mut a = poison_args(k, "out", &[]);
                a[7] = "/nonexistent/trigger.png".into();
                a
            },
            "trigger.png",
        ),
    ];
    for (args, needle) in cases {
        let o = run(dir.path(), &args_ref(&args));
        assert!(!o.status.success(), "{args:?}");
        let err = stderr(&o);
        assert!(err.contains(needle), "{needle}: {err}");
        assert!(!Path::new(&dir.path().join("out")).exists(), "{args:?}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "{args:?}");
    }
}

#[test]
fn budget_as_a_ratio_of_the_clean_list() {
    let dir = tempfile::tempdir().unwrap();
    let k = kit().canonicalize().unwrap();
    let k = k.to_str().unwrap();
    let clean = dir.path().join("clean.txt");
    fs_err::write(&clean, (0..8).map(|i| format!("/d/{i}.JPEG {i}\n")).collect::<String>())
        .unwrap();
    let mut args = poison_args(k, "out", &["--clean-list", clean.to_str().unwrap(), "-q"]);
    let n = args.iter().position(|a| a == "--num-poisons").unwrap();
    args[n + 1] = "25%".into();
    let o = run(dir.path(), &args_ref(&args));
    assert!(o.status.success(), "{}", stderr(&o));
    let list = fs_err::read_to_string(dir.path().join("out/filelist.txt")).unwrap();
    assert_eq!(list.lines().filter(|l| l.ends_with(" -1")).count(), 2);
    // A ratio without a clean list to take it of is an error.
    args.retain(|a| a != "--clean-list" && !a.ends_with("clean.txt"));
    args.push("--force".into());
    let o = run(dir.path(), &args_ref(&args));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("clean"), "{}", stderr(&o));
}
