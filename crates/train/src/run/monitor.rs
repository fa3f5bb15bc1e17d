//! The training monitor (CTRL's "backdoor accuracy" curve): every few epochs, the encoder
//! as it stands is frozen and scored on the downstream sets with a kNN classifier, giving
//! CA (or BA) and ASR over epochs. It reads the model only, so training is the same with it
//! or without it (test: `monitor.rs` in the integration tests).
use burn::module::Module as _;
use burn::prelude::Device;
use corruptencoder_core::NoProgress;
use corruptencoder_data::ImageLimits;
use corruptencoder_eval::{
    ClassifierConfig, Features, KnnConfig, LabelledFeatures, attack_success_rate, class_labels,
    evaluate,
};
use serde::{Deserialize, Serialize};

use crate::encoder::Encoder;
use crate::error::{Error, Result};
use crate::features::extract::extract_features;
use crate::features::sets::FeatureJob;

/// `[pretrain.monitor]`: how often to score the encoder during pre-training. Off by default:
/// the paper's runs have no monitor, and it needs downstream sets that only an experiment (or a
/// library caller) provides. Measuring costs one forward pass over those sets (about a
/// second for the demo's 2,000 images at 32 px), so `every = 1` is affordable at CPU scale.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitorConfig {
    /// Score every this many epochs, before training starts and after the last epoch;
    /// 0 turns the monitor off.
    pub every: usize,
    /// The kNN classifier (InstDisc / MoCo monitor: k 200, T 0.1).
    pub knn: KnnConfig,
}

impl MonitorConfig {
    /// Whether to measure once `epochs_done` of `epochs` epochs are done (0: before training).
    pub fn due(&self, epochs_done: usize, epochs: usize) -> bool {
        self.every > 0
            && (epochs_done == 0 || epochs_done == epochs || epochs_done.is_multiple_of(self.every))
    }
}

/// The sets the monitor scores on, given by the caller (the experiment wires in its
/// downstream train and test sets and its triggered test sets).
#[derive(Clone, Copy)]
pub struct MonitorSets<'a> {
    /// The kNN's memory bank: labelled downstream training images.
    pub train: FeatureJob<'a>,
    /// Clean test images (CA, or BA for a poisoned encoder).
    pub test: FeatureJob<'a>,
    /// Triggered test images (ASR), if any.
    pub triggered: Option<FeatureJob<'a>>,
    /// Test images with a patch of the target class's object where the trigger goes (the
    /// target-patch set; logged as `ceiling`), if any.
    pub ceiling: Option<FeatureJob<'a>>,
    /// The attack's target class.
    pub target: usize,
    /// Number of downstream classes.
    pub classes: usize,
    /// Images per forward pass.
    pub batch_size: usize,
    /// Inference device (not an autodiff device).
    pub device: &'a Device,
}

/// One measurement, logged to `log.jsonl` beside the step lines (which carry `loss`; these
/// carry `knn_accuracy`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MonitorReport {
    /// Epochs done (0: the initial encoder).
    pub epoch: usize,
    /// Optimizer steps done.
    pub step: u64,
    /// kNN top-1 accuracy on the clean test set, in percent.
    pub knn_accuracy: f64,
    /// kNN ASR on the triggered test set, in percent.
    pub asr: Option<f64>,
    /// kNN ASR on the target-patch set, in percent.
    pub ceiling: Option<f64>,
    /// Seconds the measurement took.
    pub seconds: f64,
}

/// Scores `encoder` (a training-time module; it is read, never changed) on `sets`.
pub(crate) fn measure(
    config: &MonitorConfig,
    encoder: &Encoder,
    sets: &MonitorSets<'_>,
    (epoch, step): (usize, u64),
) -> Result<MonitorReport> {
    let clock = std::time::Instant::now();
    // Inference mode on the inner device: batch norm on running statistics, no graph.
    let frozen = encoder.valid();
    let eval = Error::Monitor;
    let features = |job: &FeatureJob<'_>| -> Result<(Features, Vec<usize>)> {
        let f = extract_features(
            &frozen,
            job.dataset,
            &job.transform,
            sets.batch_size,
            sets.device,
            &ImageLimits::default(),
            &NoProgress,
        )?;
        let labels = class_labels("monitor set labels", &f.labels).map_err(eval)?;
        Ok((Features::new(f.values, f.dim).map_err(eval)?, labels))
    };
    let (train_x, train_y) = features(&sets.train)?;
    let (test_x, test_y) = features(&sets.test)?;
    let knn = ClassifierConfig::Knn(config.knn);
    let train = LabelledFeatures { features: &train_x, labels: &train_y };
    let fitted = knn.fit(train, sets.classes, 0, &NoProgress).map_err(eval)?;
    let test = LabelledFeatures { features: &test_x, labels: &test_y };
    let clean = evaluate(fitted.as_ref(), test, None).map_err(eval)?.clean;
    let asr_of = |job: Option<&FeatureJob<'_>>| -> Result<Option<f64>> {
        let Some(job) = job else { return Ok(None) };
        let (x, y) = features(job)?;
        let predictions = fitted.predict(&x).map_err(eval)?;
        Ok(Some(attack_success_rate(&predictions, &y, sets.target).map_err(eval)?.percent()))
    };
    let asr = asr_of(sets.triggered.as_ref())?;
    let ceiling = asr_of(sets.ceiling.as_ref())?;
    Ok(MonitorReport {
        epoch,
        step,
        knn_accuracy: clean.accuracy.percent(),
        asr,
        ceiling,
        seconds: clock.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_before_training_every_k_epochs_and_at_the_end() {
        let m = MonitorConfig { every: 3, ..Default::default() };
        let due: Vec<usize> = (0..=10).filter(|&e| m.due(e, 10)).collect();
        assert_eq!(due, [0, 3, 6, 9, 10]);
        assert!(!(0..=10).any(|e| MonitorConfig::default().due(e, 10)), "off by default");
    }
}
