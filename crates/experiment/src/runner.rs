//! Runs an experiment: per (arm, sweep value, seed) poison → pre-train → features → probe
//! → metrics, each stage skipped when its output is already there, so an interrupted
//! experiment resumes where it stopped.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use corruptencoder_augment::Crops;
use corruptencoder_core::{Progress, write_atomic};
use corruptencoder_data::{DatasetFormat, ImageLimits};
use corruptencoder_eval::{
    Features, KnnClassifier, LabelledFeatures, LinearProbe, ProbeKind, TriggeredSet, evaluate,
};
use corruptencoder_poison::{
    Attack, CorruptEncoder, CorruptEncoderConfig, Ctrl, CtrlConfig, OutputOptions, PoisonedEncoder,
    PoisonedEncoderConfig, SslBackdoor, SslBackdoorConfig, TargetImages, write_poison_set,
};
use corruptencoder_report::{Results, RunResult, SweepPoint, summarize};
use corruptencoder_train::burn::prelude::Device;
use corruptencoder_train::{
    EvalTransform, PretrainRun, Reporter, StepReport, extract_features, load_encoder_weights,
    pretrain,
};

use crate::config::{ArmConfig, AttackKind, AttackSettings, DefenseKind, ExperimentConfig};
use crate::error::{Error, Result, io};
use crate::inputs::{Inputs, poisons_for, prepare};
use crate::report::{figures, settings};

/// Hooks through which a runner shows what it does (libraries never print).
pub trait Observer: Sync {
    /// Run `index` of `total` (1-based) starts; `label` names arm, sweep value and seed.
    fn run_started(&self, _label: &str, _index: usize, _total: usize) {}
    /// A stage of the current run starts (`poisons`, `pretrain`, `features`, `probe`).
    fn stage(&self, _label: &str, _stage: &str) {}
    /// A run is done; `reused` when its result was found from an earlier invocation.
    fn run_finished(&self, _result: &RunResult, _reused: bool) {}
    /// One pre-training step.
    fn on_step(&self, _report: &StepReport) {}
    /// Progress of the long stages.
    fn progress(&self) -> &dyn Progress;
}

/// Where and how to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The experiment folder.
    pub out: PathBuf,
    /// Replace an existing folder that holds a different experiment.
    pub force: bool,
    /// Training and inference device.
    pub device: Device,
    /// Image decoding limits.
    pub limits: ImageLimits,
}

/// One planned run.
#[derive(Debug, Clone)]
struct Plan {
    arm: ArmConfig,
    sweep: Option<SweepPoint>,
    attack: AttackSettings,
    seed: u64,
    dir: PathBuf,
}

impl Plan {
    fn label(&self) -> String {
        let mut s = self.arm.name.clone();
        if let Some(p) = &self.sweep {
            s += &format!(" ({p})");
        }
        s + &format!(" seed {}", self.seed)
    }
}

