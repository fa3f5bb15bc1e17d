//! The training loop, one for every kind of pre-training ([`Learner`]): resume from the last
//! checkpoint, the steps over the batch producer, the step log and checkpoints
//! (`step_log.rs`), and the export once training finishes.
use std::path::Path;
use std::time::Instant;

use burn::prelude::*;
use corruptencoder_core::Progress;

use crate::config::PretrainConfig;
use crate::error::{Error, Result};
use crate::io::checkpoint::{Position, latest_checkpoint, load_checkpoint};
use crate::io::weights::export_encoder;
use crate::optim::OptimState;
use crate::run::batches::{Batch, Schedule, spawn_loader};
use crate::run::job::{Job, PretrainSummary};
use crate::run::learner::Learner;
use crate::run::output::checkpoints_dir;
use crate::run::reporter::{StepReport, StepSeconds};
use crate::run::step_log::Bookkeeping;

/// Trains `fresh` (or, resuming, the last checkpoint's model) with `learner` over the run's
/// steps, and exports the encoder once the last step is done.
pub(crate) fn train<L: Learner>(
    learner: &L,
    fresh: L::Model,
    job: Job<'_, '_>,
) -> Result<PretrainSummary> {
    let Job { config, store, run, dir, device, .. } = job;
    let steps_per_epoch = (store.len() / config.batch_size) as u64;
    let total = steps_per_epoch * config.epochs as u64;
    let checkpoint = if run.resume { latest_checkpoint(&checkpoints_dir(dir)) } else { None };
    let (model, optimizer, start) = starting_state(checkpoint.as_deref(), fresh, device)?;
    let end = run.stop_after.map_or(total, |s| s.min(total));
    run.progress.start("pretrain", total);
    run.progress.advance(start.step);
    let hooks = (run.monitor, run.reporter);
    let mut books = Bookkeeping::open(config, hooks, dir, start.step, steps_per_epoch)?;
    books.start(L::encoder(&model), start.step)?;
    let summary = PretrainSummary::starting(store.len(), start.step, checkpoint);
    let mut steps = Steps { learner, config, progress: run.progress, books, optimizer, summary };
    let schedule = Schedule {
        seed: config.seed,
        batch_size: config.batch_size,
        steps_per_epoch,
        start: start.step,
        end,
    };
    let source = learner.view_source(&config.views);
    let model = std::thread::scope(|scope| -> Result<L::Model> {
        let batches = spawn_loader(scope, store, source.as_ref(), schedule, config.prefetch);
        let mut model = model;
        let mut clock = Instant::now();
        for step in start.step..end {
            // Stopping between steps leaves the last checkpoint whole for a resume.
            run.progress.check_cancelled()?;
            let batch = batches.recv().expect("loader sends one batch per step")?;
            model = steps.step(model, batch, (step, steps_per_epoch, total), clock)?;
            // After the monitor, so its measurement does not count against the next step.
            clock = Instant::now();
        }
        Ok(model)
    })?;
    run.progress.finish();
    let mut summary = steps.summary;
    if summary.steps == total {
        learner.export(&model, dir, total)?;
        let path = dir.join("encoder.safetensors");
        export_encoder(L::encoder(&model), total, &path)?;
        summary.encoder = Some(path);
    }
    Ok(summary)
}

/// What the loop carries from step to step besides the model.
struct Steps<'l, 'a, 'r, L: Learner> {
    learner: &'l L,
    config: &'a PretrainConfig,
    progress: &'r dyn Progress,
    books: Bookkeeping<'a, 'r>,
    optimizer: L::Optimizer,
    summary: PretrainSummary,
}

impl<L: Learner> Steps<'_, '_, '_, L> {
    /// One optimiser step on `batch` at the 0-based global `step` of `total`, with
    /// `per_epoch` steps an epoch; `clock` started when the previous step ended.
    fn step(
        &mut self,
        model: L::Model,
        batch: Batch,
        (step, per_epoch, total): (u64, u64, u64),
        clock: Instant,
    ) -> Result<L::Model> {
        let epoch = (step / per_epoch) as usize;
        let views = L::VIEWS * batch.len();
        let data = clock.elapsed().as_secs_f64();
        let pass = self.learner.forward_backward(&model, batch, step);
        let (loss, grads, output) = (pass.loss, pass.grads, pass.output);
        if !loss.is_finite() {
            let checkpoint = self.summary.checkpoint.clone();
            return Err(Error::NonFiniteLoss { loss, epoch, step: step + 1, checkpoint });
        }
        let lr = self.learner.learning_rate(self.config, step, per_epoch);
        let updating = Instant::now();
        let model = self.learner.update(&mut self.optimizer, model, grads, (lr, step));
        let update = updating.elapsed().as_secs_f64();
        let model = self.learner.after_step(model, output, (step + 1) as f64 / total as f64);
        let after = updating.elapsed().as_secs_f64() - update;
        let views_per_sec = views as f64 / clock.elapsed().as_secs_f64();
        let (forward, backward) = (pass.forward, pass.backward);
        let seconds = StepSeconds { data, forward, backward, update, after };
        let report = StepReport { epoch, step: step + 1, loss, lr, views_per_sec, seconds };
        self.books.step(&report)?;
        self.progress.advance(1);
        (self.summary.steps, self.summary.last_loss) = (step + 1, Some(loss));
        let buffers = self.optimizer.buffers();
        if let Some(saved) = self.books.epoch_end(L::encoder(&model), &model, buffers, &report)? {
            self.summary.checkpoint = Some(saved);
        }
        Ok(model)
    }
}

/// The model, optimiser state and position to start from: the checkpoint's, or fresh.
fn starting_state<M: Module, O: OptimState>(
    checkpoint: Option<&Path>,
    fresh: M,
    device: &Device,
) -> Result<(M, O, Position)> {
    match checkpoint {
        Some(path) => {
            log::info!("resuming from {}", path.display());
            let (model, buffers, pos) = load_checkpoint(path, fresh, device)?;
            Ok((model, O::from_buffers(buffers), pos))
        }
        None => Ok((fresh, O::default(), Position { epochs: 0, step: 0 })),
    }
}
