//! Each run's pre-training time, estimated before any run is made: the run's steps (its
//! clean and poison images over the batch size, times the epochs) times the seconds per
//! step measured on this machine (`corruptencoder_train::time_steps`: a few steps of the
//! arm's method and encoder on random views in memory). A batch above [`TIMED_BATCH`] is
//! timed at a divisor of it and scaled linearly. Poisons, features and the probe are not
//! counted, nor the loading of images; image-text pre-training is not timed.
use std::path::Path;

use corruptencoder_data::open_dataset;
use corruptencoder_train::burn::prelude::Device;
use corruptencoder_train::{EncoderConfig, MethodConfig, PretrainConfig, time_steps};

use crate::config::{DataConfig, ExperimentConfig};
use crate::error::{Error, Result};
use crate::inputs::poisons_for;
use crate::plan::{Plan, plan};

/// Steps timed per distinct pre-training setting, after one untimed step.
pub const MEASURED_STEPS: usize = 2;

/// The largest batch timed: enough to keep the cores busy, small enough that timing a
/// large model takes seconds.
const TIMED_BATCH: usize = 16;

/// One run's pre-training, estimated.
#[derive(Debug, Clone, PartialEq)]
pub struct PretrainEstimate {
    /// Pre-training steps the run makes (0: the random-encoder baseline trains nothing).
    pub steps: u64,
    /// Those steps' estimated seconds; `None` where not timed (image-text pre-training).
    pub seconds: Option<f64>,
}

/// The estimates of an experiment's runs and how they were measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimates {
    /// One per run, in plan order.
    pub runs: Vec<PretrainEstimate>,
    /// Steps timed per setting.
    pub measured_steps: usize,
    /// Each timed batch size and the runs' batch size it was scaled to.
    pub batches: Vec<(usize, usize)>,
}

/// What decides a step's time, and the seconds measured for it.
struct Timed {
    method: MethodConfig,
    encoder: EncoderConfig,
    size: u32,
    batch: usize,
    seconds: Option<f64>,
}

/// Estimates every run's pre-training time on `device` (see the module), after the checks
/// of [`plan_runs`](crate::plan_runs) for output folder `out`. Writes nothing.
pub fn estimate_pretraining(
    config: &ExperimentConfig,
    out: &Path,
    device: &Device,
) -> Result<Estimates> {
    config
        .validate()
        .map_err(|source| Error::Invalid { path: out.join("experiment.toml"), source })?;
    let clean = clean_images(config)?;
    let mut timed: Vec<Timed> = Vec::new();
    let mut batches = Vec::new();
    let mut runs = Vec::new();
    for p in plan(config, out)? {
        if p.baseline {
            runs.push(PretrainEstimate { steps: 0, seconds: Some(0.0) });
            continue;
        }
        let pc = run_pretraining(config, &p);
        let images =
            clean + p.attack.as_ref().map_or(0, |_| poisons_for(p.shared.poison_ratio, clean));
        let steps = (images / pc.batch_size) as u64 * pc.epochs as u64;
        let same = |t: &Timed| {
            t.method == pc.method
                && t.encoder == pc.encoder
                && t.size == pc.views.size
                && t.batch == pc.batch_size
        };
        let per_step = match timed.iter().find(|t| same(t)) {
            Some(t) => t.seconds,
            None => {
                let small = timed_batch(pc.batch_size, bn_splits(&pc.method));
                let at_small = time_steps(&pc, device, small, MEASURED_STEPS)?;
                let seconds = at_small.map(|s| s * pc.batch_size as f64 / small as f64);
                if seconds.is_some() && !batches.contains(&(small, pc.batch_size)) {
                    batches.push((small, pc.batch_size));
                }
                timed.push(Timed {
                    method: pc.method.clone(),
                    encoder: pc.encoder,
                    size: pc.views.size,
                    batch: pc.batch_size,
                    seconds,
                });
                seconds
            }
        };
        runs.push(PretrainEstimate { steps, seconds: per_step.map(|s| s * steps as f64) });
    }
    Ok(Estimates { runs, measured_steps: MEASURED_STEPS, batches })
}

