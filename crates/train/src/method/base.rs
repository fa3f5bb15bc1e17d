use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::{ByolConfig, MocoV2Config, SimclrConfig};
use crate::encoder::Encoder;

/// What one forward pass of a method yields.
#[derive(Debug, Clone)]
pub struct MethodOutput {
    /// The batch's mean loss, a 1-element tensor tracked for backward.
    pub loss: Tensor<1>,
    /// MoCo's keys `[B, D]` (no gradient) to enqueue after the step; `None` for other methods.
    pub keys: Option<Tensor<2>>,
}

/// A contrastive learning method: a burn module holding its online encoder, heads and any
/// target network, which `pretrain` drives generically.
pub trait Method: Module + 'static {
    /// Loss of a batch of view pairs: `views1`, `views2` are `[B, 3, H, W]`, row `i` of both
    /// coming from image `i`.
    fn forward(&self, views1: Tensor<4>, views2: Tensor<4>) -> MethodOutput;

    /// Updates done after the optimizer step (momentum encoders, queues). `progress` is the
    /// fraction of training done, in `[0, 1]`, for schedules such as BYOL's momentum.
    fn after_step(self, output: MethodOutput, progress: f64) -> Self;

    /// The encoder being trained (what is exported and evaluated).
    fn encoder(&self) -> &Encoder;
}

/// The method to pre-train with, tagged by `name` in TOML (`name = "moco-v2"`).
/// Default: MoCo-v2, the authors' reference setting (SPEC section 6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum MethodConfig {
    /// MoCo-v2 (SPEC section 6).
    MocoV2(MocoV2Config),
    /// SimCLR.
    Simclr(SimclrConfig),
    /// BYOL.
    Byol(ByolConfig),
    /// Image-text pre-training (a small CLIP) on image-caption data; its own loop
    /// (`clip/train.rs`), not a [`Method`].
    Clip(crate::method::clip::ClipConfig),
}

impl Default for MethodConfig {
    fn default() -> Self {
        Self::MocoV2(MocoV2Config::default())
    }
}

impl MethodConfig {
    /// The default settings of the method named `name` (the `name` tag: `moco-v2`,
    /// `simclr`, `byol`, `clip`).
    pub fn named(name: &str) -> Option<Self> {
        toml::from_str(&format!("name = \"{name}\"")).ok()
    }

    /// The `name` tag.
    pub fn name(&self) -> &'static str {
        match self {
            Self::MocoV2(_) => "moco-v2",
            Self::Simclr(_) => "simclr",
            Self::Byol(_) => "byol",
            Self::Clip(_) => "clip",
        }
    }

    /// Checks the values against each other and against the batch size.
    pub fn validate(&self, batch_size: usize) -> Result<(), String> {
        match self {
            Self::MocoV2(c) => c.validate(batch_size),
            Self::Simclr(c) => c.validate(),
            Self::Byol(c) => c.validate(),
            Self::Clip(c) => c.validate(),
        }
    }
}
