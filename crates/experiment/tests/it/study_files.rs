//! The pre-registered files of docs/study/paper.md: each figure is Table 1's setting with one
//! thing changed, and each other-world piece is a setting chosen on the selection seeds,
//! copied unchanged but for its name and seeds. A later edit that changes anything else in
//! a pre-registered file fails here.
use std::path::{Path, PathBuf};

use corruptencoder_experiment::{ArmConfig, ExperimentConfig};
use corruptencoder_poison::{AttackConfig, TriggerPlacement};

fn study_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/study")
}

/// The file as written (paths as in the text, not resolved), parsed and validated.
fn load(name: &str) -> ExperimentConfig {
    let path = study_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let c: ExperimentConfig =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{name} does not parse: {e}"));
    c.validate().unwrap_or_else(|e| panic!("{name} is invalid: {e}"));
    c
}

/// A figure's swept parameter and its values (`None`: no sweep).
type Sweep<'a> = Option<(&'a str, &'a [f64])>;

fn arm<'a>(c: &'a ExperimentConfig, name: &str) -> &'a ArmConfig {
    c.arms.iter().find(|a| a.name == name).unwrap_or_else(|| panic!("no arm {name}"))
}

/// `figure` with its name, seeds, sweep, arms and report taken from `table` must be `table`.
fn same_setting_as(figure: &ExperimentConfig, table: &ExperimentConfig, file: &str) {
    let mut f = figure.clone();
    f.name = table.name.clone();
    f.seeds = table.seeds.clone();
    f.sweep = table.sweep.clone();
    f.arms = table.arms.clone();
    f.report = table.report.clone();
    assert_eq!(&f, table, "{file} differs from Table 1's setting beyond its figure");
}

#[test]
fn the_figures_are_table_1_with_one_thing_changed_at_seeds_3_to_5() {
    let table = load("paper/table1.toml");
    assert_eq!(table.seeds, [3, 4, 5, 6, 7]);
    assert!(table.sweep.is_none());
    let ce = arm(&table, "corruptencoder");
    let against = {
        let mut a = ce.clone();
        a.name = "corruptencoder-against-object".into();
        let Some(AttackConfig::Corruptencoder(c)) = &mut a.attack else { panic!("{a:?}") };
        assert_eq!(c.trigger_placement, TriggerPlacement::Centred);
        c.trigger_placement = TriggerPlacement::AgainstObject;
        a
    };
    // (file, swept parameter and values, arms)
    let figures: [(&str, Sweep, Vec<ArmConfig>); 6] = [
        ("paper/ratio.toml", Some(("poison_ratio", &[0.005, 0.01, 0.02])), vec![ce.clone()]),
        ("paper/references.toml", Some(("references", &[3.0, 5.0])), vec![ce.clone()]),
        (
            "paper/layout.toml",
            Some(("area_ratio", &[1.75, 2.5, 3.0])),
            vec![ce.clone(), against.clone()],
        ),
        ("paper/placement.toml", None, vec![against.clone()]),
        ("paper/trigger-size.toml", Some(("trigger_size", &[32.0, 64.0])), vec![ce.clone()]),
        ("paper/capacity-w32.toml", None, vec![arm(&table, "clean").clone(), ce.clone()]),
    ];
    for (file, sweep, arms) in figures {
        let f = load(file);
        assert_eq!(f.seeds, [3, 4, 5], "{file}");
        let swept = f.sweep.as_ref().map(|s| (s.parameter.as_str(), s.values.as_slice()));
        assert_eq!(swept, sweep, "{file}");
        assert_eq!(f.arms, arms, "{file}");
        // Table 1's own value of the swept setting is not run again.
        if let Some((parameter, values)) = sweep {
            let table_value = match parameter {
                "poison_ratio" => table.attack.poison_ratio,
                "references" => table.attack.references as f64,
                "area_ratio" => 2.0,
                "trigger_size" => 48.0,
                other => panic!("{file}: {other}"),
            };
            assert!(!values.contains(&table_value), "{file} runs Table 1's point again");
        }
        let mut widened = table.clone();
        if file.starts_with("paper/capacity") {
            assert_eq!(f.pretrain.encoder.width, 32, "{file}");
            widened.pretrain.encoder.width = 32;
        }
        same_setting_as(&f, &widened, file);
    }
    let w64 = load("paper/capacity-w64.toml");
    let mut widened = table.clone();
    widened.pretrain.encoder.width = 64;
    assert_eq!(w64.arms, [arm(&table, "clean").clone(), ce.clone()]);
    same_setting_as(&w64, &widened, "paper/capacity-w64.toml");
}

#[test]
fn the_other_world_pieces_copy_their_chosen_settings_but_for_name_and_seeds() {
    for (piece, chosen, seeds, arms) in [
        ("paper/objects.toml", "world/objects-simclr100-noblur-attack.toml", &[3, 4, 5][..], None),
        ("paper/real.toml", "real/a4-simclr-black-seeds.toml", &[3, 4, 5], None),
        ("paper/clip.toml", "defenses/heldout-clip.toml", &[3, 4, 5, 6, 7], Some(3)),
    ] {
        let p = load(piece);
        let mut c = load(chosen);
        assert_eq!(p.seeds, seeds, "{piece}");
        c.name = p.name.clone();
        c.seeds = p.seeds.clone();
        if let Some(n) = arms {
            c.arms.truncate(n);
        }
        assert_eq!(p, c, "{piece} differs from {chosen} beyond its name and seeds");
    }
    // The CLIP piece's seeds 3-5 are the held-out CLIP study's runs of the same arms.
    let clip = load("paper/clip.toml");
    let names: Vec<_> = clip.arms.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["clip-clean", "clip-carlini", "clip-corruptencoder"]);
}
