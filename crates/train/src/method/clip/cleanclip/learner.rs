//! CleanCLIP fine-tuning as the loop's [`Learner`]: the clean and augmented view of each
//! image and its caption and augmented caption in one pass each, CleanCLIP's loss, AdamW
//! under the reference's per-step schedule.
use std::path::Path;
use std::time::Instant;

use burn::optim::GradientsParams;
use burn::prelude::*;
use corruptencoder_augment::ViewRecipe;
use corruptencoder_core::item_rng;
use corruptencoder_data::{Encoded, Tokenizer, words};

use super::config::CleanClipConfig;
use super::views::CleanClipViews;
use crate::config::PretrainConfig;
use crate::encoder::Encoder;
use crate::error::{Error, Result};
use crate::loss::{CleanClipBatch, cleanclip_loss};
use crate::method::clip::files::{CLIP_FILE, export_clip};
use crate::method::clip::learner::backward_pass;
use crate::method::clip::model::{Clip, token_tensors};
use crate::optim::AdamW;
use crate::run::batches::{Batch, ViewSource};
use crate::run::images::ImageStore;
use crate::run::learner::{Learner, Pass};

/// The stream of the augmented captions (one key per pair), clear of the data streams
/// `2 * epoch` and `2 * epoch + 1` and of the initial weights' `u64::MAX`.
const CAPTION_STREAM: u64 = u64::MAX - 1;

/// A CLIP model fine-tuned on clean pairs with CleanCLIP's loss.
pub(crate) struct CleanClip<'a> {
    settings: &'a CleanClipConfig,
    /// Each pair's caption, tokenized.
    captions: Vec<Encoded>,
    /// Each pair's EDA caption, drawn once from the seed (the reference augments each
    /// caption once, when it reads the pairs), tokenized.
    augmented: Vec<Encoded>,
    context: usize,
    /// The view side.
    size: u32,
    device: &'a Device,
}

impl<'a> CleanClip<'a> {
    /// The learner for the pairs of `store`, their captions encoded by `tokenizer` (the
    /// fine-tuned model's own) and augmented with the settings' EDA and seed.
    pub(crate) fn new(
        settings: &'a CleanClipConfig,
        store: &ImageStore,
        tokenizer: &Tokenizer,
        size: u32,
        device: &'a Device,
    ) -> Result<Self> {
        let captions = (0..store.len())
            .map(|i| store.caption(i))
            .collect::<Option<Vec<&str>>>()
            .ok_or_else(|| Error::NoCaptions { path: store.dataset_path().to_path_buf() })?;
        let augmented = captions
            .iter()
            .enumerate()
            .map(|(i, caption)| {
                let original: Vec<String> = words(caption).collect();
                let rng = &mut item_rng(settings.seed, CAPTION_STREAM, i as u64);
                tokenizer.encode(&settings.eda.augment(&original, rng).join(" "))
            })
            .collect();
        Ok(Self {
            settings,
            captions: captions.iter().map(|c| tokenizer.encode(c)).collect(),
            augmented,
            context: tokenizer.context,
            size,
            device,
        })
    }

    /// The loss of `batch` under `model`, one forward pass over both image views (batch
    /// norm sees the `2B` images together, as the reference's concatenated batch does) and
    /// one over both sets of captions.
    pub(crate) fn loss(&self, model: &Clip, batch: Batch) -> Tensor<1> {
        let [b, c, h, w] = batch.shape();
        let views = batch.views.concat();
        let images = Tensor::<4>::from_data(TensorData::new(views, [2 * b, c, h, w]), self.device);
        let (tokens, eot) = token_tensors(&self.captions, &batch.rows, self.context, self.device);
        let (aug_tokens, aug_eot) =
            token_tensors(&self.augmented, &batch.rows, self.context, self.device);
        let tokens = Tensor::cat(vec![tokens, aug_tokens], 0);
        let eot = Tensor::cat(vec![eot, aug_eot], 0);
        let [images, augmented_images]: [Tensor<2>; 2] =
            model.encode_images(images).chunk(2, 0).try_into().expect("two halves");
        let [texts, augmented_texts]: [Tensor<2>; 2] =
            model.encode_texts(tokens, eot).chunk(2, 0).try_into().expect("two halves");
        let embeddings = CleanClipBatch { images, augmented_images, texts, augmented_texts };
        let weights = (self.settings.clip_weight, self.settings.inmodal_weight);
        cleanclip_loss(embeddings, model.logit_scale(), weights)
    }
}