/// The pre-training settings of run `p`, as its pre-training stage makes them.
fn run_pretraining(config: &ExperimentConfig, p: &Plan) -> PretrainConfig {
    let mut pc = config.pretrain.clone();
    pc.seed = p.seed;
    if let Some(d) = &p.arm.defense {
        d.build().adjust_pretraining(&mut pc);
    }
    pc
}

/// The clean pre-training images.
fn clean_images(config: &ExperimentConfig) -> Result<usize> {
    Ok(match &config.data {
        DataConfig::Synthetic(s) => s.pretrain,
        DataConfig::Files(f) => open_dataset(&f.pretrain, None)?.len(),
    })
}

/// Split-BN groups a step's batch must divide into.
fn bn_splits(method: &MethodConfig) -> usize {
    match method {
        MethodConfig::MocoV2(m) => m.bn_splits.max(1),
        _ => 1,
    }
}

/// The batch to time for a run batch of `batch`: the largest divisor of it up to
/// [`TIMED_BATCH`] (or twice the split-BN groups, so each group holds two images) that
/// splits into `splits` groups; `batch` itself when none does. A divisor of the batch is
/// also a divisor of MoCo's queue, which the batch divides.
fn timed_batch(batch: usize, splits: usize) -> usize {
    let most = TIMED_BATCH.max(2 * splits);
    (1..=batch.min(most))
        .rev()
        .find(|&d| batch.is_multiple_of(d) && d.is_multiple_of(splits) && d >= 2)
        .unwrap_or(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timed_batch_divides_the_run_batch_into_whole_groups() {
        assert_eq!(timed_batch(256, 8), 16);
        assert_eq!(timed_batch(256, 1), 16);
        assert_eq!(timed_batch(8, 1), 8);
        assert_eq!(timed_batch(12, 4), 12);
        assert_eq!(timed_batch(96, 1), 16);
        assert_eq!(timed_batch(100, 1), 10);
        assert_eq!(timed_batch(64, 32), 64);
        assert_eq!(timed_batch(2, 1), 2);
    }

    #[test]
    fn runs_are_estimated_from_their_steps_and_the_baseline_from_none() {
        let mut config = ExperimentConfig::demo();
        config.pretrain.encoder = EncoderConfig::new(
            corruptencoder_train::Arch::SmallCnn,
            corruptencoder_train::Stem::Cifar,
            4,
        );
        config.pretrain.views.size = 16;
        config.seeds = vec![0, 1];
        let e = estimate_pretraining(&config, Path::new("out"), &Device::flex()).unwrap();
        let plans = plan(&config, Path::new(".")).unwrap();
        assert_eq!(e.runs.len(), plans.len());
        assert_eq!(e.measured_steps, MEASURED_STEPS);
        let DataConfig::Synthetic(s) = &config.data else { unreachable!() };
        for (p, r) in plans.iter().zip(&e.runs) {
            if p.baseline {
                assert_eq!(r, &PretrainEstimate { steps: 0, seconds: Some(0.0) });
                continue;
            }
            let poisons =
                p.attack.as_ref().map_or(0, |_| poisons_for(p.shared.poison_ratio, s.pretrain));
            let b = config.pretrain.batch_size;
            assert_eq!(r.steps, ((s.pretrain + poisons) / b * config.pretrain.epochs) as u64);
            assert!(r.seconds.is_some_and(|t| t > 0.0), "{r:?}");
        }
        // Every run shares one setting: timed once, at a divisor of the batch.
        let [(small, run)] = e.batches[..] else { panic!("{:?}", e.batches) };
        assert_eq!(run, config.pretrain.batch_size);
        assert!(run.is_multiple_of(small) && small <= TIMED_BATCH.max(16));
    }
}
