//! What a run records: `log.jsonl` (one JSON line per step and per monitor measurement),
//! the TensorBoard event file when asked for, the per-step and per-epoch reports, the
//! training monitor and the epoch checkpoints.
use std::io::Write as _;
use std::path::{Path, PathBuf};

use corruptencoder_core::{IoError, write_atomic};

use crate::config::PretrainConfig;
use crate::encoder::Encoder;
use crate::error::Result;
use crate::io::checkpoint::{Position, save_checkpoint};
use crate::io::tensorboard::EventLog;
use crate::optim::OptimBuffers;
use crate::run::monitor::{MonitorSets, measure};
use crate::run::output::checkpoints_dir;
use crate::run::reporter::{Reporter, StepReport};

/// The run's `log.jsonl`: one JSON line per step, and one per monitor measurement.
pub(crate) struct StepLog {
    file: std::fs::File,
    path: PathBuf,
}

impl StepLog {
    /// Opens the log for appending after dropping lines past `keep_steps` (left by a run
    /// killed after its last checkpoint), so a resumed log reads like an uninterrupted one.
    pub(crate) fn open(path: PathBuf, keep_steps: u64) -> Result<Self> {
        let old = fs_err::read_to_string(&path).unwrap_or_default();
        let kept: String = old
            .lines()
            .filter(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .ok()
                    .and_then(|v| v["step"].as_u64())
                    .is_some_and(|s| s <= keep_steps)
            })
            .map(|l| format!("{l}\n"))
            .collect();
        write_atomic(&path, kept.as_bytes())?;
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(IoError::at("write", &path))?;
        Ok(Self { file, path })
    }

    pub(crate) fn append(&mut self, line: &impl serde::Serialize) -> Result<()> {
        let line = serde_json::to_string(line).expect("log lines serialise");
        writeln!(self.file, "{line}")
            .map_err(|source| IoError::new("write", &self.path, source).into())
    }
}

/// What the loop records around its steps: the step log, the training monitor, the
/// per-epoch checkpoint and the epoch's mean loss.
pub(crate) struct Bookkeeping<'a, 'r> {
    config: &'a PretrainConfig,
    sets: Option<MonitorSets<'r>>,
    reporter: &'r mut dyn Reporter,
    log: StepLog,
    /// The TensorBoard event file, when `config.tensorboard` is on.
    events: Option<EventLog>,
    ckpt_dir: PathBuf,
    steps_per_epoch: u64,
    epoch_loss: f64,
}

impl<'a, 'r> Bookkeeping<'a, 'r> {
    /// Opens `dir`'s `log.jsonl` (kept up to `start_step`) beside its checkpoints.
    pub(crate) fn open(
        config: &'a PretrainConfig,
        (sets, reporter): (Option<MonitorSets<'r>>, &'r mut dyn Reporter),
        dir: &Path,
        start_step: u64,
        steps_per_epoch: u64,
    ) -> Result<Self> {
        let log = StepLog::open(dir.join("log.jsonl"), start_step)?;
        let events = config.tensorboard.then(|| EventLog::open(dir, start_step)).transpose()?;
        let ckpt_dir = checkpoints_dir(dir);
        let epoch_loss = 0.0;
        Ok(Self { config, sets, reporter, log, events, ckpt_dir, steps_per_epoch, epoch_loss })
    }

    /// Before the first step of a run (not of a resumed one): the monitor's epoch-0 point.
    pub(crate) fn start(&mut self, encoder: &Encoder, step: u64) -> Result<()> {
        if step == 0 { self.monitor(encoder, (0, 0)) } else { Ok(()) }
    }

    /// After every step: its log line and report.
    pub(crate) fn step(&mut self, report: &StepReport) -> Result<()> {
        self.log.append(report)?;
        if let Some(events) = &mut self.events {
            events.step(report)?;
        }
        self.reporter.on_step(report);
        self.epoch_loss += f64::from(report.loss);
        Ok(())
    }

    /// After a step that ends an epoch: the monitor, then the checkpoint of `model` and
    /// the optimizer's `buffers` (returned), then the epoch's mean loss. `None` mid-epoch.
    pub(crate) fn epoch_end<M: burn::module::Module>(
        &mut self,
        encoder: &Encoder,
        model: &M,
        buffers: &OptimBuffers,
        report: &StepReport,
    ) -> Result<Option<PathBuf>> {
        if !report.step.is_multiple_of(self.steps_per_epoch) {
            return Ok(None);
        }
        let pos = Position { epochs: report.epoch + 1, step: report.step };
        // Before the checkpoint: a run killed in between measures again on resume.
        self.monitor(encoder, (pos.epochs, pos.step))?;
        let saved = save_checkpoint(&self.ckpt_dir, model, buffers, pos)?;
        let mean = self.epoch_loss / self.steps_per_epoch as f64;
        self.reporter.on_epoch(report.epoch, mean as f32);
        self.epoch_loss = 0.0;
        Ok(Some(saved))
    }

    /// Measures `encoder` when the monitor is due after `epochs_done` epochs, logs it and
    /// reports it.
    fn monitor(&mut self, encoder: &Encoder, (epochs_done, step): (usize, u64)) -> Result<()> {
        let Some(sets) = &self.sets else { return Ok(()) };
        if !self.config.monitor.due(epochs_done, self.config.epochs) {
            return Ok(());
        }
        let report = measure(&self.config.monitor, encoder, sets, (epochs_done, step))?;
        self.log.append(&report)?;
        if let Some(events) = &mut self.events {
            events.monitor(&report)?;
        }
        self.reporter.on_monitor(&report);
        Ok(())
    }
}
