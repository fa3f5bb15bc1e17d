use serde::Serialize;

use crate::run::monitor::MonitorReport;

/// One optimizer step, as reported to a [`Reporter`] and logged to `log.jsonl`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StepReport {
    /// 0-based epoch.
    pub epoch: usize,
    /// Global step, 1-based (steps done after this one).
    pub step: u64,
    /// The batch's loss.
    pub loss: f32,
    /// Learning rate used.
    pub lr: f64,
    /// Views per second over this step, data waiting included.
    pub views_per_sec: f64,
    /// Where the step's time went.
    pub seconds: StepSeconds,
}

/// Where one step's wall time went, in seconds. The views are drawn on other threads while
/// the previous step trains, so `data` is only the wait for them, not their cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct StepSeconds {
    /// Waiting for the batch of views.
    pub data: f64,
    /// The forward pass to the loss; `None` when it runs interleaved with the backward pass
    /// across devices.
    pub forward: Option<f64>,
    /// The backward pass to the gradients; `None` as `forward`.
    pub backward: Option<f64>,
    /// The optimiser's update.
    pub update: f64,
    /// The method's own updates after it (momentum encoders, queues).
    pub after: f64,
}

/// Per-step hook of pre-training (the binary renders it; libraries never print).
pub trait Reporter {
    /// Called after every optimizer step.
    fn on_step(&mut self, report: &StepReport);
    /// Called after each epoch's checkpoint is written.
    fn on_epoch(&mut self, _epoch: usize, _mean_loss: f32) {}
    /// Called after each measurement of the training monitor.
    fn on_monitor(&mut self, _report: &MonitorReport) {}
}

/// A [`Reporter`] that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoReporter;

impl Reporter for NoReporter {
    fn on_step(&mut self, _report: &StepReport) {}
}
