//! How a caller runs an experiment: where and on what ([`RunOptions`]) and the hooks
//! through which the runner shows what it does ([`Observer`]).
use std::path::PathBuf;

use corruptencoder_core::Progress;
use corruptencoder_data::ImageLimits;
use corruptencoder_report::{Provenance, RunResult};
use corruptencoder_train::burn::prelude::Device;
use corruptencoder_train::{MonitorReport, StepReport};

/// Hooks through which a runner shows what it does (libraries never print).
pub trait Observer: Sync {
    /// Run `index` of `total` (1-based) starts; `label` names arm, sweep value and seed.
    fn run_started(&self, _label: &str, _index: usize, _total: usize) {}
    /// A stage of the current run starts (`poisons`, `pretrain`, `features`, `probe`; the
    /// random-encoder baseline's `encoder`).
    fn stage(&self, _label: &str, _stage: &str) {}
    /// A run is done; `reused` when its result was found from an earlier invocation.
    fn run_finished(&self, _result: &RunResult, _reused: bool) {}
    /// One pre-training step.
    fn on_step(&self, _report: &StepReport) {}
    /// One measurement of the training monitor.
    fn on_monitor(&self, _report: &MonitorReport) {}
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
    /// The code and machine, recorded in every run made (the caller knows them: libraries
    /// read no environment).
    pub provenance: Provenance,
}
