//! One run as a short sequence of the libraries' stages: poisons (poison), pre-training
//! (train), features (train), scores (eval). The CLI's commands call the same functions.
use std::path::{Path, PathBuf};
use std::time::Instant;

use corruptencoder_core::OutputDir;
use corruptencoder_data::DatasetFormat;
use corruptencoder_defense::Defense;
use corruptencoder_eval::{
    AttackSuccess, DownstreamResult, Features, LabelledFeatures, ScoreInput, TriggeredSet,
    attack_success_rate, class_labels, evaluate, score,
};
use corruptencoder_poison::{AttackConfig, OutputOptions, make_poisons};
use corruptencoder_report::{RunResult, ZeroShotScores};
use corruptencoder_train::{
    EvalTransform, ExtractOptions, FeatureJob, FeatureSets, MonitorReport, MonitorSets,
    PretrainRun, Reporter, StepReport, contact_sheet, export_encoder, initial_encoder, pretrain,
};

use crate::context::{Context, stage};
use crate::error::Result;
use crate::inputs::poisons_for;
use crate::options::Observer;
use crate::plan::Plan;
use crate::run_log::{Log, read_log};

/// Runs the four stages of `p`, each skipped when its output is already there.
pub(crate) fn run_one(cx: &Context<'_>, p: &Plan) -> Result<RunResult> {
    let clock = Instant::now();
    fs_err::create_dir_all(&p.dir).map_err(crate::error::io("create", &p.dir))?;
    if p.baseline {
        let encoder = baseline_stage(cx, p)?;
        let sets = feature_stage(cx, p, &encoder)?;
        let scores = score_stage(cx, p, &sets)?;
        return Ok(run_result(cx, p, 0, &scores, Log::default(), None, clock));
    }
    let defense = p.arm.defense.as_ref().map(|d| d.build());
    let poisons = match &p.attack {
        Some(_) => poisons_for(p.shared.poison_ratio, cx.inputs.clean_images),
        None => 0,
    };
    let image_text = cx.config.pretrain.method.is_image_text();
    let mut data = match (&p.attack, image_text) {
        (Some(attack), false) => poison_stage(cx, p, attack, poisons)?,
        (None, false) => cx.inputs.clean_list.clone(),
        (Some(attack), true) => {
            let poisons = poison_stage(cx, p, attack, poisons)?;
            crate::clip::pretraining_captions(cx, p, &poisons)?
        }
        (None, true) => crate::clip::clean_captions(cx)?,
    };
    let mut detection = None;
    if let Some(d) = &defense {
        data = stage(p, "defense", d.filter_pretraining_set(&data, &p.dir))?.unwrap_or(data);
        if let Some(detector) = d.detector() {
            let (kept, scores) = crate::detection::detection_stage(cx, p, &data, detector)?;
            data = kept;
            detection = Some(scores);
        }
    }
    // An inspection or a fine-tuning needs the encoder as pre-trained, not a new one: the
    // undefended arm's when it is there.
    let inspection = defense.as_ref().and_then(|d| d.inverts_trigger());
    let finetune = defense.as_ref().and_then(|d| d.finetunes_clip());
    let reuse = inspection.is_some() || finetune.is_some();
    let pre_dir = match reuse.then(|| crate::detection::finished_sibling(cx, p)).flatten() {
        Some(dir) => dir,
        None => pretrain_stage(cx, p, &data, defense.as_deref(), "pretrain")?,
    };
    let mut cleanclip = match finetune {
        Some(c) => Some(crate::cleanclip::cleanclip_stage(cx, p, &pre_dir, c)?),
        None => None,
    };
    let pre_dir = cleanclip.as_ref().map_or(pre_dir, |f| f.dir.clone());
    let sets = feature_stage(cx, p, &pre_dir.join("encoder.safetensors"))?;
    let scores = score_stage(cx, p, &sets)?;
    let zero_shot =
        if image_text { Some(crate::clip::zero_shot_stage(cx, p, &pre_dir)?) } else { None };
    let log = read_log(&pre_dir.join("log.jsonl"))?;
    let decree = match inspection {
        Some(c) => Some(crate::decree::decree_stage(cx, p, &pre_dir, c)?),
        None => None,
    };
    if let (Some(f), Some(after)) = (cleanclip.as_mut(), zero_shot) {
        f.scores.after = after;
    }
    // Made last, so that its seconds hold every stage.
    let mut result = run_result(cx, p, poisons, &scores, log, zero_shot, clock);
    (result.detection, result.decree) = (detection, decree);
    result.cleanclip = cleanclip.map(|f| f.scores);
    Ok(result)
}

