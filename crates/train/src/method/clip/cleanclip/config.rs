//! CleanCLIP's settings, with the reference's defaults (nishadsinghi/CleanCLIP: the README's
//! fine-tuning command and `src/parser.py`), their check, the report's line, and the
//! pre-training configuration and learning-rate schedule a fine-tuning run derives from them.
use corruptencoder_augment::Eda;
use corruptencoder_core::SettingError;
use serde::{Deserialize, Serialize};

use crate::config::PretrainConfig;
use crate::method::MethodConfig;
use crate::optim::AdamConfig;

/// CleanCLIP fine-tuning (Bansal et al., ICCV 2023): a trained CLIP model trained further on
/// clean image-caption pairs with `clip_weight` times CLIP's loss plus `inmodal_weight`
/// times the in-modal losses (each image against an AutoAugment view of itself, each
/// caption against an EDA-augmented caption).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CleanClipConfig {
    /// Weight of CLIP's image-caption loss (`--clip_weight`, 1).
    pub clip_weight: f64,
    /// Weight of the in-modal losses (`--inmodal_weight`, 1).
    pub inmodal_weight: f64,
    /// Epochs over the clean pairs (the README's command: 10).
    pub epochs: usize,
    /// Pairs per step (the README: 64).
    pub batch_size: usize,
    /// Peak learning rate (the README: 1e-5).
    pub lr: f64,
    /// Steps of linear warm-up before the cosine decay (the README: 50).
    pub warmup_steps: u64,
    /// AdamW's weight decay, on every parameter but biases, norms and the temperature
    /// (`--weight_decay`, 0.1).
    pub weight_decay: f64,
    /// AdamW's moments (`--beta1`, `--beta2`, `--eps`: 0.9, 0.999, 1e-8).
    pub adam: AdamConfig,
    /// Clean pairs to fine-tune on, drawn with the seed from those given; 0 takes every
    /// one (the paper fine-tunes on 100K clean pairs).
    pub clean_pairs: usize,
    /// The caption augmentation (EDA without WordNet).
    pub eda: Eda,
    /// Seed of the pair sample, the order, the image views and the augmented captions.
    pub seed: u64,
}

impl Default for CleanClipConfig {
    fn default() -> Self {
        Self {
            clip_weight: 1.0,
            inmodal_weight: 1.0,
            epochs: 10,
            batch_size: 64,
            lr: 1e-5,
            warmup_steps: 50,
            weight_decay: 0.1,
            adam: AdamConfig { beta1: 0.9, beta2: 0.999, eps: 1e-8 },
            clean_pairs: 0,
            eda: Eda::default(),
            seed: 0,
        }
    }
}

impl CleanClipConfig {
    /// Checks the settings; the error names the key.
    pub fn validate(&self) -> Result<(), SettingError> {
        let non_negative = [
            ("clip_weight", self.clip_weight),
            ("inmodal_weight", self.inmodal_weight),
            ("weight_decay", self.weight_decay),
        ];
        for (key, value) in non_negative {
            if !(value.is_finite() && value >= 0.0) {
                return Err(SettingError::new(key, value, "must be a number of at least 0"));
            }
        }
        if self.clip_weight == 0.0 && self.inmodal_weight == 0.0 {
            let problem = "and inmodal_weight are both 0: nothing to train on";
            return Err(SettingError::new("clip_weight", 0, problem));
        }
        if self.epochs == 0 {
            return Err(SettingError::new("epochs", 0, "must be at least 1"));
        }
        if self.batch_size < 2 {
            let problem = "must be at least 2: the losses contrast the pairs of a batch";
            return Err(SettingError::new("batch_size", self.batch_size, problem));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(SettingError::new("lr", self.lr, "must be positive"));
        }
        let a = &self.adam;
        for (key, beta) in [("adam.beta1", a.beta1), ("adam.beta2", a.beta2)] {
            if !(0.0..1.0).contains(&beta) {
                return Err(SettingError::new(key, beta, "must lie in [0, 1)"));
            }
        }
        if !(a.eps.is_finite() && a.eps > 0.0) {
            return Err(SettingError::new("adam.eps", a.eps, "must be positive"));
        }
        self.eda.validate().map_err(|e| e.within("eda"))
    }

