//! Re-scoring without retraining: every saved encoder of an experiment folder (finished or
//! not) scored again with other test-trigger sizes, other target classes and other probe
//! seeds. The ASR of each size and the target-patch ASR of each size give the curve that
//! says how far a trigger, and a patch of the target object itself, move predictions as
//! they grow. Written as `rescore.json` and `rescore.md` beside `results.json`.
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use corruptencoder_core::{SettingError, write_atomic};
use corruptencoder_data::ImageLimits;
use corruptencoder_eval::{
    Features, LabelledFeatures, attack_success_rate, class_labels, evaluate,
};
use corruptencoder_report::{
    ProbeScores, Provenance, Rescore, RescoredRun, TriggerScores, render_rescore, summarize_rescore,
};
use corruptencoder_train::burn::prelude::Device;
use corruptencoder_train::{ExtractOptions, ExtractedFeatures};

use crate::config::ExperimentConfig;
use crate::error::{Error, Result};
use crate::inputs::prepare;
use crate::options::Observer;
use crate::plan::{Plan, plan};
use crate::rescore_sets::{RescoreSets, SetsRequest, run_features};

/// What to score and where.
#[derive(Debug, Clone)]
pub struct RescoreOptions {
    /// The experiment folder (holding `experiment.toml`).
    pub dir: PathBuf,
    /// Test-trigger sides in pixels; empty: the experiment's own.
    pub trigger_sizes: Vec<u32>,
    /// Target classes; empty: the experiment's own.
    pub targets: Vec<usize>,
    /// Probe seeds; empty: each run's own seed (its probe as the experiment fitted it).
    pub probe_seeds: Vec<u64>,
    /// Replace an existing `rescore.json` / `rescore.md`.
    pub force: bool,
    /// Inference device.
    pub device: Device,
    /// Image decoding limits.
    pub limits: ImageLimits,
    /// The code and machine, recorded in the output.
    pub provenance: Provenance,
}

