//! The image-text training loop: one augmented view per image, its caption tokenized, the
//! symmetric InfoNCE, AdamW; checkpoints, resume and export as the image-only loop.
use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use burn::optim::GradientsParams;
use burn::prelude::*;
use corruptencoder_core::{Rng, item_rng, write_atomic};
use corruptencoder_data::{Encoded, Tokenizer};
use rayon::prelude::*;

use super::model::{Clip, ClipConfig};
use crate::error::{Error, Result};
use crate::io::checkpoint::{Position, latest_checkpoint, load_checkpoint};
use crate::io::tensors::{module_tensors, to_safetensors};
use crate::io::weights::export_encoder;
use crate::optim::AdamW;
use crate::run::pipeline::{ImageStore, epoch_order};
use crate::run::pretrain::{Bookkeeping, Job, PretrainSummary, checkpoints_dir};
use crate::run::reporter::StepReport;

/// The whole model's file beside `encoder.safetensors` (which holds the image encoder alone,
/// in torchvision names, for the linear probe).
pub const CLIP_FILE: &str = "clip.safetensors";
/// The tokenizer saved with the model.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
const CLIP_FORMAT: &str = "corruptencoder-clip-1";

/// A batch: `n` planar views `[n, 3, size, size]` and the dataset rows they come from.
struct ClipBatch {
    images: Vec<f32>,
    rows: Vec<usize>,
}

pub(crate) fn train_clip(
    cc: &ClipConfig,
    job: Job<'_, '_>,
    rng: &mut Rng,
) -> Result<PretrainSummary> {
    let Job { config, store, run, dir, device, replicas } = job;
    if !replicas.is_empty() {
        return Err(Error::Config(
            "--method clip runs on one device (no data-parallel CLIP yet)".into(),
        ));
    }
    let captions = (0..store.len())
        .map(|i| store.caption(i))
        .collect::<Option<Vec<&str>>>()
        .ok_or_else(|| {
            Error::Config(format!(
                "--method clip needs image-caption data (an `image,caption` CSV or a folder of \
                 images with .txt captions); {} has no captions",
                store.dataset_path().display()
            ))
        })?;
    let tokenizer = tokenizer_for(dir, cc, &captions)?;
    let encoded: Vec<Encoded> = captions.iter().map(|c| tokenizer.encode(c)).collect();
    let fresh = cc.init(&config.encoder, tokenizer.vocab_size(), device, rng);

    let ckpt_dir = checkpoints_dir(dir);
    let steps_per_epoch = (store.len() / config.batch_size) as u64;
    let total = steps_per_epoch * config.epochs as u64;
    let mut checkpoint = if run.resume { latest_checkpoint(&ckpt_dir) } else { None };
    let (model, mut adam, start) = match checkpoint.as_deref() {
        Some(path) => {
            log::info!("resuming from {}", path.display());
            let (model, buffers, pos) = load_checkpoint(path, fresh, device)?;
            (model, AdamW { buffers }, pos)
        }
        None => (fresh, AdamW::default(), Position { epochs: 0, step: 0 }),
    };
    let end = run.stop_after.map_or(total, |s| s.min(total));
    let mut summary = PretrainSummary::starting(store.len(), start.step, checkpoint.clone());
    run.progress.start("pretrain", total);
    run.progress.advance(start.step);
    let hooks = (run.monitor, run.reporter);
    let mut books = Bookkeeping::open(config, hooks, dir, start.step, steps_per_epoch)?;
    books.start(model.encoder(), start.step)?;
    let size = config.views.size as usize;
    let (seed, batch_size, context) = (config.seed, config.batch_size, tokenizer.context);
    let model = std::thread::scope(|scope| -> Result<Clip> {
        let mut model = model;
        let (tx, batches) = sync_channel(config.prefetch.max(1));
        scope.spawn(move || {
            let mut order: Option<(usize, Vec<usize>)> = None;
            for step in start.step..end {
                let epoch = (step / steps_per_epoch) as usize;
                if order.as_ref().is_none_or(|(e, _)| *e != epoch) {
                    order = Some((epoch, epoch_order(seed, epoch, store.len())));
                }
                let within = (step % steps_per_epoch) as usize;
                let rows = order.as_ref().expect("set above").1
                    [within * batch_size..(within + 1) * batch_size]
                    .to_vec();
                let batch = make_batch(store, &config.views, seed, epoch, rows);
                let failed = batch.is_err();
                if tx.send(batch).is_err() || failed {
                    return;
                }
            }
        });
        let mut clock = Instant::now();
        for step in start.step..end {
            run.progress.check_cancelled()?;
            let batch = batches.recv().expect("loader sends one batch per step")?;
            let epoch = (step / steps_per_epoch) as usize;
            let n = batch.rows.len();
            let images =
                Tensor::<4>::from_data(TensorData::new(batch.images, [n, 3, size, size]), device);
            let (tokens, eot) = token_tensors(&encoded, &batch.rows, context, device);
            let loss_t = model.forward(images, tokens, eot);
            let loss = loss_t.clone().into_scalar::<f32>();
            if !loss.is_finite() {
                return Err(Error::NonFiniteLoss {
                    loss,
                    epoch,
                    step: step + 1,
                    checkpoint: checkpoint.clone(),
                });
            }
            let grads = GradientsParams::from_grads(loss_t.backward(), &model);
            let lr = config.optim.learning_rate(step, steps_per_epoch, config.epochs);
            model = adam.step(&cc.adam, (lr, config.optim.weight_decay), step + 1, model, grads);
            let report = StepReport {
                epoch,
                step: step + 1,
                loss,
                lr,
                views_per_sec: n as f64 / clock.elapsed().as_secs_f64(),
            };
            books.step(&report)?;
            run.progress.advance(1);
            (summary.steps, summary.last_loss) = (step + 1, Some(loss));
            if let Some(saved) = books.epoch_end(model.encoder(), &model, &adam.buffers, &report)? {
                checkpoint = Some(saved);
            }
            clock = Instant::now();
        }
        Ok(model)
    })?;
    run.progress.finish();
    summary.checkpoint = checkpoint;
    if summary.steps == total {
        log::info!("clip temperature at the end: {:.4}", model.temperature());
        export_clip(&model, total, &dir.join(CLIP_FILE))?;
        let path = dir.join("encoder.safetensors");
        export_encoder(model.encoder(), total, &path)?;
        summary.encoder = Some(path);
    }
    Ok(summary)
}

