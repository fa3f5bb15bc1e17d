//! End-to-end runs of tiny experiments on the embedded synthetic data.
use std::{path::Path, sync::Mutex};

use corruptencoder_core::{NoProgress, Progress};
use corruptencoder_data::{ImageLimits, SyntheticConfig, SyntheticWorld};
use corruptencoder_eval::{ClassifierConfig, LinearProbeConfig};
use corruptencoder_experiment::*;
use corruptencoder_poison::AttackConfig;
use corruptencoder_report::RunResult;
use corruptencoder_train::burn::prelude::Device;
use corruptencoder_train::{Arch, EncoderConfig, EvalTransform, MethodConfig, SimclrConfig, Stem};

/// Records what the runner reports.
#[derive(Default)]
struct Record {
    events: Mutex<Vec<String>>,
}

impl Observer for Record {
    fn stage(&self, label: &str, stage: &str) {
        self.events.lock().unwrap().push(format!("{label}: {stage}"));
    }
    fn run_finished(&self, r: &RunResult, reused: bool) {
        let how = if reused { "reused" } else { "ran" };
        self.events.lock().unwrap().push(format!("{} seed {}: {how}", r.arm, r.seed));
    }
    fn progress(&self) -> &dyn Progress {
        &NoProgress
    }
}

impl Record {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.events.lock().unwrap())
    }
}

/// Two arms on 16 px images, one epoch: seconds, not minutes.
fn tiny() -> ExperimentConfig {
    let mut c = ExperimentConfig::demo();
    c.name = "tiny".into();
    c.data = DataConfig::Synthetic(SyntheticData {
        world: SyntheticConfig {
            classes: 3,
            size: 16,
            reference_size: 48,
            seed: 1,
            ..Default::default()
        },
        pretrain: 24,
        downstream_train: 12,
        downstream_test: 9,
        backgrounds: 4,
        background_size: (96, 72),
    });
    c.attack.poison_ratio = 0.1;
    c.arms[1].attack.as_mut().unwrap().set_field("trigger_size", 8.0).unwrap();
    c.testset.trigger_size = 4;
    c.eval.transform = EvalTransform::crop_only(16);
    c.eval.classifier =
        ClassifierConfig::Linear(LinearProbeConfig { epochs: 3, ..Default::default() });
    c.pretrain.epochs = 1;
    c.pretrain.batch_size = 8;
    c.pretrain.views.size = 16;
    c.pretrain.encoder = EncoderConfig::new(Arch::SmallCnn, Stem::Cifar, 4);
    c.pretrain.method = MethodConfig::Simclr(SimclrConfig::default());
    c.pretrain.monitor.every = 1;
    c.pretrain.monitor.knn.k = 3;
    c.arms.truncate(2); // clean, corruptencoder
    c
}

fn opts(out: &Path) -> RunOptions {
    RunOptions {
        out: out.into(),
        force: false,
        device: Device::flex(),
        limits: ImageLimits::default(),
        provenance: Default::default(),
    }
}

