//! DECREE (Feng et al., CCS 2023): is a pre-trained encoder backdoored? It inverts the
//! smallest trigger that collapses clean images' embeddings (`inversion.rs`) and flags the
//! encoder when that trigger covers little of the image.
//!
//! Settings are the reference's for its CIFAR-sized encoders (`main.py`): 50 shadow images
//! in one batch per epoch, up to 1,000 epochs, Adam (betas 0.5, 0.9) at 1e-3 then 0.1 from
//! epoch 30 and 0.05 from 50, similarity threshold 0.99, the L1 weight starting at 1e-3,
//! floor 1e-5, patience 5, early stop after 10 epochs without a smaller successful mask.
//! Deviations: the shadow images are the downstream training set's (the reference samples
//! the downstream test set), and the decision is the PL1-norm against one threshold, 0.1,
//! our reading of the paper's rule (the public code prints the L1 norm and leaves the
//! decision to the reader).
mod inversion;

use corruptencoder_augment::{FloatImage, IMAGENET_MEAN, IMAGENET_STD};
use corruptencoder_core::{SettingError, item_rng, uniform_int};
use corruptencoder_data::{Dataset, ImageLimits, center_crop, resize_shorter};
use corruptencoder_train::burn::prelude::*;
use corruptencoder_train::{EncoderConfig, load_encoder_weights};
use serde::{Deserialize, Serialize};

pub use inversion::{Inversion, invert_trigger};

use crate::base::Result;

/// DECREE's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecreeConfig {
    /// Clean images the trigger is optimised over.
    pub shadow_images: usize,
    /// Side the images are resized and centre-cropped to (the encoder's input).
    pub size: u32,
    /// Most epochs (one step each).
    pub epochs: usize,
    /// Adam's learning rate for the first 30 epochs.
    pub lr: f64,
    /// Mean pairwise cosine similarity a stamped batch must pass to count as collapsed.
    pub similarity_threshold: f64,
    /// Starting weight of the mask's L1 norm.
    pub lambda_start: f64,
    /// Floor below which the weight is not lowered further.
    pub lambda_min: f64,
    /// Steps in a row that raise or lower the weight.
    pub patience: usize,
    /// Steps without a smaller successful mask before stopping.
    pub early_stop_patience: usize,
    /// An encoder whose inverted trigger covers less than this share of the image (its
    /// PL1-norm) is flagged as backdoored.
    pub pl1_threshold: f64,
    /// Seed of the shadow sample and of the mask's and pattern's starting values.
    pub seed: u64,
}

impl Default for DecreeConfig {
    fn default() -> Self {
        Self {
            shadow_images: 50,
            size: 32,
            epochs: 1000,
            lr: 1e-3,
            similarity_threshold: 0.99,
            lambda_start: 1e-3,
            lambda_min: 1e-5,
            patience: 5,
            early_stop_patience: 10,
            pl1_threshold: 0.1,
            seed: 0,
        }
    }
}

impl DecreeConfig {
    /// Checks the settings; the error names the key.
    pub fn validate(&self) -> Result<(), SettingError> {
        let positive = [
            ("shadow_images", self.shadow_images as f64),
            ("size", f64::from(self.size)),
            ("epochs", self.epochs as f64),
            ("lr", self.lr),
            ("lambda_start", self.lambda_start),
        ];
        for (key, value) in positive {
            if !(value.is_finite() && value > 0.0) {
                return Err(SettingError::new(key, value, "must be positive"));
            }
        }
        if self.shadow_images < 2 {
            let problem = "must be at least 2: the similarity is between images";
            return Err(SettingError::new("shadow_images", self.shadow_images, problem));
        }
        if !(0.0..1.0).contains(&self.similarity_threshold) {
            let t = self.similarity_threshold;
            return Err(SettingError::new("similarity_threshold", t, "must lie in [0, 1)"));
        }
        Ok(())
    }
}

/// DECREE's verdict on one encoder.
#[derive(Debug, Clone)]
pub struct DecreeReport {
    /// The inverted trigger.
    pub inversion: Inversion,
    /// Whether its PL1-norm is under the threshold; a clean-looking encoder when no mask
    /// reached the similarity threshold.
    pub backdoored: bool,
}

