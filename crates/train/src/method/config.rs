//! The method registry: [`MethodConfig`], one serde-tagged variant per method carrying its
//! settings, and the one `match` that builds a method's model.
use burn::prelude::*;
use corruptencoder_core::{Rng, SettingError, set_number};
use serde::{Deserialize, Serialize};

use super::clip::ClipConfig;
use super::{ByolConfig, MocoV2Config, SimclrConfig};
use crate::encoder::EncoderConfig;
use crate::run::parallel::DataParallel;

/// The method to pre-train with, tagged by `name` in TOML (`name = "moco-v2"`).
/// Default: MoCo-v2, the authors' reference setting (method.md section 6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum MethodConfig {
    /// MoCo-v2 (method.md section 6).
    MocoV2(MocoV2Config),
    /// SimCLR.
    Simclr(SimclrConfig),
    /// BYOL.
    Byol(ByolConfig),
    /// Image-text pre-training (a small CLIP) on image-caption data: a model of an image
    /// and its caption, not a [`Method`](super::Method) of two views.
    Clip(ClipConfig),
}

impl Default for MethodConfig {
    fn default() -> Self {
        Self::MocoV2(MocoV2Config::default())
    }
}

impl MethodConfig {
    /// Every method with its default settings, in the order help texts list them.
    pub fn all() -> Vec<Self> {
        vec![
            Self::MocoV2(MocoV2Config::default()),
            Self::Simclr(SimclrConfig::default()),
            Self::Byol(ByolConfig::default()),
            Self::Clip(ClipConfig::default()),
        ]
    }

    /// The `name` tags of every method.
    pub fn names() -> Vec<&'static str> {
        Self::all().iter().map(Self::name).collect()
    }

    /// The default settings of the method named `name` (the `name` tag).
    pub fn named(name: &str) -> Option<Self> {
        Self::all().into_iter().find(|m| m.name() == name)
    }

    /// The settings as the report states them, in one line.
    pub fn describe(&self) -> String {
        match self {
            Self::MocoV2(c) => c.describe(),
            Self::Simclr(c) => c.describe(),
            Self::Byol(c) => c.describe(),
            Self::Clip(c) => c.describe(),
        }
    }

    /// Sets the number `key` of the method's settings to `value` (a command-line flag
    /// that applies to some methods only); a method without that setting is an error.
    pub fn set_field(&mut self, key: &str, value: f64) -> Result<(), SettingError> {
        let name = self.name();
        set_number(self, ("name", name), key, value)
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

    /// Whether the method trains on image-caption pairs (its data needs captions, its
    /// attacks must caption their poisons, its encoder is also scored zero-shot).
    pub fn is_image_text(&self) -> bool {
        matches!(self, Self::Clip(_))
    }

    /// Checks the values against each other and against the batch size.
    pub fn validate(&self, batch_size: usize) -> Result<(), SettingError> {
        match self {
            Self::MocoV2(c) => c.validate(batch_size),
            Self::Simclr(c) => c.validate(),
            Self::Byol(c) => c.validate(),
            Self::Clip(c) => c.validate(),
        }
    }

    /// Brings a stored configuration to today's reading, in place: `stored` is a whole TOML
    /// file read from a run or experiment folder, whose method tables (under a `method` key,
    /// at any depth) may predate settings added since. Each such setting is filled with the
    /// value the file was run with, so that resuming or extending the folder compares and
    /// trains what was run: today MoCo-v2's `split_bn`, whose default changed when it
    /// was added (`passes` before 2026-12-07). Files a user writes are read as they are.
    pub fn upgrade_stored(stored: &mut toml::Table) {
        for (key, value) in stored.iter_mut() {
            match value {
                toml::Value::Table(table) => {
                    if key == "method" {
                        super::moco_v2::fill_stored_split_bn(table);
                    }
                    Self::upgrade_stored(table);
                }
                toml::Value::Array(items) => {
                    for item in items {
                        if let toml::Value::Table(table) = item {
                            Self::upgrade_stored(table);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Batch-norm groups per step (MoCo's split BN; 1 for the others).
    pub(crate) fn bn_splits(&self) -> usize {
        match self {
            Self::MocoV2(m) => m.bn_splits,
            _ => 1,
        }
    }

    /// Advice on the settings for a set of `images` images, if any.
    pub(crate) fn advice(&self, images: usize) -> Option<String> {
        match self {
            Self::MocoV2(m) => m.queue_advice(images),
            _ => None,
        }
    }

    /// Builds the method's fresh model on `device` (its encoder of `encoder`, weights from
    /// `rng`) and hands it to `visitor`: the one place that knows each method's type.
    pub(crate) fn visit<V: MethodVisitor>(
        &self,
        encoder: &EncoderConfig,
        device: &Device,
        rng: &mut Rng,
        visitor: V,
    ) -> V::Output {
        match self {
            Self::MocoV2(m) => visitor.contrastive(m.init(encoder, device, rng)),
            Self::Simclr(m) => visitor.contrastive(m.init(encoder, device, rng)),
            Self::Byol(m) => visitor.contrastive(m.init(encoder, device, rng)),
            Self::Clip(c) => visitor.image_text(c, rng),
        }
    }
}

/// What to do with a method's fresh model, by kind: generic over the contrastive methods'
/// types, so that [`MethodConfig::visit`]'s one `match` ends in code that knows the type.
pub(crate) trait MethodVisitor {
    /// The result.
    type Output;
    /// A contrastive method of two views, freshly built.
    fn contrastive<M: DataParallel>(self, method: M) -> Self::Output;
    /// Image-text pre-training, whose model is built once its captions' vocabulary is known
    /// (weights from `rng`).
    fn image_text(self, config: &ClipConfig, rng: &mut Rng) -> Self::Output;
}