#[test]
fn experiment_writes_reports_and_resumes_skipping_finished_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("exp");
    let config = tiny();
    let rec = Record::default();
    let results = run_experiment(&config, &opts(&out), &rec).unwrap();
    let first = rec.take();
    assert!(first.contains(&"corruptencoder seed 0: poisons".to_owned()), "{first:?}");
    assert!(first.contains(&"clean seed 0: pretrain".to_owned()));
    assert_eq!(first[0], "random-encoder seed 0: encoder", "the baseline runs first: {first:?}");
    assert_eq!(results.runs.len(), 3);
    let [random, clean, ce] = &results.runs[..] else { unreachable!() };
    // The baseline is the arms' starting point: no poisons, no training, same probe.
    assert_eq!(
        (random.arm.as_str(), random.poisons, random.asr_eligible),
        ("random-encoder", 0, 6)
    );
    assert!(random.epoch_loss.is_empty() && random.gain.is_none());
    assert!(out.join("runs/random-encoder/seed-0/encoder.safetensors").is_file());
    assert_eq!(clean.gain, Some(clean.accuracy - random.accuracy));
    assert_eq!(ce.gain, Some(ce.accuracy - random.accuracy));
    assert_eq!(results.summary[0].arm, "random-encoder");
    assert!(results.summary[1].gain.is_some());
    // The monitor measured each trained encoder before and after its one epoch (3 steps).
    for run in [clean, ce] {
        let at: Vec<(usize, u64)> = run.monitor.iter().map(|m| (m.epoch, m.step)).collect();
        assert_eq!(at, [(0, 0), (1, 3)], "{}", run.arm);
        assert!(run.monitor.iter().all(|m| m.asr.is_some() && m.target_patch_asr.is_some()));
    }
    assert!(random.monitor.is_empty());
    // Target-patch ASR: every run scored with a target-object patch where the trigger goes.
    for run in &results.runs {
        let c = run.target_patch_asr.expect("the synthetic world has reference objects");
        assert!(
            (0.0..=100.0).contains(&c)
                && (c * 6.0 / 100.0 - (c * 6.0 / 100.0).round()).abs() < 1e-9
        );
    }
    let boxes = |set: &str| -> Vec<serde_json::Value> {
        std::fs::read_to_string(out.join(set).join("manifest.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["trigger_box"].clone())
            .collect()
    };
    assert_eq!(boxes("testset-ceiling"), boxes("testset"));
    assert!(boxes("testset").iter().all(|b| b.is_array()));
    assert_eq!((ce.poisons, ce.clean_images), (2, 24), "10% of 24, rounded");
    // Target class 0 holds 3 of the 9 test images; ASR counts the 6 others.
    assert_eq!(ce.asr_eligible, 6);
    assert_eq!(ce.epoch_loss.len(), 1);
    assert!(ce.epoch_loss[0].is_finite());

    // The poison set joins the clean list, poisons marked -1.
    let list = std::fs::read_to_string(out.join("runs/corruptencoder/seed-0/poisons/filelist.txt"))
        .unwrap();
    assert_eq!(list.lines().count(), 26);
    assert_eq!(list.lines().filter(|l| l.ends_with(" -1")).count(), 2);
    // The contact sheet of the poisons' views: two rows of two 16 px views at 8x.
    let sheet = image::open(out.join("runs/corruptencoder/seed-0/views.png")).unwrap();
    assert_eq!((sheet.width(), sheet.height()), (2 * 128 + 6, 2 * 130 + 2));
    assert!(!out.join("runs/clean/seed-0/views.png").exists(), "no poisons, no sheet");

    // Report files, with their images embedded.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.matches("data:image/png;base64,").count() >= 2, "poison preview + heatmap");
    assert!(html.contains("<svg") && html.contains("The training monitor"));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("| poisoning ratio | 10.00% (2 poisons per attack arm) |"), "{md}");
    assert!(md.contains("target-patch ASR %") && md.contains("gain over random"), "{md}");
    let json: corruptencoder_report::Results =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    // serde_json's default float parser may miss the last bit of a long number (its
    // `float_roundtrip` feature would rebuild burn), so losses compare with a tolerance.
    let strip = |r: &corruptencoder_report::Results| {
        let mut r = r.clone();
        r.runs.iter_mut().for_each(|run| run.epoch_loss.clear());
        r
    };
    assert_eq!(strip(&json), strip(&results));
    for (a, b) in json.runs.iter().zip(&results.runs) {
        assert!(a.epoch_loss.iter().zip(&b.epoch_loss).all(|(x, y)| (x - y).abs() < 1e-12));
    }

    // Same experiment again: nothing runs.
    let again = run_experiment(&config, &opts(&out), &rec).unwrap();
    assert_eq!(
        rec.take(),
        ["random-encoder seed 0: reused", "clean seed 0: reused", "corruptencoder seed 0: reused"]
    );
    assert_eq!(strip(&again), strip(&results));

    // A crash after pre-training: the encoder is kept, evaluation runs again alone.
    let run = out.join("runs/corruptencoder/seed-0");
    std::fs::remove_file(run.join("result.json")).unwrap();
    std::fs::remove_file(run.join("features.safetensors")).unwrap();
    let resumed = run_experiment(&config, &opts(&out), &rec).unwrap();
    assert_eq!(
        rec.take(),
        [
            "random-encoder seed 0: reused",
            "clean seed 0: reused",
            "corruptencoder seed 0: features",
            "corruptencoder seed 0: probe",
            "corruptencoder seed 0: ran"
        ]
    );
    assert_eq!(resumed.runs[2].accuracy, results.runs[2].accuracy, "same encoder, same probe seed");
    assert_eq!(resumed.runs[2].asr, results.runs[2].asr);
}

