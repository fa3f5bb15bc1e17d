//! The pre-training entry points: inputs checked before any output exists, the run folder
//! staged, the method's model built by its registry and trained by the loop, the folder
//! renamed into place once the encoder is exported.
use std::path::{Path, PathBuf};

use burn::prelude::*;
use corruptencoder_core::{OutputDir, Rng, SettingError};
use corruptencoder_data::{Dataset, open_dataset};

use crate::config::PretrainConfig;
use crate::encoder::Encoder;
use crate::error::{Error, Result};
use crate::method::MethodVisitor;
use crate::method::clip::{ClipConfig, train_image_text};
use crate::run::contrastive::Contrastive;
use crate::run::images::ImageStore;
use crate::run::job::{Job, PretrainRun, PretrainSummary};
use crate::run::output::prepare_output;
use crate::run::parallel::{DataParallel, check_shards};
use crate::run::train::train;

/// The stream of initial weights; data streams are `2 * epoch` and `2 * epoch + 1`
/// (`batches.rs`), so the top value stays clear of them.
const INIT_STREAM: u64 = u64::MAX;

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

/// [`pretrain`] data-parallel over `run.device` and `replicas`.
///
/// The batch size and learning rate are the global ones, as on one device; the batch size
/// must be a multiple of the number of devices. Checkpoints, resume and the exported encoder
/// are those of a single-device run (the first device's model is the one stored).
pub fn pretrain_data_parallel(
    config: &PretrainConfig,
    run: PretrainRun<'_>,
    replicas: &[Device],
) -> Result<PretrainSummary> {
    pretrain_on(config, run, replicas)
}

/// [`pretrain`] with data-parallel `replicas` of `run.device` (none: one device).
fn pretrain_on(
    config: &PretrainConfig,
    run: PretrainRun<'_>,
    replicas: &[Device],
) -> Result<PretrainSummary> {
    config.validate()?;
    if config.monitor.every > 0 && run.monitor.is_none() {
        log::warn!("pretrain.monitor.every is set but no downstream sets were given: no monitor");
    }
    check_shards(config.batch_size, replicas.len() + 1, config.method.bn_splits())?;
    if config.icutmix.is_some() && !replicas.is_empty() {
        let problem = "i-CutMix mixes images across the whole batch and runs on one device so far";
        return Err(SettingError::new("icutmix", "on", problem).into());
    }
    // A finished run in the way is refused before the data is read.
    OutputDir::check(run.out, run.force)?;
    let (store, skipped) = open_store(open_dataset(run.data, run.format)?, config, run.data)?;
    if let Some(advice) = config.method.advice(store.len()) {
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
    let mut summary = config.method.visit(&config.encoder, &device, rng, Train { job })?;
    summary.skipped = skipped;
    commit_run(out, summary)
}

/// The usable images of `dataset` (read from `path`) under `config`'s strictness and cache,
/// and the count of unreadable ones skipped; enough of them for one batch.
pub(crate) fn open_store(
    dataset: Box<dyn Dataset>,
    config: &PretrainConfig,
    path: &Path,
) -> Result<(ImageStore, usize)> {
    let (store, skipped) = ImageStore::open(dataset, config.strict, config.cache_mib << 20)?;
    if skipped > 0 {
        log::warn!("skipped {skipped} unreadable images of {}", path.display());
    }
    if store.len() == 0 {
        return Err(Error::EmptyDataset { path: path.to_path_buf() });
    }
    if config.batch_size > store.len() {
        return Err(Error::BatchTooLarge { batch: config.batch_size, images: store.len() });
    }
    Ok((store, skipped))
}

/// A run that exported its encoder renamed into place, the summary's paths moved with it;
/// an unfinished one left staged for a resume.
pub(crate) fn commit_run(out: OutputDir, mut summary: PretrainSummary) -> Result<PretrainSummary> {
    if summary.encoder.is_some() {
        let dir = out.path().to_path_buf();
        let target = out.commit()?;
        let moved = |p: &PathBuf| target.join(p.strip_prefix(&dir).unwrap_or(p));
        summary.encoder = summary.encoder.as_ref().map(moved);
        summary.checkpoint = summary.checkpoint.as_ref().map(moved);
    }
    Ok(summary)
}

/// The run's training, by kind of method.
struct Train<'a, 'r> {
    job: Job<'a, 'r>,
}

impl MethodVisitor for Train<'_, '_> {
    type Output = Result<PretrainSummary>;

    fn contrastive<M: DataParallel>(self, method: M) -> Self::Output {
        let Job { config, device, replicas, .. } = self.job;
        train(&Contrastive::new(config, device, replicas), method, self.job)
    }

    fn image_text(self, config: &ClipConfig, rng: &mut Rng) -> Self::Output {
        train_image_text(config, self.job, rng)
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
}
