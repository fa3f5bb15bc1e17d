//! `rescore` on a tiny experiment's folder: flags in, tables out, nothing overwritten.
use crate::experiment::TINY;
use crate::{run, stderr};

#[test]
fn rescore_scores_the_saved_encoders_at_other_trigger_sizes_and_targets() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Two seeds and a report table: the printed table gains intervals and differences.
    let file =
        format!("seeds = [0, 1]\n{TINY}\n[report]\ncompare = \"ce\"\nasr_threshold = 25.0\n");
    std::fs::write(dir.join("tiny.toml"), file).unwrap();
    let o = run(dir, &["-q", "experiment", "tiny.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(table.contains("seeds with ASR ≥ 25 %") && table.contains(" of 2 |"), "{table}");
    assert!(table.contains("| ce | clean | 2 |"), "{table}");
    assert!(table.contains("95 % Student t"), "{table}");
    let out = dir.join("results/tiny");

    let args = [
        "-q",
        "rescore",
        "results/tiny",
        "--trigger-sizes",
        "4,6",
        "--targets",
        "0,2",
        "--probe-seeds",
        "1",
    ];
    let o = run(dir, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let md = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(md, std::fs::read_to_string(out.join("rescore.md")).unwrap());
    assert!(md.contains("## Target class 2") && md.contains("ASR % at 6 px"), "{md}");
    assert!(md.contains("| ce | 2 |") && md.contains("probe seeds 1;"), "{md}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("rescore.json")).unwrap()).unwrap();
    assert_eq!(json["trigger_sizes"], serde_json::json!([4, 6]));
    assert_eq!(json["runs"].as_array().unwrap().len(), 6, "baseline, clean and ce at two seeds");

    // Not again without --force; a class the data lacks is named.
    let o = run(dir, &args);
    assert!(!o.status.success() && stderr(&o).contains("--force"), "{}", stderr(&o));
    let o = run(dir, &["-q", "rescore", "results/tiny", "--targets", "7", "--force"]);
    assert!(!o.status.success() && stderr(&o).contains("3 downstream classes"), "{}", stderr(&o));
    let o = run(dir, &["-q", "rescore", "nowhere"]);
    assert!(!o.status.success() && stderr(&o).contains("nowhere"), "{}", stderr(&o));
}
