//! The pre-training entry point: data, views, the generic training loop, checkpoints.
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::prelude::*;
use corruptencoder_core::{OutputDir, Progress, write_atomic};
use corruptencoder_data::{DatasetFormat, open_dataset};

use crate::config::PretrainConfig;
use crate::encoder::Encoder;
use crate::error::{Error, Result};
use crate::io::checkpoint::{
    OptimBuffers, Position, latest_checkpoint, load_checkpoint, save_checkpoint,
};
use crate::io::weights::export_encoder;
use crate::method::MethodConfig;
use crate::optim::Sgd;
use crate::run::monitor::{MonitorSets, measure};
use crate::run::parallel::{DataParallel, forward_backward};
use crate::run::pipeline::{ImageStore, Schedule, spawn_loader};
use crate::run::reporter::{Reporter, StepReport};

/// The stream of initial weights; data streams are `2 * epoch` and `2 * epoch + 1`
/// (`pipeline.rs`), so the top value stays clear of them.
const INIT_STREAM: u64 = u64::MAX;

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

/// The encoder every method starts from under `config` (its architecture and seed): the
/// random-encoder baseline, untrained. Methods draw their online encoder first from the
/// initial-weights stream, so this is the very encoder `pretrain` starts from.
pub fn initial_encoder(config: &PretrainConfig, device: &Device) -> Encoder {
    let rng = &mut corruptencoder_core::item_rng(config.seed, INIT_STREAM, 0);
    config.encoder.init(device, rng)
}

/// Pre-trains an encoder with `config` on `run.data`, writing into `run.out`.
///
/// The run is built in `.<out>.partial` (core's resumable [`OutputDir`]) and renamed to
/// `out` once the encoder is exported; a run stopped or killed before that stays there for
/// `resume`. Inputs are checked before any output is created.
pub fn pretrain(config: &PretrainConfig, run: PretrainRun<'_>) -> Result<PretrainSummary> {
    pretrain_on(config, run, &[])
}

/// [`pretrain`] with data-parallel `replicas` of `run.device` (none: one device).
pub(crate) fn pretrain_on(
    config: &PretrainConfig,
    run: PretrainRun<'_>,
    replicas: &[Device],
) -> Result<PretrainSummary> {
    config.validate()?;
    if config.monitor.every > 0 && run.monitor.is_none() {
        log::warn!("pretrain.monitor.every is set but no downstream sets were given: no monitor");
    }
    let bn_splits = match &config.method {
        MethodConfig::MocoV2(m) => m.bn_splits,
        _ => 1,
    };
    crate::run::parallel::check_shards(config.batch_size, replicas.len() + 1, bn_splits)?;
    // A finished run in the way is refused before the data is read.
    OutputDir::check(run.out, run.force)?;
    let dataset = open_dataset(run.data, run.format)?;
    let (store, skipped) = ImageStore::open(dataset, config.strict, config.cache_mib << 20)?;
    if skipped > 0 {
        log::warn!("skipped {skipped} unreadable images of {}", run.data.display());
    }
    if store.len() == 0 {
        return Err(Error::EmptyDataset { path: run.data.to_path_buf() });
    }
    if config.batch_size > store.len() {
        return Err(Error::BatchTooLarge { batch: config.batch_size, images: store.len() });
    }
    if let MethodConfig::MocoV2(m) = &config.method
        && let Some(advice) = queue_advice(m.queue_size, store.len())
    {
        log::warn!("{advice}");
    }
    let out = prepare_output(config, run.out, run.resume, run.force)?;
    let dir = out.path().to_path_buf();
    let device = run.device.clone().autodiff();
    device.seed(config.seed);
    // Initial weights (and MoCo's queue) come from the run's own stream, not burn's
    // process-wide generator (see `init.rs`).
    let rng = &mut corruptencoder_core::item_rng(config.seed, INIT_STREAM, 0);
    let job = Job { config, store: &store, run, dir: &dir, device: &device, replicas };
    let mut summary = match &config.method {
        MethodConfig::MocoV2(m) => train(m.init(&config.encoder, &device, rng), job)?,
        MethodConfig::Simclr(m) => train(m.init(&config.encoder, &device, rng), job)?,
        MethodConfig::Byol(m) => train(m.init(&config.encoder, &device, rng), job)?,
        MethodConfig::Clip(m) => crate::method::clip::train_clip(m, job, rng)?,
    };
    summary.skipped = skipped;
    if summary.encoder.is_some() {
        let target = out.commit()?;
        let moved = |p: &PathBuf| target.join(p.strip_prefix(&dir).unwrap_or(p));
        summary.encoder = summary.encoder.as_ref().map(moved);
        summary.checkpoint = summary.checkpoint.as_ref().map(moved);
    }
    Ok(summary)
}

