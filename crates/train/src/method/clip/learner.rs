//! Image-text pre-training as the loop's [`Learner`]: one view of each image and its
//! caption's tokens, CLIP's symmetric InfoNCE, AdamW; `clip.safetensors` beside the encoder.
use std::path::Path;
use std::time::Instant;

use burn::optim::GradientsParams;
use burn::prelude::*;
use corruptencoder_core::{Rng, write_atomic};
use corruptencoder_data::{Encoded, Tokenizer};

use super::files::{CLIP_FILE, TOKENIZER_FILE, export_clip};
use super::model::{Clip, ClipConfig, token_tensors};
use crate::encoder::Encoder;
use crate::error::{Error, Result};
use crate::optim::{AdamW, OptimConfig};
use crate::run::batches::Batch;
use crate::run::job::{Job, PretrainSummary};
use crate::run::learner::{Learner, Pass};
use crate::run::train::train;

/// A CLIP model trained on the run's captions, tokenized once.
struct ImageText<'a> {
    config: &'a ClipConfig,
    optim: &'a OptimConfig,
    /// Every image's caption, tokenized.
    encoded: Vec<Encoded>,
    context: usize,
    device: &'a Device,
}

/// Pre-trains a CLIP model of `config` on the job's image-caption data; its weights are
/// drawn from `rng` once the captions' vocabulary is known.
pub(crate) fn train_image_text(
    config: &ClipConfig,
    job: Job<'_, '_>,
    rng: &mut Rng,
) -> Result<PretrainSummary> {
    if !job.replicas.is_empty() {
        return Err(Error::OneDevice);
    }
    let store = job.store;
    let captions = (0..store.len())
        .map(|i| store.caption(i))
        .collect::<Option<Vec<&str>>>()
        .ok_or_else(|| Error::NoCaptions { path: store.dataset_path().to_path_buf() })?;
    let tokenizer = tokenizer_for(job.dir, config, &captions)?;
    let encoded = captions.iter().map(|c| tokenizer.encode(c)).collect();
    let fresh = config.init(&job.config.encoder, tokenizer.vocab_size(), job.device, rng);
    let learner = ImageText {
        config,
        optim: &job.config.optim,
        encoded,
        context: tokenizer.context,
        device: job.device,
    };
    train(&learner, fresh, job)
}

impl Learner for ImageText<'_> {
    type Model = Clip;
    type Output = ();
    type Optimizer = AdamW;
    const VIEWS: usize = 1;

    fn encoder(model: &Clip) -> &Encoder {
        model.encoder()
    }

    fn forward_backward(&self, model: &Clip, batch: Batch, _step: u64) -> Pass<()> {
        let clock = Instant::now();
        let shape = batch.shape();
        let [view]: [Vec<f32>; 1] = batch.views.try_into().expect("one view per image");
        let images = Tensor::<4>::from_data(TensorData::new(view, shape), self.device);
        let (tokens, eot) = token_tensors(&self.encoded, &batch.rows, self.context, self.device);
        backward_pass(model, model.forward(images, tokens, eot), clock)
    }

    fn update(
        &self,
        adam: &mut AdamW,
        model: Clip,
        grads: GradientsParams,
        (lr, step): (f64, u64),
    ) -> Clip {
        // AdamW counts steps from 1; the checkpoint's step count continues its bias correction.
        adam.step(&self.config.adam, (lr, self.optim.weight_decay), step + 1, model, grads)
    }

    fn after_step(&self, model: Clip, _output: (), _progress: f64) -> Clip {
        model
    }

    fn export(&self, model: &Clip, dir: &Path, steps: u64) -> Result<()> {
        log::info!("clip temperature at the end: {:.4}", model.temperature());
        export_clip(model, steps, &dir.join(CLIP_FILE))
    }
}

/// The gradients of `loss` (computed from `model` since `clock` started), and the forward
/// and backward passes' seconds.
pub(crate) fn backward_pass(model: &Clip, loss: Tensor<1>, clock: Instant) -> Pass<()> {
    let value = loss.clone().into_scalar::<f32>();
    let forward = clock.elapsed().as_secs_f64();
    let grads = GradientsParams::from_grads(loss.backward(), model);
    let backward = clock.elapsed().as_secs_f64() - forward;
    Pass { loss: value, grads, output: (), forward: Some(forward), backward: Some(backward) }
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