/// The record of a finished run.
fn run_result(
    cx: &Context<'_>,
    p: &Plan,
    poisons: usize,
    scores: &Scores,
    log: Log,
    zero_shot: Option<ZeroShotScores>,
    clock: Instant,
) -> RunResult {
    let target_patch_asr = scores.target_patch.as_ref().map(AttackSuccess::percent);
    let scores = &scores.downstream;
    let asr = scores.attack.as_ref().expect("a triggered set was given");
    RunResult {
        arm: p.arm.name.clone(),
        attack: p.arm.attack_name().into(),
        defense: p.arm.defense.as_ref().map(|d| d.name().into()),
        sweep: p.sweep.clone(),
        seed: p.seed,
        poisons,
        clean_images: cx.inputs.clean_images,
        poison_ratio: poisons as f64 / cx.inputs.clean_images as f64,
        accuracy: scores.clean.accuracy.percent(),
        asr: asr.percent(),
        asr_hits: asr.hits,
        asr_eligible: asr.eligible,
        per_class_accuracy: scores.clean.per_class.iter().map(|a| a.percent()).collect(),
        confusion: scores.clean.confusion.counts.clone(),
        epoch_loss: log.epoch_loss,
        monitor: log.monitor,
        target_patch_asr,
        gain: None,
        seconds: clock.elapsed().as_secs_f64(),
        zero_shot,
        provenance: Some(cx.opts.provenance.clone()),
        detection: None,
        decree: None,
        cleanclip: None,
    }
}

/// The random-encoder baseline: the arms' initial weights for this seed, exported once.
fn baseline_stage(cx: &Context<'_>, p: &Plan) -> Result<PathBuf> {
    let path = p.dir.join("encoder.safetensors");
    if !path.exists() {
        cx.observer.stage(&p.label(), "encoder");
        let mut pc = cx.config.pretrain.clone();
        pc.seed = p.seed;
        let encoder = initial_encoder(&pc, &cx.opts.device);
        stage(p, "encoder", export_encoder(&encoder, 0, &path))?;
    }
    Ok(path)
}

/// Poisons appended to the clean list in the poison folder's `filelist.txt`.
fn poison_stage(cx: &Context<'_>, p: &Plan, attack: &AttackConfig, n: usize) -> Result<PathBuf> {
    let dir = p.dir.join("poisons");
    if !dir.exists() {
        cx.observer.stage(&p.label(), "poisons");
        let limits = &cx.opts.limits;
        let loaded = stage(p, "poisons", attack.load_inputs(&cx.inputs.sources, limits))?;
        let inputs = loaded.first_references(p.shared.references);
        let opts = OutputOptions {
            out: dir.clone(),
            force: false,
            seed: p.shared.poison_seed.unwrap_or(p.seed),
            // Image-text runs append the poisons' captions to the clean captions instead;
            // image-only pre-training takes any attack's images on the clean list.
            clean_list: (!cx.config.pretrain.method.is_image_text())
                .then(|| cx.inputs.clean_list.clone()),
            config_toml: toml::to_string_pretty(&PoisonSettings { shared: &p.shared, attack })
                .expect("attack settings serialise"),
            preview_count: 8,
            // The experiment is built under a staging name and renamed when done: entries
            // inside it are written relative to the list so they stay valid after.
            list_root: Some(cx.root.to_path_buf()),
        };
        let made = make_poisons(attack, &inputs, n, &opts, cx.observer.progress());
        stage(p, "poisons", made)?;
    }
    Ok(dir.join("filelist.txt"))
}

/// What a run's `poisons/config.toml` records.
#[derive(serde::Serialize)]
struct PoisonSettings<'a> {
    shared: &'a crate::config::AttackSettings,
    attack: &'a AttackConfig,
}