#[test]
fn a_different_experiment_in_the_folder_is_refused_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("exp");
    let mut config = tiny();
    config.arms.truncate(1);
    run_experiment(&config, &opts(&out), &Record::default()).unwrap();
    config.pretrain.optim.lr = 0.1;
    let err = run_experiment(&config, &opts(&out), &Record::default()).unwrap_err();
    assert!(matches!(err, Error::DifferentExperiment { .. }), "{err}");
    let old = std::fs::read_to_string(out.join("experiment.toml")).unwrap();
    // Forced but failing half-way (a batch larger than the data): the old experiment
    // stays whole, the new one waits in its staged folder.
    let mut failing = config.clone();
    failing.pretrain.batch_size = 1000;
    let forced = RunOptions { force: true, ..opts(&out) };
    assert!(run_experiment(&failing, &forced, &Record::default()).is_err());
    assert_eq!(std::fs::read_to_string(out.join("experiment.toml")).unwrap(), old);
    assert!(out.join("report.html").exists());
    run_experiment(&config, &forced, &Record::default()).unwrap();
    assert_ne!(std::fs::read_to_string(out.join("experiment.toml")).unwrap(), old);
    let partial = tmp.path().join(".exp.partial");
    assert!(!partial.exists(), "the staged folder became the experiment");
}

#[test]
fn arms_appended_to_a_finished_experiment_run_alone_and_join_its_report() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("exp");
    let mut config = tiny();
    config.pretrain.monitor.every = 0;
    config.arms.truncate(1); // clean
    run_experiment(&config, &opts(&out), &Record::default()).unwrap();
    let mut more = config.clone();
    more.arms.push(tiny().arms[1].clone()); // corruptencoder
    let rec = Record::default();
    let results = run_experiment(&more, &opts(&out), &rec).unwrap();
    let events = rec.take();
    assert!(events.contains(&"clean seed 0: reused".to_owned()), "{events:?}");
    assert!(events.contains(&"corruptencoder seed 0: ran".to_owned()), "{events:?}");
    assert_eq!(results.runs.len(), 3);
    let written = std::fs::read_to_string(out.join("experiment.toml")).unwrap();
    assert_eq!(written, more.to_toml(), "the folder now names the longer file");
}

