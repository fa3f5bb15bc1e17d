//! PatchSearch's poison classifier (`patch_search_poison_classifier.py`): networks trained
//! from scratch to tell a training image with one of the top candidate triggers pasted on it
//! from one without, validated on the top-scored images (poisons) against the lowest-scored
//! (clean), then averaged over every image: an image is flagged when the mean logits call it
//! a poison.
use corruptencoder_augment::{FloatImage, ViewRecipe, resized_crop};
use corruptencoder_core::{Rng, item_rng, uniform_int};
use corruptencoder_data::{Filter, resize_rgb};
use corruptencoder_train::burn::optim::GradientsParams;
use corruptencoder_train::burn::prelude::*;
use corruptencoder_train::burn::tensor::activation::log_softmax;
use corruptencoder_train::{ImageClassifier, OptimConfig, Sgd};
use image::RgbImage;
use rand::Rng as _;
use rand::seq::SliceRandom;
use rayon::prelude::*;

use super::context::Context;
use super::images::{host, normalised, paste};
use super::settings::Sizes;
use super::streams;
use crate::base::Result;

/// What the classifier stage reads besides the run's context, whose network's device runs
/// the inference passes (training runs on its autodiff twin).
pub(crate) struct ClassifierJob<'a> {
    pub(crate) cx: &'a Context<'a>,
    /// The candidate triggers of the top-ranked images, pasted on the poisoned examples.
    pub(crate) patches: &'a [RgbImage],
    /// Every image, most poisonous first.
    pub(crate) ranked: &'a [usize],
}

/// The ensemble's verdict on every image and how its members trained.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Verdict {
    /// Mean poison logit less mean clean logit, per image in list order.
    pub(crate) margins: Vec<f64>,
    /// Steps each classifier took (fewer than `max_iterations` when it stopped early).
    pub(crate) steps: Vec<usize>,
    /// Each classifier's last validation F1, in whole percent.
    pub(crate) f1: Vec<i64>,
}

/// The validation images, labelled, as one input.
struct Validation {
    input: Tensor<4>,
    poison: Vec<bool>,
}

/// Trains `model_count` classifiers and scores every image with their mean logits.
pub(crate) fn classify(job: &ClassifierJob<'_>) -> Result<Verdict> {
    let (n, k) = (job.ranked.len(), job.cx.config.topk_poisons);
    let skip = (job.cx.config.exclude_top_fraction * n as f64) as usize;
    let train = &job.ranked[skip..n - k];
    let shown: Vec<usize> = job.ranked[..k].iter().chain(&job.ranked[n - k..]).copied().collect();
    let images = job.cx.pictures.shown_many(&shown)?;
    let validation = Validation {
        input: input(&images, &job.cx.network.device),
        poison: (0..2 * k).map(|i| i < k).collect(),
    };
    let total = (job.cx.config.model_count * job.cx.config.max_iterations) as u64;
    job.cx.progress.start("poison classifier", total);
    let mut models = Vec::new();
    let (mut steps, mut f1) = (Vec::new(), Vec::new());
    for m in 0..job.cx.config.model_count {
        let (model, taken, last_f1) = train_one(job, m as u64, train, &validation)?;
        job.cx.progress.advance((job.cx.config.max_iterations - taken) as u64);
        models.push(model);
        steps.push(taken);
        f1.push(last_f1);
    }
    job.cx.progress.finish();
    let mut margins = vec![0.0; n];
    let all: Vec<usize> = (0..n).collect();
    for chunk in all.chunks(job.cx.network.batch) {
        let x = input(&job.cx.pictures.shown_many(chunk)?, &job.cx.network.device);
        let mut sum: Option<Tensor<2>> = None;
        for model in &models {
            let logits = model.forward(x.clone());
            sum = Some(sum.map_or(logits.clone(), |s| s + logits));
        }
        let mean = host(sum.expect("at least one model") / models.len() as f64);
        for (&i, pair) in chunk.iter().zip(mean.chunks_exact(2)) {
            margins[i] = f64::from(pair[1]) - f64::from(pair[0]);
        }
    }
    Ok(Verdict { margins, steps, f1 })
}

fn input(images: &[RgbImage], device: &Device) -> Tensor<4> {
    let side = images.first().map_or(0, |i| i.width() as usize);
    let values: Vec<f32> = images.par_iter().flat_map(normalised).collect();
    Tensor::from_data(TensorData::new(values, [images.len(), 3, side, side]), device)
}

