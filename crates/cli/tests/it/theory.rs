use std::path::Path;

use corruptencoder_data::{ImageLimits, load_references};
use corruptencoder_poison::resized_object_size;
use corruptencoder_theory::{Layout, TriggerGrid, TriggerMap, render_trigger_map};

use crate::{kit, run, stderr};

/// One row of the sweep table.
#[derive(Debug)]
struct Row {
    ratio: f64,
    background: u32,
    pair_centred: f64,
    best_pair: f64,
    best_centred: bool,
    best_overall: bool,
}

/// The rows of each sweep table (a `ratio ...` header starts one).
fn tables(out: &str) -> Vec<Vec<Row>> {
    let mut tables: Vec<Vec<Row>> = Vec::new();
    for line in out.lines() {
        if line.trim_start().starts_with("ratio") {
            tables.push(Vec::new());
            continue;
        }
        // ratio bg p1 p2 pair +- se @positions.. best-offset best-pair [<- marks]
        let t: Vec<&str> = line.split_whitespace().collect();
        // (The per-reference summary has a size, not a number, second.)
        if t.len() < 9 || t[5] != "+-" {
            continue;
        }
        let (Some(table), Ok(ratio), Ok(background)) =
            (tables.last_mut(), t[0].parse(), t[1].parse())
        else {
            continue;
        };
        let end = t.iter().position(|s| *s == "<-").unwrap_or(t.len());
        let num = |k: usize| t[k].parse::<f64>().unwrap();
        table.push(Row {
            ratio,
            background,
            pair_centred: num(4),
            best_pair: num(end - 1),
            best_centred: line.contains("<- best centred"),
            best_overall: line.contains("best overall"),
        });
    }
    tables
}

/// Checks that exactly one row is marked best for a centred trigger and one best overall,
/// and that they are the rows with the highest probabilities; returns the first.
fn check_marks(rows: &[Row]) -> &Row {
    let centred: Vec<&Row> = rows.iter().filter(|r| r.best_centred).collect();
    let overall: Vec<&Row> = rows.iter().filter(|r| r.best_overall).collect();
    assert_eq!((centred.len(), overall.len()), (1, 1), "{rows:?}");
    let max = |f: fn(&Row) -> f64| rows.iter().map(f).fold(0.0, f64::max);
    assert_eq!(centred[0].pair_centred, max(|r| r.pair_centred), "{rows:?}");
    assert_eq!(overall[0].best_pair, max(|r| r.best_pair), "{rows:?}");
    centred[0]
}

/// Size of the heatmap the command draws for a `width x height` scene (720 px target).
fn heatmap_size(width: u32, height: u32, trigger: u32, stride: u32) -> (u32, u32) {
    let grid = TriggerGrid::whole_image(width, height, trigger, stride);
    let map = TriggerMap { grid, samples: 1, counts: vec![0; (grid.nx * grid.ny) as usize] };
    render_trigger_map(&map, |_, _| false, None, 720).dimensions()
}

fn check_heatmap(path: &Path, scene: (u32, u32), stride: u32) {
    let img = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let expected = heatmap_size(scene.0, scene.1, 40, stride);
    assert_eq!((img.width(), img.height()), expected, "{}", path.display());
}

#[test]
fn theory_marks_the_optimum_and_writes_the_heatmap() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "theory",
        "--samples",
        "20000",
        "--ratios",
        "1.5:2.5:0.5",
        "--heatmap",
        "map.png",
        "--heatmap-stride",
        "8",
        "-q",
    ];
    let o = run(dir.path(), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("object 400x300"), "{out}");
    let tables = tables(&out);
    assert_eq!(tables.len(), 1, "{out}");
    let rows = &tables[0];
    let ratios: Vec<f64> = rows.iter().map(|r| r.ratio).collect();
    assert_eq!(ratios, [1.5, 2.0, 2.5], "{out}");
    // Backgrounds are int(ratio * object width).
    assert_eq!(rows.iter().map(|r| r.background).collect::<Vec<_>>(), [600, 800, 1000]);
    let best = check_marks(rows);
    // The heatmap is drawn at the best centred ratio, on a background x object-height scene.
    let scene = (best.background, 300);
    assert!(out.contains(&format!("({}x{}): map.png", scene.0, scene.1)), "{out}");
    check_heatmap(&dir.path().join("map.png"), scene, 8);
}

#[test]
fn theory_takes_the_object_size_from_real_references() {
    let dir = tempfile::tempdir().unwrap();
    let refs_dir = kit().join("references/hunting-dog");
    let args = [
        "theory",
        "--reference",
        refs_dir.to_str().unwrap(),
        "--samples",
        "10000",
        "--ratios",
        "1.5:2.5:0.5",
        "--heatmap",
        "map.png",
        "--heatmap-stride",
        "16",
        "-q",
    ];
    let o = run(dir.path(), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    // The expected sizes: each reference's object box, resized by the generator's rule.
    let refs = load_references(&refs_dir, &ImageLimits::default()).unwrap().references;
    assert!(refs.len() > 1, "the kit's hunting-dog folder has several references");
    let tables = tables(&out);
    assert_eq!(tables.len(), refs.len(), "{out}");
    for (r, rows) in refs.iter().zip(&tables) {
        let b = r.object_box;
        let (w, h) = resized_object_size((b.w, b.h), 800, Layout::Left);
        assert!(out.contains(&format!("reference {}, object {w}x{h}:", r.name)), "{out}");
        // Each table is swept over that object's width.
        let bgs: Vec<u32> = rows.iter().map(|r| r.background).collect();
        let expect: Vec<u32> = [1.5, 2.0, 2.5].iter().map(|k| (k * f64::from(w)) as u32).collect();
        assert_eq!(bgs, expect, "{}: {out}", r.name);
        let best = check_marks(rows);
        // One heatmap per reference, named after it, on that reference's best scene.
        check_heatmap(&dir.path().join(format!("map-{}.png", r.name)), (best.background, h), 16);
    }
    assert!(out.contains("per-reference optimum"), "{out}");
    assert!(!dir.path().join("map.png").exists());

    // --object and --reference exclude each other.
    let both = ["theory", "--reference", refs_dir.to_str().unwrap(), "--object", "10x10"];
    let o = run(dir.path(), &both);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
}

/// A reader that stops early (`theory | head`) ends the run quietly: no panic message.
#[test]
fn theory_into_a_closed_pipe_does_not_panic() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_corruptencoder"))
        .args(["theory", "--samples", "2000", "--ratios", "1.5:2.5:0.5", "-q"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end before the first line is written.
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(o.status.code(), Some(101), "{err}");
}