/// Scores every saved encoder of `opts.dir` again and writes `rescore.json` and
/// `rescore.md` there. Runs without a saved encoder are skipped and named in the notes.
pub fn rescore(opts: &RescoreOptions, observer: &dyn Observer) -> Result<Rescore> {
    let config = ExperimentConfig::from_file(&opts.dir.join("experiment.toml"))?;
    let outputs = [opts.dir.join("rescore.json"), opts.dir.join("rescore.md")];
    if let Some(path) = outputs.iter().find(|p| p.exists() && !opts.force) {
        return Err(Error::OutputExists { path: path.clone() });
    }
    let inputs = prepare(&config, &opts.dir, &opts.limits, observer.progress())?;
    let sizes = or_own(&opts.trigger_sizes, config.testset.trigger_size);
    let targets = or_own(&opts.targets, config.attack.target);
    check(&sizes, &targets, inputs.classes, config.eval.transform.crop)?;
    let mut notes = Vec::new();
    let request = SetsRequest {
        config: &config,
        inputs: &inputs,
        dir: &opts.dir,
        sizes: &sizes,
        targets: &targets,
        limits: &opts.limits,
    };
    let sets = RescoreSets::prepare(&request, &mut notes, observer.progress())?;
    let plans = plan(&config, &opts.dir)?;
    let extract = ExtractOptions {
        batch_size: config.eval.batch_size,
        device: opts.device.clone(),
        limits: opts.limits,
    };
    let mut runs = Vec::new();
    for (k, p) in plans.iter().enumerate() {
        observer.progress().check_cancelled()?;
        let encoder = if p.baseline {
            p.dir.join("encoder.safetensors")
        } else {
            p.dir.join("pretrain").join("encoder.safetensors")
        };
        if !encoder.exists() {
            notes.push(format!("{}: no saved encoder yet, not scored.", p.label()));
            continue;
        }
        observer.run_started(&p.label(), k + 1, plans.len());
        let clock = Instant::now();
        observer.stage(&p.label(), "features");
        let (features, feature_seconds) =
            run_features(&config, p, &encoder, &sets, &extract, observer.progress())?;
        observer.stage(&p.label(), "probe");
        let probes = probe_scores(&config, p, &sets, &features, &opts.probe_seeds, observer)?;
        runs.push(RescoredRun {
            arm: p.arm.name.clone(),
            attack: p.arm.attack_name().into(),
            sweep: p.sweep.clone(),
            seed: p.seed,
            feature_seconds,
            seconds: clock.elapsed().as_secs_f64(),
            probes,
        });
    }
    if plans.iter().any(|p| matches!(p.attack, Some(corruptencoder_poison::AttackConfig::Ctrl(_))))
    {
        notes.push(
            "CTRL arms are scored here with the patch trigger; their own trigger is a \
             frequency pattern (results.json)."
                .into(),
        );
    }
    let result = Rescore {
        name: config.name.clone(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        trigger_sizes: sizes,
        targets,
        probe_seeds: opts.probe_seeds.clone(),
        classifier: config.eval.classifier.name().into(),
        summary: summarize_rescore(&runs),
        runs,
        provenance: Some(opts.provenance.clone()),
        notes,
    };
    let json = serde_json::to_string_pretty(&result).expect("rescore results serialise");
    write_atomic(&outputs[0], json.as_bytes())?;
    write_atomic(&outputs[1], render_rescore(&result).as_bytes())?;
    Ok(result)
}

fn or_own<T: Copy>(given: &[T], own: T) -> Vec<T> {
    if given.is_empty() { vec![own] } else { given.to_vec() }
}

/// Sizes must fit the test images' crop, targets must be classes.
fn check(sizes: &[u32], targets: &[usize], classes: usize, crop: u32) -> Result<()> {
    let list = |v: &[String]| v.join(",");
    if let Some(&bad) = sizes.iter().find(|&&s| s == 0 || s > crop) {
        let value = list(&sizes.iter().map(u32::to_string).collect::<Vec<_>>());
        let problem = format!("{bad} px does not fit the {crop} px test images");
        return Err(SettingError::new("trigger_sizes", value, problem).into());
    }
    if let Some(&bad) = targets.iter().find(|&&t| t >= classes) {
        let value = list(&targets.iter().map(usize::to_string).collect::<Vec<_>>());
        let problem = format!("class {bad} is not one of the {classes} downstream classes");
        return Err(SettingError::new("targets", value, problem).into());
    }
    Ok(())
}

/// A set's features with their class labels.
type Labelled = (Features, Vec<usize>);

/// Per probe seed: the classifier fitted on the train features, CA/BA on the test set, and
/// for every target class the ASR of every triggered set and target-patch set.
fn probe_scores(
    config: &ExperimentConfig,
    p: &Plan,
    sets: &RescoreSets,
    features: &BTreeMap<String, ExtractedFeatures>,
    probe_seeds: &[u64],
    observer: &dyn Observer,
) -> Result<Vec<ProbeScores>> {
    let labelled = |name: &str| -> Result<Labelled> {
        let f = &features[name];
        Ok((Features::new(f.values.clone(), f.dim)?, class_labels("rescored set", &f.labels)?))
    };
    let (train_x, train_y) = labelled(sets.train.name.as_str())?;
    let (test_x, test_y) = labelled(sets.test.name.as_str())?;
    let triggered: Vec<(u32, Labelled)> = sets
        .triggered
        .iter()
        .map(|(size, set)| -> Result<_> { Ok((*size, labelled(set.name.as_str())?)) })
        .collect::<Result<_>>()?;
    // Keyed by (target class, trigger size).
    let patches: Vec<((usize, u32), Labelled)> = sets
        .patches
        .iter()
        .map(|(key, set)| -> Result<_> { Ok((*key, labelled(set.name.as_str())?)) })
        .collect::<Result<_>>()?;
    let classes = sets.classes;
    let seeds = or_own(probe_seeds, p.seed);
    let mut out = Vec::new();
    for seed in seeds {
        let train = LabelledFeatures { features: &train_x, labels: &train_y };
        let fitted = config.eval.classifier.fit(train, classes, seed, observer.progress())?;
        let test = LabelledFeatures { features: &test_x, labels: &test_y };
        let accuracy = evaluate(fitted.as_ref(), test, None)?.clean.accuracy.percent();
        let predicted: Vec<(u32, Vec<usize>, &[usize])> = triggered
            .iter()
            .map(|(size, (x, y))| -> Result<_> { Ok((*size, fitted.predict(x)?, y.as_slice())) })
            .collect::<Result<_>>()?;
        let mut triggers = Vec::new();
        for &target in &sets.targets {
            for (size, predictions, labels) in &predicted {
                let hit = attack_success_rate(predictions, labels, target)?;
                let patch = match patches.iter().find(|(key, _)| *key == (target, *size)) {
                    Some((_, (x, y))) => {
                        Some(attack_success_rate(&fitted.predict(x)?, y, target)?.percent())
                    }
                    None => None,
                };
                triggers.push(TriggerScores {
                    target,
                    trigger_size: *size,
                    asr: hit.percent(),
                    hits: hit.hits,
                    eligible: hit.eligible,
                    target_patch_asr: patch,
                });
            }
        }
        out.push(ProbeScores { probe_seed: seed, accuracy, triggers });
    }
    Ok(out)
}