/// One training example from stored image `image`: a RandomResizedCrop to the input side,
/// with probability 1/2 one of `patches` resized to a random side and pasted at a random
/// place off the border (a poison), then the colour augmentations. Returns the normalised
/// view and whether it is a poison.
fn example(
    image: &RgbImage,
    patches: &[RgbImage],
    sizes: Sizes,
    recipe: &ViewRecipe,
    rng: &mut Rng,
) -> (Vec<f32>, bool) {
    let poison = rng.random::<f64>() > 0.5;
    let crop = recipe.crop.sample(image.width(), image.height(), rng);
    let mut view = resized_crop(image, crop, sizes.side as u32);
    if poison {
        let patch = &patches[uniform_int(rng, 0, patches.len() as i64 - 1) as usize];
        let (low, high) = sizes.paste;
        let s = uniform_int(rng, low as i64, high as i64 - 1) as usize;
        let patch = resize_rgb(patch, s as u32, s as u32, Filter::Bicubic);
        let last = (sizes.side - s - sizes.margin) as i64 - 1;
        // PIL's `paste(patch, (x, y))`, x drawn first.
        let x = uniform_int(rng, sizes.margin as i64, last) as usize;
        let y = uniform_int(rng, sizes.margin as i64, last) as usize;
        paste(&mut view, &patch, (y, x));
    }
    (recipe.augment(FloatImage::from_rgb(&view), rng).data, poison)
}

/// Trains classifier `m` on `train` (stored images) until `max_iterations` steps or a
/// stable validation F1; returns it for inference, its steps and its last F1.
fn train_one(
    job: &ClassifierJob<'_>,
    m: u64,
    train: &[usize],
    validation: &Validation,
) -> Result<(ImageClassifier, usize, i64)> {
    let c = job.cx.config;
    let device = job.cx.network.device.clone().autodiff();
    let init = &mut item_rng(job.cx.seed, streams::CLASSIFIER_INIT, m);
    let mut model = ImageClassifier::new(&c.classifier, 2, &device, init);
    let mut sgd = Sgd::default();
    let optim = OptimConfig {
        lr: c.lr,
        momentum: c.momentum,
        weight_decay: c.weight_decay,
        warmup_epochs: 0,
    };
    let side = job.cx.sizes.side as u32;
    let mut recipe = ViewRecipe { blur_p: 0.0, ..ViewRecipe::moco_v2(side) };
    recipe.crop.scale = c.classifier_crop_scale;
    let (mut step, mut f1s, mut epoch) = (0, Vec::new(), 0u64);
    debug_assert!(!train.is_empty(), "the settings' check leaves training images");
    // What the examples' threads read (the network itself is not shared with them).
    let (pictures, patches, sizes, seed) =
        (job.cx.pictures, job.patches, job.cx.sizes, job.cx.seed);
    loop {
        let mut order = train.to_vec();
        order.shuffle(&mut item_rng(job.cx.seed, streams::CLASSIFIER_ORDER, (m << 32) | epoch));
        for chunk in order.chunks(c.classifier_batch_size) {
            job.cx.progress.check_cancelled()?;
            let first = (m << 40) | (step * c.classifier_batch_size) as u64;
            let examples = chunk
                .par_iter()
                .enumerate()
                .map(|(j, &i)| {
                    let rng = &mut item_rng(seed, streams::CLASSIFIER_EXAMPLE, first + j as u64);
                    Ok(example(&pictures.stored(i)?, patches, sizes, &recipe, rng))
                })
                .collect::<Result<Vec<_>>>()?;
            let lr = c.lr
                * 0.5
                * (1.0 + (std::f64::consts::PI * step as f64 / c.max_iterations as f64).cos());
            model = sgd_step(model, &examples, job.cx.sizes.side, &mut sgd, &optim, lr, &device);
            let mut stable = false;
            if step % c.eval_every == 0 {
                f1s.push(validate(&model.valid(), validation));
                let last = &f1s[f1s.len().saturating_sub(c.stable_evals)..];
                stable = f1s.len() > c.stable_evals && last.iter().all(|&v| v == last[0]);
            }
            step += 1;
            job.cx.progress.advance(1);
            if stable || step == c.max_iterations {
                return Ok((model.valid(), step, f1s.last().copied().unwrap_or(0)));
            }
        }
        epoch += 1;
    }
}