/// Runs `config` into `opts.out` and writes `results.json`, `report.md` and `report.html`
/// there. Runs whose `result.json` exists are not run again.
pub fn run_experiment(
    config: &ExperimentConfig,
    opts: &RunOptions,
    observer: &dyn Observer,
) -> Result<Results> {
    config
        .validate()
        .map_err(|problem| Error::Invalid { path: opts.out.join("experiment.toml"), problem })?;
    prepare_out(config, &opts.out, opts.force)?;
    let inputs = prepare(config, &opts.out, &opts.limits, observer.progress())?;
    let plans = plan(config, &opts.out);
    let mut results = Vec::new();
    for (k, p) in plans.iter().enumerate() {
        let label = p.label();
        observer.run_started(&label, k + 1, plans.len());
        let result_path = p.dir.join("result.json");
        if let Some(done) = read_result(&result_path)? {
            observer.run_finished(&done, true);
            results.push(done);
            continue;
        }
        let result = run_one(config, p, &inputs, opts, observer)?;
        let json = serde_json::to_string_pretty(&result).expect("results serialise");
        write_atomic(&result_path, json.as_bytes())?;
        observer.run_finished(&result, false);
        results.push(result);
    }
    let mut report = Results {
        name: config.name.clone(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        settings: settings(config, &inputs, &opts.device),
        summary: summarize(&results),
        runs: results,
        figures: Vec::new(),
        notes: Vec::new(),
    };
    report.figures = figures(config, &inputs, &opts.out, &report.runs)?;
    corruptencoder_report::write_report(&report, &opts.out)?;
    Ok(report)
}

/// Creates the folder, or accepts it for resuming when it holds this very experiment.
fn prepare_out(config: &ExperimentConfig, out: &Path, force: bool) -> Result<()> {
    let file = out.join("experiment.toml");
    let text = config.to_toml();
    if out.exists() {
        let same = fs_err::read_to_string(&file).is_ok_and(|old| old == text);
        if same {
            return Ok(());
        }
        if !force {
            return Err(Error::DifferentExperiment { path: out.to_path_buf() });
        }
        fs_err::remove_dir_all(out).map_err(io("remove", out))?;
    }
    fs_err::create_dir_all(out).map_err(io("create", out))?;
    write_atomic(&file, text.as_bytes())?;
    Ok(())
}

/// Every run in order: arms, then sweep values, then seeds. Clean arms ignore the sweep.
fn plan(config: &ExperimentConfig, out: &Path) -> Vec<Plan> {
    let mut plans = Vec::new();
    for arm in &config.arms {
        let points = if arm.attack == AttackKind::None {
            vec![(None, config.attack.clone())]
        } else {
            config.sweep_points()
        };
        for (value, attack) in points {
            let sweep = value.map(|value| SweepPoint {
                parameter: config
                    .sweep
                    .as_ref()
                    .expect("values come from a sweep")
                    .parameter
                    .name()
                    .into(),
                value,
            });
            for &seed in &config.seeds {
                let dir = run_dir(out, &arm.name, sweep.as_ref(), seed);
                plans.push(Plan {
                    arm: arm.clone(),
                    sweep: sweep.clone(),
                    attack: attack.clone(),
                    seed,
                    dir,
                });
            }
        }
    }
    plans
}

/// `runs/<arm>[/<parameter>-<value>]/seed-<seed>` under `out`: the one place a run's folder
/// is named (the report finds poison previews through it).
pub(crate) fn run_dir(out: &Path, arm: &str, sweep: Option<&SweepPoint>, seed: u64) -> PathBuf {
    let mut dir = out.join("runs").join(arm);
    if let Some(s) = sweep {
        dir = dir.join(format!("{}-{}", s.parameter, s.value));
    }
    dir.join(format!("seed-{seed}"))
}

fn read_result(path: &Path) -> Result<Option<RunResult>> {
    if !path.exists() {
        return Ok(None);
    }
    let text = fs_err::read_to_string(path).map_err(io("read", path))?;
    match serde_json::from_str(&text) {
        Ok(r) => Ok(Some(r)),
        Err(e) => {
            // Written atomically, so this is a hand edit or another version: run again.
            log::warn!("ignoring unreadable {}: {e}", path.display());
            Ok(None)
        }
    }
}

fn stage<T, E>(p: &Plan, stage: &'static str, r: std::result::Result<T, E>) -> Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    r.map_err(|e| Error::Stage { run: p.label(), stage, source: Box::new(e) })
}

fn run_one(
    config: &ExperimentConfig,
    p: &Plan,
    inputs: &Inputs,
    opts: &RunOptions,
    observer: &dyn Observer,
) -> Result<RunResult> {
    let clock = Instant::now();
    let label = p.label();
    fs_err::create_dir_all(&p.dir).map_err(io("create", &p.dir))?;
    let poisons = if p.arm.attack == AttackKind::None {
        0
    } else {
        poisons_for(p.attack.poison_ratio, inputs.clean_images)
    };
    // 1. Poisons, appended to the clean list in the poison folder's filelist.txt.
    let data = if p.arm.attack == AttackKind::None {
        inputs.clean_list.clone()
    } else {
        let dir = p.dir.join("poisons");
        if !dir.exists() {
            observer.stage(&label, "poisons");
            let attack = stage(
                p,
                "poisons",
                build_attack(
                    p.arm.attack,
                    &p.attack,
                    poisons,
                    p.seed,
                    inputs,
                    config,
                    &opts.limits,
                ),
            )?;
            let opts = OutputOptions {
                out: dir.clone(),
                force: false,
                seed: p.seed,
                clean_list: Some(inputs.clean_list.clone()),
                config_toml: toml::to_string_pretty(&p.attack).expect("attack settings serialise"),
                preview_count: 8,
            };
            stage(p, "poisons", write_poison_set(attack.as_ref(), &opts, observer.progress()))?;
        }
        dir.join("filelist.txt")
    };
    // 2. Pre-training (resumed from its last checkpoint if a previous invocation stopped).
    let pre_dir = p.dir.join("pretrain");
    let encoder_file = pre_dir.join("encoder.safetensors");
    if !encoder_file.exists() {
        observer.stage(&label, "pretrain");
        let mut pc = config.pretrain.clone();
        pc.seed = p.seed;
        if p.arm.defense == Some(DefenseKind::LocalizedCropping) {
            pc.views.crops = Crops::Localized;
        }
        let mut reporter = StepHook(observer);
        let run = PretrainRun {
            data: &data,
            // The poison stage writes a `path label` list.
            format: Some(DatasetFormat::FileList),
            out: &pre_dir,
            resume: pre_dir.join("config.toml").exists(),
            force: false,
            device: opts.device.clone(),
            progress: observer.progress(),
            reporter: &mut reporter,
            stop_after: None,
        };
        stage(p, "pretrain", pretrain(&pc, run))?;
    }
    // 3. Features of the downstream sets, cached beside the run.
    let cache = p.dir.join("features.safetensors");
    let sets = match read_features(&cache) {
        Some(sets) => sets,
        None => {
            observer.stage(&label, "features");
            let (encoder, _) = stage(
                p,
                "features",
                load_encoder_weights(&encoder_file, Some(&config.pretrain.encoder), &opts.device),
            )?;
            let triggered = match p.arm.attack {
                AttackKind::Ctrl => inputs.triggered_ctrl.as_ref().expect("made for CTRL arms"),
                _ => &inputs.triggered,
            };
            let t = config.eval.transform;
            // The triggered images are stored already cropped.
            let crop_only = EvalTransform::crop_only(t.crop);
            let mut sets = HashMap::new();
            for (name, ds, transform) in [
                ("train", &inputs.train, &t),
                ("test", &inputs.test, &t),
                ("triggered", triggered, &crop_only),
            ] {
                let f = stage(
                    p,
                    "features",
                    extract_features(
                        &encoder,
                        ds.as_ref(),
                        transform,
                        config.eval.batch_size,
                        &opts.device,
                        &opts.limits,
                        observer.progress(),
                    ),
                )?;
                sets.insert(name.to_owned(), f);
            }
            write_features(&cache, &sets)?;
            sets
        }
    };
    // 4. Probe and metrics.
    observer.stage(&label, "probe");
    let get = |name: &str| -> Result<(Features, Vec<usize>)> {
        let f = &sets[name];
        let features = Features::new(f.values.clone(), f.dim)?;
        let labels = f.labels.iter().map(|&l| l.max(0) as usize).collect();
        Ok((features, labels))
    };
    let (train_x, train_y) = get("train")?;
    let (test_x, test_y) = get("test")?;
    let (trig_x, trig_y) = get("triggered")?;
    let classes = inputs.classes;
    let ev = &config.eval.classifier;
    let (linear, knn);
    let classifier: &dyn corruptencoder_eval::Classifier = match ev.classifier {
        ProbeKind::Linear => {
            linear = LinearProbe::fit(&ev.linear_probe, &train_x, &train_y, classes, p.seed)?.0;
            &linear
        }
        ProbeKind::Knn => {
            knn = KnnClassifier::new(ev.knn, &train_x, &train_y, classes)?;
            &knn
        }
    };
    let clean = LabelledFeatures { features: &test_x, labels: &test_y };
    let triggered = TriggeredSet {
        set: LabelledFeatures { features: &trig_x, labels: &trig_y },
        target: p.attack.target,
    };
    let scores = evaluate(classifier, clean, Some(triggered))?;
    let asr = scores.attack.expect("a triggered set was given");
    Ok(RunResult {
        arm: p.arm.name.clone(),
        attack: p.arm.attack.name().into(),
        defense: p.arm.defense.map(|d| d.name().into()),
        sweep: p.sweep.clone(),
        seed: p.seed,
        poisons,
        clean_images: inputs.clean_images,
        poison_ratio: poisons as f64 / inputs.clean_images as f64,
        accuracy: scores.clean.accuracy.percent(),
        asr: asr.percent(),
        asr_hits: asr.hits,
        asr_eligible: asr.eligible,
        per_class_accuracy: scores.clean.per_class.iter().map(|a| a.percent()).collect(),
        confusion: scores.clean.confusion.counts.clone(),
        epoch_loss: epoch_losses(&pre_dir.join("log.jsonl"))?,
        seconds: clock.elapsed().as_secs_f64(),
    })
}

struct StepHook<'a>(&'a dyn Observer);