/// Where a run folder keeps its per-epoch checkpoints.
pub(crate) fn checkpoints_dir(run_dir: &Path) -> PathBuf {
    run_dir.join("checkpoints")
}

/// The run's staged folder: a fresh one with `config.toml`, `seed` and checkpoints, or the
/// unfinished one being resumed, whose configuration must be this one.
pub(crate) fn prepare_output(
    config: &PretrainConfig,
    out: &Path,
    resume: bool,
    force: bool,
) -> Result<OutputDir> {
    let dir = OutputDir::resumable(out, force, resume)?;
    let staged = dir.path();
    if dir.resumed() {
        // A run killed while writing a checkpoint left its temporary file behind.
        corruptencoder_core::remove_stale(&checkpoints_dir(staged))?;
        let stored = PretrainConfig::from_toml_file(&staged.join("config.toml"))?;
        if &stored != config {
            return Err(Error::Config(format!(
                "{} was run with a different configuration; resume with its config.toml",
                staged.display()
            )));
        }
        return Ok(dir);
    }
    let io = |source| Error::Write { path: staged.to_path_buf(), source };
    fs_err::create_dir_all(checkpoints_dir(staged)).map_err(io)?;
    write_atomic(&staged.join("config.toml"), config.to_toml().as_bytes())?;
    write_atomic(&staged.join("seed"), format!("{}\n", config.seed).as_bytes())?;
    Ok(dir)
}

/// Everything a training loop reads besides the method it trains.
pub(crate) struct Job<'a, 'r> {
    pub(crate) config: &'a PretrainConfig,
    pub(crate) store: &'a ImageStore,
    pub(crate) run: PretrainRun<'r>,
    /// The staged output folder.
    pub(crate) dir: &'a Path,
    pub(crate) device: &'a Device,
    pub(crate) replicas: &'a [Device],
}

fn train<M: DataParallel>(fresh: M, job: Job<'_, '_>) -> Result<PretrainSummary> {
    let Job { config, store, run, dir, device, replicas } = job;
    let ckpt_dir = checkpoints_dir(dir);
    let steps_per_epoch = (store.len() / config.batch_size) as u64;
    let total = steps_per_epoch * config.epochs as u64;
    let mut checkpoint = if run.resume { latest_checkpoint(&ckpt_dir) } else { None };
    let (method, mut sgd, start) = starting_state(checkpoint.as_deref(), fresh, device)?;
    let end = run.stop_after.map_or(total, |s| s.min(total));
    let mut summary = PretrainSummary::starting(store.len(), start.step, checkpoint.clone());
    run.progress.start("pretrain", total);
    run.progress.advance(start.step);
    let hooks = (run.monitor, run.reporter);
    let mut books = Bookkeeping::open(config, hooks, dir, start.step, steps_per_epoch)?;
    let size = config.views.size as usize;
    let schedule = Schedule {
        seed: config.seed,
        batch_size: config.batch_size,
        steps_per_epoch,
        start: start.step,
        end,
    };
    books.start(method.encoder(), start.step)?;
    let method = std::thread::scope(|scope| -> Result<M> {
        let mut method = method;
        let batches = spawn_loader(scope, store, &config.views, schedule, config.prefetch);
        let mut clock = Instant::now();
        for step in start.step..end {
            // Stopping between steps leaves the last checkpoint whole for `--resume`.
            run.progress.check_cancelled()?;
            let batch = batches.recv().expect("loader sends one batch per step")?;
            let epoch = (step / steps_per_epoch) as usize;
            let views = (batch.views1, batch.views2, [batch.n, 3, size, size]);
            let (loss, grads, output) =
                forward_backward(&method, views, device, replicas, (config.seed, step));
            if !loss.is_finite() {
                return Err(Error::NonFiniteLoss {
                    loss,
                    epoch,
                    step: step + 1,
                    checkpoint: checkpoint.clone(),
                });
            }
            let lr = config.optim.learning_rate(step, steps_per_epoch, config.epochs);
            method = sgd.step(&config.optim, lr, method, grads);
            method = method.after_step(output, (step + 1) as f64 / total as f64);
            let report = StepReport {
                epoch,
                step: step + 1,
                loss,
                lr,
                views_per_sec: (2 * batch.n) as f64 / clock.elapsed().as_secs_f64(),
            };
            books.step(&report)?;
            run.progress.advance(1);
            (summary.steps, summary.last_loss) = (step + 1, Some(loss));
            if let Some(saved) =
                books.epoch_end(method.encoder(), &method, &sgd.buffers, &report)?
            {
                checkpoint = Some(saved);
            }
            // After the monitor, so its measurement does not count against the next step.
            clock = Instant::now();
        }
        Ok(method)
    })?;
    run.progress.finish();
    summary.checkpoint = checkpoint;
    if summary.steps == total {
        let path = dir.join("encoder.safetensors");
        export_encoder(method.encoder(), total, &path)?;
        summary.encoder = Some(path);
    }
    Ok(summary)
}