#[test]
fn a_fixed_poison_seed_gives_every_run_the_same_poisons_and_its_own_training() {
    let manifest = |out: &Path, seed: u64| {
        std::fs::read_to_string(
            out.join(format!("runs/corruptencoder/seed-{seed}/poisons/manifest.jsonl")),
        )
        .unwrap()
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut config = tiny();
    config.arms.remove(0); // corruptencoder only
    config.seeds = vec![0, 1];
    config.pretrain.monitor.every = 0;
    let free = tmp.path().join("free");
    let by_run = run_experiment(&config, &opts(&free), &Record::default()).unwrap();
    assert_ne!(manifest(&free, 0), manifest(&free, 1), "by default each seed draws its poisons");

    config.attack.poison_seed = Some(1);
    let fixed = tmp.path().join("fixed");
    let runs = run_experiment(&config, &opts(&fixed), &Record::default()).unwrap().runs;
    assert_eq!(manifest(&fixed, 0), manifest(&fixed, 1));
    assert_eq!(manifest(&fixed, 0), manifest(&free, 1), "the poisons are seed 1's");
    // Seed 0 still draws its own weights and views: its training differs from seed 1's,
    // and with seed 1's poisons it no longer trains as seed 0 did with its own.
    let loss = |r: &RunResult| r.epoch_loss.clone();
    let ce = |runs: &[RunResult], seed: u64| {
        runs.iter().find(|r| r.arm == "corruptencoder" && r.seed == seed).unwrap().clone()
    };
    let (ce0, ce1) = (ce(&runs, 0), ce(&runs, 1));
    let seeds: Vec<u64> = runs.iter().map(|r| r.seed).collect();
    assert_eq!(seeds, [0, 0, 1, 1], "seed by seed, every arm of a seed together");
    assert_ne!(loss(&ce0), loss(&ce1));
    assert_ne!(loss(&ce0), loss(&ce(&by_run.runs, 0)));
    assert_eq!(loss(&ce1), loss(&ce(&by_run.runs, 1)), "seed 1 with its own poisons, as before");
    let md = std::fs::read_to_string(fixed.join("report.md")).unwrap();
    assert!(md.contains("| poisons drawn with seed | 1 in every run |"), "{md}");
}

#[test]
fn a_clip_attack_runs_as_an_experiment_arm() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("exp");
    let mut config = tiny();
    config.arms = vec![ArmConfig {
        name: "clip-ce".into(),
        attack: Some(
            toml::from_str(
                "kind = \"clip-corruptencoder\"\ntrigger_size = 4\nimage_size = 16\nclass_name = \"stripes\"",
            )
            .unwrap(),
        ),
        defense: None,
    }];
    let results = run_experiment(&config, &opts(&out), &Record::default()).unwrap();
    let run = &results.runs[1];
    assert_eq!((run.attack.as_str(), run.poisons), ("clip-corruptencoder", 2));
    let poisons = out.join("runs/clip-ce/seed-0/poisons");
    let captions = std::fs::read_to_string(poisons.join("captions.csv")).unwrap();
    assert_eq!(captions.lines().count(), 3, "header and two captioned poisons: {captions}");
    assert!(captions.contains("stripes"), "{captions}");
    assert!(run.accuracy.is_finite() && run.asr_eligible == 6);
}

#[test]
fn experiment_files_parse_with_defaults_and_report_bad_values() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("e.toml");
    std::fs::write(
        &file,
        r#"
seeds = [1, 2]
[data]
source = "files"
pretrain = "pre/list.txt"
downstream_train = "train"
downstream_test = "test"
references = "refs"
backgrounds = "bgs"
trigger = "trigger.png"
[attack]
target = 33
[[arms]]
name = "clean"
[[arms]]
name = "ce"
attack = { kind = "corruptencoder" }
"#,
    )
    .unwrap();
    let c = ExperimentConfig::from_file(&file).unwrap();
    assert_eq!(c.seeds, [1, 2]);
    assert_eq!((c.attack.poison_ratio, c.pretrain.epochs), (0.005, 200));
    let Some(AttackConfig::Corruptencoder(ce)) = &c.arms[1].attack else { panic!("CE arm") };
    assert_eq!(ce.trigger_size, 40, "the authors' default");
    let DataConfig::Files(f) = &c.data else { panic!("files") };
    assert_eq!(f.pretrain, tmp.path().join("pre/list.txt"), "relative to the file");
    // The TOML round trip keeps everything.
    let back: ExperimentConfig = toml::from_str(&c.to_toml()).unwrap();
    assert_eq!(back, c);

    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("kind = \"corruptencoder\"", "kind = \"ssl-backdoor\""))
        .unwrap();
    let err = anyhow_chain(ExperimentConfig::from_file(&file).unwrap_err());
    assert!(err.contains("arm `ce`") && err.contains("target_images"), "{err}");
    std::fs::write(
        &file,
        text.replace("kind = \"corruptencoder\"", "kind = \"corruptencoder\", num_poisons = 5"),
    )
    .unwrap();
    let err = anyhow_chain(ExperimentConfig::from_file(&file).unwrap_err());
    assert!(err.contains("num_poisons"), "the budget is poison_ratio: {err}");
    std::fs::write(&file, text.replace("name = \"ce\"", "name = \"clean\"")).unwrap();
    let err = anyhow_chain(ExperimentConfig::from_file(&file).unwrap_err());
    assert!(err.contains("arms.name = clean: two arms have this name"), "{err}");
    std::fs::write(&file, text.replace("name = \"clean\"", "name = \"random-encoder\"")).unwrap();
    let err = anyhow_chain(ExperimentConfig::from_file(&file).unwrap_err());
    assert!(err.contains("arms.name = random-encoder: is the baseline's name"), "{err}");
    let mut small = tiny();
    small.eval.transform = EvalTransform::default();
    let err = small.validate().unwrap_err().to_string();
    assert!(err.contains("set transform = { resize = 0, crop = 16 }"), "{err}");
    std::fs::write(&file, text.replace("target = 33", "target = 33\nbogus = 1")).unwrap();
    let err = format!("{:#}", anyhow_chain(ExperimentConfig::from_file(&file).unwrap_err()));
    assert!(err.contains("bogus"), "{err}");
}