impl Reporter for StepHook<'_> {
    fn on_step(&mut self, report: &StepReport) {
        self.0.on_step(report);
    }
}

#[allow(clippy::too_many_arguments)]
fn build_attack(
    kind: AttackKind,
    a: &AttackSettings,
    poisons: usize,
    seed: u64,
    inputs: &Inputs,
    config: &ExperimentConfig,
    limits: &ImageLimits,
) -> std::result::Result<Box<dyn Attack>, corruptencoder_poison::Error> {
    let refs = &inputs.references[..a.references.min(inputs.references.len())];
    let targets = || {
        TargetImages::from_files(inputs.target_images.clone(), "target images")
            .choose(poisons, seed)
    };
    // Baselines paste the trigger at the size it has on test images, since their poisons
    // are whole target-class images of the test images' scale.
    let test_trigger = config.testset.trigger_size;
    Ok(match kind {
        AttackKind::None => unreachable!("clean arms make no poisons"),
        AttackKind::Corruptencoder | AttackKind::CorruptencoderPlus => {
            let plus = kind == AttackKind::CorruptencoderPlus;
            let c = CorruptEncoderConfig {
                num_poisons: poisons,
                trigger_size: a.trigger_size,
                area_ratio: a.area_ratio,
                max_size: a.max_size,
                support_ratio: if plus { a.support_ratio } else { 0.0 },
                ..Default::default()
            };
            let supports = if plus { inputs.supports.clone() } else { Vec::new() };
            let trigger = inputs.trigger.load(a.trigger_size, limits)?;
            Box::new(CorruptEncoder::new(
                c,
                refs,
                inputs.backgrounds.clone(),
                supports,
                trigger,
                *limits,
            )?)
        }
        AttackKind::SslBackdoor => {
            let c = SslBackdoorConfig { trigger_width: test_trigger, ..Default::default() };
            let trigger = inputs.trigger.load_width(test_trigger, limits)?;
            Box::new(SslBackdoor::new(c, targets()?, trigger, *limits)?)
        }
        AttackKind::Ctrl => Box::new(Ctrl::new(CtrlConfig::default(), targets()?, *limits)?),
        AttackKind::PoisonedEncoder => {
            let c = PoisonedEncoderConfig {
                num_poisons: poisons,
                trigger_size: test_trigger,
                ..Default::default()
            };
            let files =
                inputs.reference_files[..a.references.min(inputs.reference_files.len())].to_vec();
            let refs = TargetImages::from_files(files, "references");
            let trigger = inputs.trigger.load(test_trigger, limits)?;
            Box::new(PoisonedEncoder::new(c, refs, inputs.backgrounds.clone(), trigger, *limits)?)
        }
    })
}