/// One SGD step on the cross-entropy of `examples` (normalised views and poison marks).
fn sgd_step(
    model: ImageClassifier,
    examples: &[(Vec<f32>, bool)],
    side: usize,
    sgd: &mut Sgd,
    optim: &OptimConfig,
    lr: f64,
    device: &Device,
) -> ImageClassifier {
    let b = examples.len();
    let values: Vec<f32> = examples.iter().flat_map(|(v, _)| v.iter().copied()).collect();
    let x = Tensor::<4>::from_data(TensorData::new(values, [b, 3, side, side]), device);
    let targets: Vec<f32> =
        examples.iter().flat_map(|&(_, p)| if p { [0.0, 1.0] } else { [1.0, 0.0] }).collect();
    let targets = Tensor::<2>::from_data(TensorData::new(targets, [b, 2]), device);
    let loss = (log_softmax(model.forward(x), 1) * targets).sum_dim(1).mean().neg();
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    sgd.step(optim, lr, model, grads)
}

/// The F1 of `model`'s calls on the validation images, in whole percent (truncated), 0 when
/// precision or recall is undefined.
fn validate(model: &ImageClassifier, validation: &Validation) -> i64 {
    let logits = host(model.forward(validation.input.clone()));
    let called: Vec<bool> = logits.chunks_exact(2).map(|p| p[1] > p[0]).collect();
    f1_percent(&called, &validation.poison)
}

/// F1 of `called` against `truth`, in whole percent (truncated); 0 when undefined.
fn f1_percent(called: &[bool], truth: &[bool]) -> i64 {
    let hits = called.iter().zip(truth).filter(|(c, t)| **c && **t).count() as f64;
    let (called, poisons) =
        (called.iter().filter(|c| **c).count(), truth.iter().filter(|t| **t).count());
    let (precision, recall) = (hits / called as f64, hits / poisons as f64);
    let f1 = 2.0 * precision * recall / (precision + recall);
    if f1.is_nan() { 0 } else { (f1 * 100.0) as i64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f1_counts_like_the_reference() {
        let t = [true, true, false, false];
        assert_eq!(f1_percent(&[true, true, false, false], &t), 100);
        // Precision 1/2, recall 1/2.
        assert_eq!(f1_percent(&[true, false, true, false], &t), 50);
        // Precision 2/3, recall 1: 0.8.
        assert_eq!(f1_percent(&[true, true, true, false], &t), 80);
        assert_eq!(f1_percent(&[false; 4], &t), 0, "nothing called: undefined precision");
    }

    #[test]
    fn an_example_is_a_poison_about_half_the_time_with_the_patch_inside() {
        let sizes = Sizes { side: 32, window: 9, paste: (3, 11), margin: 1 };
        let recipe = ViewRecipe {
            jitter_p: 0.0,
            grayscale_p: 0.0,
            blur_p: 0.0,
            flip_p: 0.0,
            ..ViewRecipe::moco_v2(32)
        };
        let black = RgbImage::new(40, 40);
        let patches = [RgbImage::from_pixel(9, 9, image::Rgb([255, 255, 255]))];
        let mut poisons = 0;
        for i in 0..400 {
            let (view, poison) = example(&black, &patches, sizes, &recipe, &mut item_rng(3, 0, i));
            let raw = |p: usize| {
                view[p] * corruptencoder_augment::IMAGENET_STD[0]
                    + corruptencoder_augment::IMAGENET_MEAN[0]
            };
            let lit: Vec<usize> = (0..32 * 32).filter(|&p| raw(p) > 0.5).collect();
            if poison {
                poisons += 1;
                let (rows, cols): (Vec<usize>, Vec<usize>) =
                    lit.iter().map(|p| (p / 32, p % 32)).unzip();
                let side = rows.iter().max().unwrap() - rows.iter().min().unwrap() + 1;
                assert!((3..11).contains(&side), "a square of side 3-10: {side}");
                assert!(*rows.iter().min().unwrap() >= 1 && *cols.iter().max().unwrap() <= 30);
            } else {
                assert!(lit.is_empty());
            }
        }
        assert!((170..230).contains(&poisons), "{poisons} of 400");
    }
}