/// The encoder pre-trained on `data` in the run's folder `sub`, resumed from its last
/// checkpoint if an earlier invocation stopped.
pub(crate) fn pretrain_stage(
    cx: &Context<'_>,
    p: &Plan,
    data: &Path,
    defense: Option<&dyn Defense>,
    sub: &str,
) -> Result<PathBuf> {
    let pre_dir = p.dir.join(sub);
    if pre_dir.join("encoder.safetensors").exists() {
        return Ok(pre_dir);
    }
    cx.observer.stage(&p.label(), "pretrain");
    let mut pc = cx.config.pretrain.clone();
    pc.seed = p.seed;
    if let Some(d) = defense {
        d.adjust_pretraining(&mut pc);
    }
    // Image-text runs draw no contrastive view pairs (and their list is a caption CSV).
    if p.attack.is_some() && !pc.method.is_image_text() {
        view_sheet(p, data, &pc)?;
    }
    let mut reporter = StepHook(cx.observer);
    let mut run = training_run(cx, p, (data, &pre_dir), &mut reporter);
    // The poison stage writes a `path label` list; image-text runs read captions.
    run.format = Some(if pc.method.is_image_text() {
        DatasetFormat::CaptionCsv
    } else {
        DatasetFormat::FileList
    });
    stage(p, "pretrain", pretrain(&pc, run))?;
    Ok(pre_dir)
}

/// A training of run `p` on `data` into `out` on the experiment's device, resumed when `out`
/// was left staged, with the run's monitor and `reporter`.
pub(crate) fn training_run<'a>(
    cx: &'a Context<'_>,
    p: &Plan,
    (data, out): (&'a Path, &'a Path),
    reporter: &'a mut dyn Reporter,
) -> PretrainRun<'a> {
    PretrainRun {
        data,
        format: None,
        out,
        resume: OutputDir::partial_path(out).exists(),
        force: false,
        device: cx.opts.device.clone(),
        progress: cx.observer.progress(),
        reporter,
        stop_after: None,
        monitor: Some(monitor_sets(cx, p)),
    }
}

/// Poison view pairs shown in the contact sheet.
const SHEET_POISONS: usize = 8;

/// `views.png` beside the run: the first poisons' view pairs of epoch 0 as this arm's crop
/// sampler and augmentations draw them at the training size (what the encoder sees of
/// object and trigger). Row k is poison k's pair when no image of the list is skipped.
fn view_sheet(p: &Plan, data: &Path, pc: &corruptencoder_train::PretrainConfig) -> Result<()> {
    let path = p.dir.join("views.png");
    if path.exists() {
        return Ok(());
    }
    let ds = corruptencoder_data::open_dataset(data, Some(DatasetFormat::FileList))?;
    let poisons: Vec<usize> =
        (0..ds.len()).filter(|&i| ds.label(i) < 0).take(SHEET_POISONS).collect();
    let scale = (128 / pc.views.size).max(1);
    let sheet = contact_sheet(ds.as_ref(), &poisons, &pc.views, (p.seed, 0), scale);
    let sheet = stage(p, "views", sheet)?;
    corruptencoder_core::write_atomic(&path, &corruptencoder_data::png_bytes(&sheet))?;
    Ok(())
}

/// The downstream sets the training monitor scores on: those the probe scores.
fn monitor_sets<'a>(cx: &'a Context<'_>, p: &Plan) -> MonitorSets<'a> {
    let jobs = feature_jobs(cx, p);
    MonitorSets {
        train: jobs[0],
        test: jobs[1],
        triggered: Some(jobs[2]),
        ceiling: jobs.get(3).copied(),
        target: p.shared.target,
        classes: cx.inputs.classes,
        batch_size: cx.config.eval.batch_size,
        device: &cx.opts.device,
    }
}

/// The feature sets of a run's cache; the target-patch set is cached as `ceiling`, the name
/// every finished experiment folder holds it under.
pub(crate) const SETS: [&str; 4] = ["train", "test", "triggered", "ceiling"];