/// The method, optimizer state and position to start from: the checkpoint's, or fresh.
fn starting_state<M: burn::module::Module>(
    checkpoint: Option<&Path>,
    fresh: M,
    device: &Device,
) -> Result<(M, Sgd, Position)> {
    match checkpoint {
        Some(path) => {
            log::info!("resuming from {}", path.display());
            let (method, buffers, pos) = load_checkpoint(path, fresh, device)?;
            Ok((method, Sgd { buffers }, pos))
        }
        None => Ok((fresh, Sgd::default(), Position { epochs: 0, step: 0 })),
    }
}

impl PretrainSummary {
    pub(crate) fn starting(images: usize, steps: u64, checkpoint: Option<PathBuf>) -> Self {
        Self { images, skipped: 0, steps, last_loss: None, checkpoint, encoder: None }
    }
}

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
            .map_err(|source| Error::Write { path: path.clone(), source })?;
        Ok(Self { file, path })
    }

    pub(crate) fn append(&mut self, line: &impl serde::Serialize) -> Result<()> {
        let line = serde_json::to_string(line).expect("log lines serialise");
        writeln!(self.file, "{line}")
            .map_err(|source| Error::Write { path: self.path.clone(), source })
    }
}

/// Why a MoCo queue of `queue` keys is too long for `images` images, if it is. A queue
/// longer than the data holds several stale keys of each image, among them each query's
/// own image as a negative; MoCo's CIFAR-10 demo saturates at 4,096 keys for 50,000
/// images (about 8 %), so SPEC's 65,536 (for ImageNet-100) suits no CPU-scale set.
fn queue_advice(queue: usize, images: usize) -> Option<String> {
    (queue > images).then(|| {
        format!(
            "MoCo queue of {queue} keys for {images} images holds each image's key about \
             {} times, its own image among a query's negatives: set method.queue_size to a \
             few percent of the images (MoCo's CIFAR-10 demo: 4,096 for 50,000)",
            queue.div_ceil(images)
        )
    })
}

/// What both training loops (this one and `clip/train.rs`) record around their steps: the
/// step log, the training monitor, the per-epoch checkpoint and the epoch's mean loss.
pub(crate) struct Bookkeeping<'a, 'r> {
    config: &'a PretrainConfig,
    sets: Option<MonitorSets<'r>>,
    reporter: &'r mut dyn Reporter,
    log: StepLog,
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
        let ckpt_dir = checkpoints_dir(dir);
        Ok(Self { config, sets, reporter, log, ckpt_dir, steps_per_epoch, epoch_loss: 0.0 })
    }

    /// Before the first step of a run (not of a resumed one): the monitor's epoch-0 point.
    pub(crate) fn start(&mut self, encoder: &Encoder, step: u64) -> Result<()> {
        if step == 0 { self.monitor(encoder, (0, 0)) } else { Ok(()) }
    }

    /// After every step: its log line and report.
    pub(crate) fn step(&mut self, report: &StepReport) -> Result<()> {
        self.log.append(report)?;
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
        self.reporter.on_monitor(&report);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoder::{Arch, EncoderConfig, Stem};
    use crate::io::tensors::module_tensors;
    use crate::method::{ByolConfig, Method, MocoV2Config, SimclrConfig};

    /// The baseline is the encoder each method starts from, and differs between seeds.
    #[test]
    fn the_initial_encoder_is_where_every_method_starts() {
        let device = Device::flex();
        let mut config = PretrainConfig {
            seed: 5,
            encoder: EncoderConfig::new(Arch::SmallCnn, Stem::Cifar, 4),
            ..Default::default()
        };
        let base = module_tensors(&initial_encoder(&config, &device));
        let rng = || corruptencoder_core::item_rng(5, INIT_STREAM, 0);
        let e = &config.encoder;
        let moco = MocoV2Config { queue_size: 8, bn_splits: 1, ..Default::default() };
        let starts = [
            module_tensors(SimclrConfig::default().init(e, &device, &mut rng()).encoder()),
            module_tensors(moco.init(e, &device, &mut rng()).encoder()),
            module_tensors(ByolConfig::default().init(e, &device, &mut rng()).encoder()),
        ];
        for start in starts {
            assert_eq!(start, base);
        }
        config.seed = 6;
        assert_ne!(module_tensors(&initial_encoder(&config, &device)), base);
    }

    #[test]
    fn a_queue_longer_than_the_data_is_advised_against() {
        assert_eq!(queue_advice(200, 2000), None);
        assert_eq!(queue_advice(2000, 2000), None);
        let advice = queue_advice(65536, 2000).unwrap();
        assert!(advice.contains("about 33 times"), "{advice}");
    }
}