/// Runs DECREE on the encoder at `encoder` (`arch` checks it, or `None` infers it) over
/// `shadow_images` clean images of `shadow` drawn with the seed, on the autodiff `device`.
pub fn decree(
    encoder: &std::path::Path,
    arch: Option<&EncoderConfig>,
    shadow: &dyn Dataset,
    config: &DecreeConfig,
    device: &Device,
    limits: &ImageLimits,
) -> Result<DecreeReport> {
    config.validate()?;
    let images = shadow_batch(shadow, config, limits)?;
    let device = device.clone().autodiff();
    let (encoder, _) = load_encoder_weights(encoder, arch, &device)?;
    // Frozen: no weight gradients and batch norm on its running statistics (eval mode),
    // while the input still carries gradients.
    let encoder = encoder.freeze();
    let (mean, std) = (channel(IMAGENET_MEAN, &device), channel(IMAGENET_STD, &device));
    let forward = |x: Tensor<4>| encoder.forward((x - mean.clone()) / std.clone());
    let inversion = invert_trigger(&forward, &images, config.size as usize, config, &device);
    let backdoored = inversion.pl1().is_some_and(|p| p < config.pl1_threshold);
    Ok(DecreeReport { inversion, backdoored })
}

fn channel(values: [f32; 3], device: &Device) -> Tensor<4> {
    Tensor::<1>::from_floats(values, device).reshape([1, 3, 1, 1])
}

/// `config.shadow_images` images of `ds` (all of them if it holds fewer), drawn without
/// replacement with the seed, resized and centre-cropped to `config.size`, planar in [0, 1].
fn shadow_batch(ds: &dyn Dataset, config: &DecreeConfig, limits: &ImageLimits) -> Result<Vec<f32>> {
    let n = ds.len();
    let rng = &mut item_rng(config.seed, 0, 0);
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        order.swap(i, uniform_int(rng, 0, i as i64) as usize);
    }
    let mut out = Vec::new();
    for &i in order.iter().take(config.shadow_images) {
        let image = resize_shorter(&ds.load(i, limits)?, config.size);
        let crop = center_crop(&image, config.size).ok_or_else(|| {
            SettingError::new("size", config.size, format!("{} is smaller", ds.source(i)))
        })?;
        out.extend(FloatImage::from_rgb(&crop).data);
    }
    if out.len() < 2 * 3 * (config.size as usize).pow(2) {
        let problem = format!("{} holds fewer than 2 images", ds.path().display());
        return Err(SettingError::new("shadow_images", config.shadow_images, problem).into());
    }
    Ok(out)
}

/// What `summary.json` of a DECREE run holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecreeSummary {
    /// Whether the encoder is flagged as backdoored.
    pub backdoored: bool,
    /// The inverted trigger's PL1-norm (`None`: no mask collapsed the embeddings).
    pub pl1: Option<f64>,
    /// The threshold it was held against.
    pub pl1_threshold: f64,
    /// Optimisation steps taken.
    pub steps: usize,
    /// Mean pairwise cosine similarity of the stamped images at the last step.
    pub last_similarity: f64,
}

impl DecreeReport {
    /// The summary of this report under `config`.
    pub fn summary(&self, config: &DecreeConfig) -> DecreeSummary {
        DecreeSummary {
            backdoored: self.backdoored,
            pl1: self.inversion.pl1(),
            pl1_threshold: config.pl1_threshold,
            steps: self.inversion.steps,
            last_similarity: self.inversion.last_similarity,
        }
    }

    /// Writes into the existing folder `dir`: `summary.json`, and when a mask was found
    /// `mask.png` (grey), `pattern.png` and `trigger.png` (mask times pattern, what is
    /// stamped), each atomically.
    pub fn write(&self, config: &DecreeConfig, dir: &std::path::Path) -> Result<DecreeSummary> {
        let summary = self.summary(config);
        let json = serde_json::to_string_pretty(&summary).expect("the summary serialises");
        corruptencoder_core::write_atomic(&dir.join("summary.json"), json.as_bytes())?;
        let inv = &self.inversion;
        if let (Some(mask), Some(pattern)) = (&inv.mask, &inv.pattern) {
            let s = inv.size;
            let image = |f: &dyn Fn(usize, usize) -> f32| {
                image::RgbImage::from_fn(s as u32, s as u32, |x, y| {
                    let px = |c| (f(c, y as usize * s + x as usize).clamp(0.0, 1.0) * 255.0) as u8;
                    image::Rgb([px(0), px(1), px(2)])
                })
            };
            let files = [
                ("mask.png", image(&|_, i| mask[i])),
                ("pattern.png", image(&|c, i| pattern[c * s * s + i])),
                ("trigger.png", image(&|c, i| mask[i] * pattern[c * s * s + i])),
            ];
            for (name, img) in files {
                let bytes = corruptencoder_data::png_bytes(&img);
                corruptencoder_core::write_atomic(&dir.join(name), &bytes)?;
            }
        }
        Ok(summary)
    }
}