/// The downstream sets under the test transform; the triggered set is CTRL's for CTRL arms;
/// the target-patch set last (cached as `ceiling`), when the experiment has one.
fn feature_jobs<'a>(cx: &'a Context<'_>, p: &Plan) -> Vec<FeatureJob<'a>> {
    let inputs = cx.inputs;
    let triggered = match &p.attack {
        Some(a) if a.triggers_by_frequency() => {
            inputs.triggered_ctrl.as_ref().expect("made for frequency-trigger arms")
        }
        _ => &inputs.triggered,
    };
    let t = cx.config.eval.transform;
    // The triggered images are stored already cropped.
    let cropped = EvalTransform::crop_only(t.crop);
    let mut jobs = vec![
        FeatureJob { name: SETS[0], dataset: inputs.train.as_ref(), transform: t },
        FeatureJob { name: SETS[1], dataset: inputs.test.as_ref(), transform: t },
        FeatureJob { name: SETS[2], dataset: triggered.as_ref(), transform: cropped },
    ];
    if let Some(patch) = &inputs.target_patch {
        jobs.push(FeatureJob { name: SETS[3], dataset: patch.as_ref(), transform: cropped });
    }
    jobs
}

/// Features of the downstream sets, cached beside the run.
fn feature_stage(cx: &Context<'_>, p: &Plan, encoder: &Path) -> Result<FeatureSets> {
    let cache = p.dir.join("features.safetensors");
    let names = &SETS[..if cx.inputs.target_patch.is_some() { 4 } else { 3 }];
    if let Some(sets) = FeatureSets::read(&cache, names) {
        return Ok(sets);
    }
    cx.observer.stage(&p.label(), "features");
    let jobs = feature_jobs(cx, p);
    let opts = ExtractOptions {
        batch_size: cx.config.eval.batch_size,
        device: cx.opts.device.clone(),
        limits: cx.opts.limits,
    };
    let arch = Some(&cx.config.pretrain.encoder);
    let sets = FeatureSets::extract(encoder, arch, &jobs, &opts, cx.observer.progress());
    let sets = stage(p, "features", sets)?;
    sets.write(&cache)?;
    Ok(sets)
}

/// What the probe measured: CA/BA and ASR, and the ASR on the target-patch set.
struct Scores {
    downstream: DownstreamResult,
    target_patch: Option<AttackSuccess>,
}

/// The classifier on the train features; CA/BA and ASR, and the target-patch set's ASR
/// under the same fitted classifier.
fn score_stage(cx: &Context<'_>, p: &Plan, sets: &FeatureSets) -> Result<Scores> {
    cx.observer.stage(&p.label(), "probe");
    let get = |name: &'static str| -> Result<(Features, Vec<usize>)> {
        let f = sets.get(name).expect("the cache holds every set");
        Ok((Features::new(f.values.clone(), f.dim)?, class_labels(name, &f.labels)?))
    };
    let (train_x, train_y) = get("train")?;
    let (test_x, test_y) = get("test")?;
    let (trig_x, trig_y) = get("triggered")?;
    let input = ScoreInput {
        train: LabelledFeatures { features: &train_x, labels: &train_y },
        test: LabelledFeatures { features: &test_x, labels: &test_y },
        triggered: Some(TriggeredSet {
            set: LabelledFeatures { features: &trig_x, labels: &trig_y },
            target: p.shared.target,
        }),
        classes: cx.inputs.classes,
        seed: p.seed,
    };
    let Some(patch) = sets.get(SETS[3]) else {
        let downstream = score(&cx.config.eval.classifier, input, cx.observer.progress())?;
        return Ok(Scores { downstream, target_patch: None });
    };
    // `score`'s two steps, so that the target-patch set meets the very classifier the ASR
    // does.
    if p.shared.target >= input.classes {
        return Err(corruptencoder_eval::Error::Label {
            what: "the target class",
            label: p.shared.target,
            classes: input.classes,
        }
        .into());
    }
    let classifier = &cx.config.eval.classifier;
    let fitted = classifier.fit(input.train, input.classes, input.seed, cx.observer.progress())?;
    let downstream = evaluate(fitted.as_ref(), input.test, input.triggered)?;
    let x = Features::new(patch.values.clone(), patch.dim)?;
    let y = class_labels("target-patch set labels", &patch.labels)?;
    let hits = attack_success_rate(&fitted.predict(&x)?, &y, p.shared.target)?;
    Ok(Scores { downstream, target_patch: Some(hits) })
}

/// The observer as the training loop's per-step hook.
pub(crate) struct StepHook<'a>(pub(crate) &'a dyn Observer);

impl Reporter for StepHook<'_> {
    fn on_step(&mut self, report: &StepReport) {
        self.0.on_step(report);
    }
    fn on_monitor(&mut self, report: &MonitorReport) {
        self.0.on_monitor(report);
    }
}