/// The run's tokenizer: the one saved in `dir` when resuming, else fitted on the captions
/// and saved there.
fn tokenizer_for(dir: &Path, cc: &ClipConfig, captions: &[&str]) -> Result<Tokenizer> {
    let path = dir.join(TOKENIZER_FILE);
    if path.exists() {
        return Ok(Tokenizer::from_file(&path)?);
    }
    let t = Tokenizer::fit(captions.iter().copied(), cc.context, cc.min_word_count, cc.max_words)?;
    write_atomic(&path, t.to_json().as_bytes())?;
    Ok(t)
}

/// One view per image of `rows`, built in parallel; image `i`'s view in epoch `e` comes
/// from `item_rng(seed, 2e + 1, i)`, as in the image-only pipeline.
fn make_batch(
    store: &ImageStore,
    recipe: &corruptencoder_augment::ViewRecipe,
    seed: u64,
    epoch: usize,
    rows: Vec<usize>,
) -> Result<ClipBatch> {
    let views: Vec<_> = rows
        .par_iter()
        .map(|&i| {
            let mut rng = item_rng(seed, 2 * epoch as u64 + 1, i as u64);
            store.with_image(i, |img| recipe.view(img, &mut rng))
        })
        .collect::<Result<_>>()?;
    let images = views.into_iter().flat_map(|v| v.data).collect();
    Ok(ClipBatch { images, rows })
}

/// Token ids `[n, context]` and `<eot>` positions `[n]` of captions `rows`.
pub(crate) fn token_tensors(
    encoded: &[Encoded],
    rows: &[usize],
    context: usize,
    device: &Device,
) -> (Tensor<2, Int>, Tensor<1, Int>) {
    let ids: Vec<i64> =
        rows.iter().flat_map(|&r| encoded[r].ids.iter().map(|&t| i64::from(t))).collect();
    let eot: Vec<i64> = rows.iter().map(|&r| encoded[r].eot as i64).collect();
    (
        Tensor::from_data(TensorData::new(ids, [rows.len(), context]), device),
        Tensor::from_data(TensorData::new(eot, [rows.len()]), device),
    )
}

/// Writes the whole model (inference state) as safetensors with module-path keys.
fn export_clip(model: &Clip, steps: u64, path: &Path) -> Result<()> {
    let tensors = module_tensors(&model.valid());
    let meta = HashMap::from([(CLIP_FORMAT.to_owned(), format!("steps={steps}"))]);
    write_atomic(path, &to_safetensors(&tensors, meta, path)?)?;
    Ok(())
}

/// Reads a model written by `export_clip` into a freshly built one.
pub(crate) fn import_clip(fresh: Clip, path: &Path) -> Result<Clip> {
    let (tensors, meta) = crate::io::tensors::read_safetensors(path)?;
    if !meta.contains_key(CLIP_FORMAT) {
        return Err(Error::BadWeights {
            path: path.to_path_buf(),
            what: "not a corruptencoder CLIP model".into(),
        });
    }
    crate::io::tensors::load_module(fresh, &tensors, "", path)
}