fn anyhow_chain(e: Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(c) = src {
        s += &format!(": {c}");
        src = c.source();
    }
    s
}

#[test]
fn the_demo_presets_are_valid_and_match_their_files_in_configs() {
    let demo = ExperimentConfig::demo();
    let full = ExperimentConfig::demo_full();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for (preset, name) in [(&demo, "demo.toml"), (&full, "demo-full.toml")] {
        preset.validate().unwrap();
        assert_eq!(preset.arms.len(), 4);
        let text = std::fs::read_to_string(root.join("configs").join(name)).unwrap();
        assert_eq!(
            toml::from_str::<ExperimentConfig>(&text).unwrap(),
            *preset,
            "configs/{name} is stale: write it with `corruptencoder demo --print-config`"
        );
    }
    // The long demo is the short one trained longer with BYOL and one reference, nothing else.
    assert_eq!((demo.attack.references, full.attack.references), (3, 1));
    let mut longer = demo.clone();
    longer.name = full.name.clone();
    longer.pretrain.epochs = full.pretrain.epochs;
    longer.pretrain.monitor = full.pretrain.monitor;
    longer.attack.references = 1;
    longer.pretrain.method = full.pretrain.method.clone();
    assert!(full.pretrain.epochs > demo.pretrain.epochs);
    assert_eq!(longer, full);
    // The study's run of the setting (docs/study/backdoor.md) is the long demo.
    let file = "docs/study/backdoor/s16-byol-refs1-full.toml";
    let mut study = ExperimentConfig::from_file(&root.join(file)).unwrap();
    study.name = full.name.clone();
    assert_eq!(study, full, "{file} differs from demo --full");
}

#[test]
fn the_world_study_files_select_their_world_and_differ_only_in_it_and_training() {
    // docs/study/world.md compares worlds by these files: each must parse, validate, pick
    // its world by `kind`, and share every other data, probe and view setting.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/study/world");
    let load = |name: &str| {
        let c = ExperimentConfig::from_file(&dir.join(format!("{name}.toml"))).unwrap();
        c.validate().unwrap();
        c
    };
    let objects = load("objects-moco20");
    let patterns = load("patterns-moco20");
    let world = |c: &ExperimentConfig| match &c.data {
        DataConfig::Synthetic(s) => s.world.clone(),
        DataConfig::Files(_) => panic!("synthetic"),
    };
    assert_eq!(world(&objects).kind, SyntheticWorld::Objects);
    assert_eq!(world(&patterns).kind, SyntheticWorld::Patterns);
    let mut as_patterns = objects.clone();
    if let DataConfig::Synthetic(s) = &mut as_patterns.data {
        s.world.kind = SyntheticWorld::Patterns;
    }
    as_patterns.name = patterns.name.clone();
    assert_eq!(as_patterns, patterns);
    assert!(matches!(&objects.pretrain.method, MethodConfig::MocoV2(m) if m.queue_size == 1000));
    assert_eq!(objects.pretrain.epochs, 20);
    for name in ["objects-untrained", "patterns-untrained"] {
        let u = load(name);
        assert_eq!((u.pretrain.epochs, u.pretrain.optim.lr), (1, 1e-7), "{name}");
        assert_eq!(u.eval, objects.eval, "{name}: the same probe");
    }
}

#[test]
fn the_reference_preset_states_the_papers_setting() {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/imagenet100-reference.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let c: ExperimentConfig = toml::from_str(&text).unwrap();
    c.validate().unwrap();
    let p = &c.pretrain;
    assert_eq!((p.epochs, p.batch_size, p.optim.lr, p.views.size), (200, 256, 0.06, 224));
    assert_eq!(p.encoder, EncoderConfig::default(), "ResNet-18, ImageNet stem, width 64");
    assert!(matches!(&p.method, MethodConfig::MocoV2(m) if m.queue_size == 65536));
    assert_eq!((c.attack.target, c.attack.poison_ratio, c.attack.references), (33, 0.005, 3));
    assert_eq!(c.eval.transform, EvalTransform::default(), "Resize 256, CenterCrop 224");
}