impl Learner for CleanClip<'_> {
    type Model = Clip;
    type Output = ();
    type Optimizer = AdamW;
    const VIEWS: usize = 2;

    fn encoder(model: &Clip) -> &Encoder {
        model.encoder()
    }

    fn view_source<'s>(&'s self, _recipe: &'s ViewRecipe) -> Box<dyn ViewSource + 's> {
        Box::new(CleanClipViews { size: self.size })
    }

    fn learning_rate(&self, config: &PretrainConfig, step: u64, per_epoch: u64) -> f64 {
        self.settings.learning_rate(step, per_epoch * config.epochs as u64)
    }

    fn forward_backward(&self, model: &Clip, batch: Batch, _step: u64) -> Pass<()> {
        let clock = Instant::now();
        backward_pass(model, self.loss(model, batch), clock)
    }

    fn update(
        &self,
        adam: &mut AdamW,
        model: Clip,
        grads: GradientsParams,
        (lr, step): (f64, u64),
    ) -> Clip {
        let s = self.settings;
        // AdamW counts steps from 1; the checkpoint's step count continues its bias correction.
        adam.step(&s.adam, (lr, s.weight_decay), step + 1, model, grads)
    }

    fn after_step(&self, model: Clip, _output: (), _progress: f64) -> Clip {
        model
    }

    fn export(&self, model: &Clip, dir: &Path, steps: u64) -> Result<()> {
        export_clip(model, steps, &dir.join(CLIP_FILE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoder::{Arch, EncoderConfig, Stem};
    use crate::method::MethodConfig;
    use crate::method::clip::files::import_clip;
    use crate::method::clip::model::ClipConfig;
    use crate::run::batches::{epoch_order, make_batch};
    use crate::run::job::PretrainRun;
    use crate::run::reporter::{Reporter, StepReport};
    use corruptencoder_data::{DatasetFormat, open_dataset};

    /// `n` 16 px images of a coloured square, captioned with its colour, as a CSV.
    fn pairs(dir: &Path, n: usize) -> std::path::PathBuf {
        let colours = [("red", [220, 30, 30]), ("green", [30, 200, 40]), ("blue", [30, 40, 220])];
        let mut csv = String::from("image,caption\n");
        for i in 0..n {
            let (name, c) = colours[i % 3];
            let img = image::RgbImage::from_fn(16, 16, |x, y| {
                let g = ((x * 7 + y * 13 + i as u32 * 5) % 60 + 90) as u8;
                if (3..13).contains(&x) && (3..13).contains(&y) { c.into() } else { [g; 3].into() }
            });
            img.save(dir.join(format!("{i}.png"))).unwrap();
            csv += &format!("{i}.png,a photo of a {name} square on a grey background\n");
        }
        let path = dir.join("pairs.csv");
        fs_err::write(&path, csv).unwrap();
        path
    }

    struct FirstLoss(Option<f32>);

    impl Reporter for FirstLoss {
        fn on_step(&mut self, report: &StepReport) {
            self.0.get_or_insert(report.loss);
        }
    }

    fn run<'a>(data: &'a Path, out: &'a Path, reporter: &'a mut dyn Reporter) -> PretrainRun<'a> {
        PretrainRun {
            data,
            format: Some(DatasetFormat::CaptionCsv),
            out,
            resume: false,
            force: false,
            device: Device::flex(),
            progress: &corruptencoder_core::NoProgress,
            reporter,
            stop_after: Some(1),
            monitor: None,
        }
    }

    /// The first step's loss is the loaded model's CleanCLIP loss on the first batch, not a
    /// fresh model's: fine-tuning starts from the weights in the folder.
    #[test]
    fn fine_tuning_starts_from_the_loaded_weights() {
        let dir = tempfile::tempdir().unwrap();
        let csv = pairs(dir.path(), 12);
        let clip = ClipConfig {
            embed_dim: 8,
            text_width: 8,
            text_layers: 1,
            text_heads: 2,
            context: 10,
            ..Default::default()
        };
        let mut config = PretrainConfig {
            seed: 3,
            epochs: 2,
            batch_size: 6,
            encoder: EncoderConfig::new(Arch::SmallCnn, Stem::Cifar, 4),
            method: MethodConfig::Clip(clip),
            ..Default::default()
        };
        config.views.size = 16;
        config.optim.lr = 0.003;
        let source = dir.path().join("clip");
        let mut quiet = crate::run::reporter::NoReporter;
        crate::pretrain(
            &config,
            PretrainRun { stop_after: None, ..run(&csv, &source, &mut quiet) },
        )
        .unwrap();

        let settings = CleanClipConfig { batch_size: 4, seed: 5, lr: 1e-3, ..Default::default() };
        let out = dir.path().join("clean");
        let mut first = FirstLoss(None);
        let summary =
            super::super::finetune_cleanclip(&settings, &source, run(&csv, &out, &mut first))
                .unwrap();
        assert_eq!((summary.steps, summary.encoder), (1, None));
        let logged = first.0.unwrap();

        // The same batch from the staged folder's pairs, under the source model and under
        // a freshly drawn one.
        let staged = corruptencoder_core::OutputDir::partial_path(&out);
        let data = staged.join(super::super::PAIRS_FILE);
        let ds = open_dataset(&data, Some(DatasetFormat::CaptionCsv)).unwrap();
        let (store, _) = ImageStore::open(ds, true, 1 << 20).unwrap();
        let tokenizer = Tokenizer::from_file(&source.join("tokenizer.json")).unwrap();
        let device = Device::flex().autodiff();
        let learner = CleanClip::new(&settings, &store, &tokenizer, 16, &device).unwrap();
        let rows = &epoch_order(settings.seed, 0, store.len())[..settings.batch_size];
        let batch =
            || make_batch(&store, &CleanClipViews { size: 16 }, (settings.seed, 0), rows).unwrap();
        let fresh =
            || clip.init(&config.encoder, tokenizer.vocab_size(), &device, &mut item_rng(9, 9, 9));
        let loaded = import_clip(fresh(), &source.join("clip.safetensors")).unwrap();
        let at_load = learner.loss(&loaded, batch()).into_scalar::<f32>();
        let at_random = learner.loss(&fresh(), batch()).into_scalar::<f32>();
        assert_eq!(logged, at_load);
        assert!((logged - at_random).abs() > 1e-3, "{logged} vs a fresh model's {at_random}");
    }
}