    /// The report's line.
    pub fn describe(&self) -> String {
        let pairs = match self.clean_pairs {
            0 => "every clean pair".to_owned(),
            n => format!("{n} clean pairs"),
        };
        format!(
            "CleanCLIP fine-tuning on {pairs}: {} epochs of {}, AdamW lr {} ({} warm-up steps, \
             cosine), {} x CLIP loss + {} x in-modal loss (AutoAugment views, EDA captions)",
            self.epochs,
            self.batch_size,
            self.lr,
            self.warmup_steps,
            self.clip_weight,
            self.inmodal_weight
        )
    }

    /// The run configuration of a fine-tuning of the CLIP model trained under `base`: its
    /// model and views, with this seed, epochs, batch, learning rate, weight decay and AdamW
    /// moments. It is the `config.toml` the fine-tuned model is loaded by, as any CLIP run.
    pub(crate) fn run_config(&self, base: &PretrainConfig) -> PretrainConfig {
        let mut config = base.clone();
        config.seed = self.seed;
        config.epochs = self.epochs;
        config.batch_size = self.batch_size;
        config.optim.lr = self.lr;
        config.optim.weight_decay = self.weight_decay;
        // The warm-up is counted in steps by `learning_rate`, not in epochs.
        config.optim.warmup_epochs = 0;
        config.icutmix = None;
        if let MethodConfig::Clip(clip) = &mut config.method {
            clip.adam = self.adam;
        }
        config
    }

    /// The reference's schedule (`src/scheduler.py`) at the 0-based `step` of `total`: a
    /// linear rise `lr * (step + 1) / warmup_steps`, then a cosine from `lr` to 0 over the
    /// remaining steps, both per step.
    pub fn learning_rate(&self, step: u64, total: u64) -> f64 {
        if step < self.warmup_steps {
            return self.lr * (step + 1) as f64 / self.warmup_steps as f64;
        }
        let done = (step - self.warmup_steps) as f64;
        let span = total.saturating_sub(self.warmup_steps).max(1) as f64;
        0.5 * (1.0 + (std::f64::consts::PI * done / span).cos()) * self.lr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_warms_up_then_follows_the_cosine() {
        let c = CleanClipConfig { lr: 1e-3, warmup_steps: 4, ..Default::default() };
        let lr = |s| c.learning_rate(s, 14);
        assert_eq!([lr(0), lr(3)], [2.5e-4, 1e-3]);
        // Halfway through the 10 cosine steps the rate is half the peak.
        assert!((lr(9) - 5e-4).abs() < 1e-12);
        assert!(lr(13) < 3e-5 && lr(13) > 0.0);
    }

    #[test]
    fn validation_names_the_key() {
        let bad = |c: CleanClipConfig| c.validate().unwrap_err().to_string();
        let c = CleanClipConfig::default();
        assert!(c.validate().is_ok());
        assert_eq!(
            bad(CleanClipConfig { batch_size: 1, ..c }).split(':').next(),
            Some("batch_size = 1")
        );
        assert!(bad(CleanClipConfig { lr: 0.0, ..c }).starts_with("lr = 0: "));
        assert!(
            bad(CleanClipConfig { inmodal_weight: -1.0, ..c }).starts_with("inmodal_weight = -1: ")
        );
        let off = CleanClipConfig { clip_weight: 0.0, inmodal_weight: 0.0, ..c };
        assert!(bad(off).starts_with("clip_weight = 0: "));
        let eda = Eda { swap: 2.0, ..Eda::default() };
        assert!(bad(CleanClipConfig { eda, ..c }).starts_with("eda.swap = 2: "));
        let adam = AdamConfig { beta2: 1.0, ..c.adam };
        assert!(bad(CleanClipConfig { adam, ..c }).starts_with("adam.beta2 = 1: "));
        assert!(bad(CleanClipConfig { epochs: 0, ..c }).starts_with("epochs = 0: "));
    }

    #[test]
    fn defaults_are_the_references_and_round_trip() {
        let c = CleanClipConfig::default();
        assert_eq!((c.epochs, c.batch_size, c.lr, c.warmup_steps), (10, 64, 1e-5, 50));
        assert_eq!((c.adam.beta2, c.adam.eps, c.weight_decay), (0.999, 1e-8, 0.1));
        let text = toml::to_string(&CleanClipConfig { lr: 4e-5, ..c }).unwrap();
        let back: CleanClipConfig = toml::from_str(&text).unwrap();
        assert_eq!(back.lr, 4e-5);
        assert!(toml::from_str::<CleanClipConfig>("lamda = 1").is_err());
    }
}