/// Mean loss per epoch from a pre-training `log.jsonl`.
fn epoch_losses(log: &Path) -> Result<Vec<f64>> {
    let text = fs_err::read_to_string(log).map_err(io("read", log))?;
    let mut sums: Vec<(f64, usize)> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        let (Some(epoch), Some(loss)) = (v["epoch"].as_u64(), v["loss"].as_f64()) else { continue };
        let e = epoch as usize;
        if sums.len() <= e {
            sums.resize(e + 1, (0.0, 0));
        }
        sums[e].0 += loss;
        sums[e].1 += 1;
    }
    Ok(sums.into_iter().map(|(s, n)| if n == 0 { f64::NAN } else { s / n as f64 }).collect())
}

/// The cached feature sets, if the file is there and complete.
fn read_features(path: &Path) -> Option<HashMap<String, corruptencoder_train::ExtractedFeatures>> {
    let bytes = fs_err::read(path).ok()?;
    let st = safetensors::SafeTensors::deserialize(&bytes).ok()?;
    let mut out = HashMap::new();
    for name in ["train", "test", "triggered"] {
        let f = st.tensor(&format!("{name}.features")).ok()?;
        let l = st.tensor(&format!("{name}.labels")).ok()?;
        let (rows, dim) = match f.shape() {
            [r, d] => (*r, *d),
            _ => return None,
        };
        let values: Vec<f32> = f
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let labels: Vec<i64> = l
            .data()
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")))
            .collect();
        if values.len() != rows * dim || labels.len() != rows {
            return None;
        }
        out.insert(
            name.to_owned(),
            corruptencoder_train::ExtractedFeatures { values, dim, labels },
        );
    }
    Some(out)
}

fn write_features(
    path: &Path,
    sets: &HashMap<String, corruptencoder_train::ExtractedFeatures>,
) -> Result<()> {
    use safetensors::tensor::TensorView;
    let mut buffers: Vec<(String, Vec<u8>, Vec<usize>, safetensors::Dtype)> = Vec::new();
    for (name, f) in sets {
        let rows = f.labels.len();
        buffers.push((
            format!("{name}.features"),
            f.values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            vec![rows, f.dim],
            safetensors::Dtype::F32,
        ));
        buffers.push((
            format!("{name}.labels"),
            f.labels.iter().flat_map(|v| v.to_le_bytes()).collect(),
            vec![rows],
            safetensors::Dtype::I64,
        ));
    }
    let views: Vec<(String, TensorView<'_>)> = buffers
        .iter()
        .map(|(n, b, s, d)| (n.clone(), TensorView::new(*d, s.clone(), b).expect("sizes match")))
        .collect();
    let bytes = safetensors::serialize(views, None).map_err(|e| Error::Io {
        action: "encode features for",
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    })?;
    write_atomic(path, &bytes)?;
    Ok(())
}