#[test]
fn every_preset_in_configs_parses_and_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let c: ExperimentConfig = toml::from_str(&text)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
            c.validate().unwrap_or_else(|e| panic!("{} is invalid: {e}", path.display()));
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} presets found in {}", dir.display());
}

// Detector defenses as arms.
mod cleanclip;
mod detection;
// Property tests of the experiment-file parser.
mod fuzz;
// The report's statistics and settings.
mod report;
// Re-scoring saved encoders.
mod rescore;
// Shards sharing one folder, and the report of the runs present.
mod shard;
// The pre-registered study files of docs/study/paper.md.
mod study_files;

#[test]
fn an_attack_arm_trains_from_a_path_label_list_with_relative_paths() {
    // A generated world's files, then a clean list in the authors' format whose paths are
    // relative to the list's own folder.
    let tmp = tempfile::tempdir().unwrap();
    let mut world = tiny();
    world.arms.truncate(1);
    world.pretrain.monitor.every = 0;
    let generated = tmp.path().join("generated");
    run_experiment(&world, &opts(&generated), &Record::default()).unwrap();
    let data = generated.join("data");
    let files = tmp.path().join("files");
    std::fs::create_dir_all(files.join("images")).unwrap();
    let mut list = String::new();
    let source = std::fs::read_to_string(data.join("pretrain/list.txt")).unwrap();
    for (i, line) in source.lines().enumerate() {
        let (path, label) = line.rsplit_once(' ').unwrap();
        let name = format!("{i:03}.png");
        std::fs::copy(data.join("pretrain").join(path), files.join("images").join(&name)).unwrap();
        list += &format!("images/{name} {label}\n");
    }
    std::fs::write(files.join("pretrain.txt"), list).unwrap();

    let mut config = tiny();
    config.arms.remove(0); // corruptencoder only
    config.pretrain.monitor.every = 0;
    config.data = DataConfig::Files(FileData {
        pretrain: files.join("pretrain.txt"),
        downstream_train: data.join("downstream-train"),
        downstream_test: data.join("downstream-test"),
        references: Some(data.join("references")),
        backgrounds: Some(data.join("backgrounds")),
        supports: None,
        target_images: None,
        trigger: data.join("trigger.png"),
        class_names: None,
    });
    let out = tmp.path().join("exp");
    let results = run_experiment(&config, &opts(&out), &Record::default()).unwrap();
    assert_eq!(results.runs.len(), 2);
    let filelist =
        std::fs::read_to_string(out.join("runs/corruptencoder/seed-0/poisons/filelist.txt"))
            .unwrap();
    let first = filelist.lines().next().unwrap().rsplit_once(' ').unwrap().0;
    assert!(Path::new(first).is_absolute() && Path::new(first).is_file(), "{first}");
    assert_eq!(Path::new(first), files.join("images/000.png"));
}

#[test]
fn a_finished_experiments_poison_lists_name_files_that_exist_after_the_rename() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = tiny();
    config.arms.remove(0); // corruptencoder only
    config.pretrain.monitor.every = 0;
    let out = tmp.path().join("exp");
    run_experiment(&config, &opts(&out), &Record::default()).unwrap();
    assert!(!tmp.path().join(".exp.partial").exists());
    let poisons = out.join("runs/corruptencoder/seed-0/poisons");
    let list = std::fs::read_to_string(poisons.join("filelist.txt")).unwrap();
    let entries: Vec<&str> = list.lines().map(|l| l.rsplit_once(' ').unwrap().0).collect();
    // Built under `.exp.partial`, so every entry is relative to the list's folder.
    assert!(entries[0].starts_with("../../../../data/pretrain/"), "{}", entries[0]);
    assert!(entries.last().unwrap().starts_with("poison_"), "{list}");
    for e in entries {
        assert!(Path::new(e).is_relative() && poisons.join(e).is_file(), "{e}");
    }
}
