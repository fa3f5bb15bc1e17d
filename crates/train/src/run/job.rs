//! A run's inputs and outcome: what the caller passes ([`PretrainRun`]), what the loop
//! reads ([`Job`]) and what a run did ([`PretrainSummary`]).
use std::path::{Path, PathBuf};

use burn::prelude::*;
use corruptencoder_core::Progress;
use corruptencoder_data::DatasetFormat;

use crate::config::PretrainConfig;
use crate::run::images::ImageStore;
use crate::run::monitor::MonitorSets;
use crate::run::reporter::Reporter;

/// Where and how to run; the device, hooks and paths come from the caller.
pub struct PretrainRun<'a> {
    /// Image list (`path label` lines), ImageFolder, CIFAR binary or IDX images file.
    pub data: &'a Path,
    /// The format of `data`; detected from the path when `None` (`DatasetFormat::detect`).
    pub format: Option<DatasetFormat>,
    /// Output folder: `config.toml`, `seed`, `log.jsonl`, `checkpoints/`, `encoder.safetensors`.
    pub out: &'a Path,
    /// Continue from the last checkpoint in `out` (the configuration must match).
    pub resume: bool,
    /// Replace an existing `out`.
    pub force: bool,
    /// Training device (autodiff is enabled on it here).
    pub device: Device,
    /// Progress over steps.
    pub progress: &'a dyn Progress,
    /// Per-step hook.
    pub reporter: &'a mut dyn Reporter,
    /// Stop after this global step without exporting, as if killed (tests, time limits).
    pub stop_after: Option<u64>,
    /// The sets the training monitor scores on (`config.monitor`); none: monitor off.
    pub monitor: Option<MonitorSets<'a>>,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq)]
pub struct PretrainSummary {
    /// Usable images.
    pub images: usize,
    /// Unreadable images skipped.
    pub skipped: usize,
    /// Optimizer steps done in total (resumed ones included).
    pub steps: u64,
    /// Loss of the last step run, if any.
    pub last_loss: Option<f32>,
    /// The newest checkpoint.
    pub checkpoint: Option<PathBuf>,
    /// The exported encoder, when training finished.
    pub encoder: Option<PathBuf>,
}

/// Everything a training loop reads besides the method it trains.
pub(crate) struct Job<'a, 'r> {
    pub(crate) config: &'a PretrainConfig,
    pub(crate) store: &'a ImageStore,
    pub(crate) run: PretrainRun<'r>,
    /// The staged output folder.
    pub(crate) dir: &'a Path,
    pub(crate) device: &'a Device,
    /// Data-parallel replicas of `device` (none: one device).
    pub(crate) replicas: &'a [Device],
}

impl PretrainSummary {
    pub(crate) fn starting(images: usize, steps: u64, checkpoint: Option<PathBuf>) -> Self {
        Self { images, skipped: 0, steps, last_loss: None, checkpoint, encoder: None }
    }
}
