//! Flags of `poison corruptencoder` and `poison poisoned-encoder`.
use std::path::PathBuf;

use clap::Args;
use corruptencoder_poison::{
    AreaRatio, AttackConfig, AttackSources, Budget, CorruptEncoderConfig, Layouts,
    PoisonedEncoderConfig, TriggerPlacement, TriggerSource,
};

use super::request::{CommonArgs, Request};
use crate::commands::by_name;

/// Options of `poison corruptencoder`; defaults are the authors'.
#[derive(Debug, Args)]
pub(crate) struct CorruptEncoderArgs {
    /// Folder of reference images with masks (authors' layout, labelme JSON, .mask
    /// images, RGBA, or plain images).
    #[arg(long)]
    references: PathBuf,
    /// Folder of background images, used in sorted order, each once.
    #[arg(long)]
    backgrounds: PathBuf,
    /// Trigger image, or `white` for a white square.
    #[arg(long)]
    trigger: TriggerSource,
    /// Number of poisoned images N, or a ratio of --clean-list (0.005 or 0.5%).
    #[arg(long, default_value = "650")]
    num_poisons: Budget,
    /// Trigger side in pixels.
    #[arg(long, default_value_t = 40)]
    trigger_size: u32,
    /// Poison size / object size along the layout axis: a number, `optimal` (the layout
    /// theory's optimum per reference under standard crops) or `optimal-localized`.
    #[arg(long, default_value = "2")]
    area_ratio: AreaRatio,
    /// Largest poison side; the object gets at most half.
    #[arg(long, default_value_t = 800)]
    max_size: u32,
    /// Edge band the object is placed in (fraction of the poison).
    #[arg(long, default_value_t = 0.05)]
    object_marginal: f64,
    /// Trigger margins (half along the layout axis, whole across it).
    #[arg(long, default_value_t = 0.25)]
    trigger_marginal: f64,
    /// Fraction of support images (CorruptEncoder+ uses 0.2).
    #[arg(long, default_value_t = 0.0)]
    support_ratio: f64,
    /// Folder of support images (other real target-class photos) for CorruptEncoder+.
    #[arg(long)]
    support_images: Option<PathBuf>,
    /// Layouts to draw from: horizontal (object left or right, the released code) or all
    /// (also top or bottom, the paper's analysis).
    #[arg(long, default_value = "horizontal", value_parser = by_name::<Layouts>)]
    layouts: Layouts,
    /// Where the trigger goes beside the object: centred (the released code: uniform in the
    /// centre area of the free part) or against-object (touching the object, centred
    /// across; the layout theory's optimum, our option).
    #[arg(long, default_value = "centred", value_parser = by_name::<TriggerPlacement>)]
    trigger_placement: TriggerPlacement,
    #[command(flatten)]
    common: CommonArgs,
}

impl CorruptEncoderArgs {
    pub(super) fn resolve(self) -> anyhow::Result<Request> {
        if self.support_ratio > 0.0 && self.support_images.is_none() {
            anyhow::bail!("--support-ratio {} needs --support-images DIR", self.support_ratio);
        }
        let attack = AttackConfig::Corruptencoder(CorruptEncoderConfig {
            num_poisons: 0,
            trigger_size: self.trigger_size,
            area_ratio: self.area_ratio,
            max_size: self.max_size,
            object_marginal: self.object_marginal,
            trigger_marginal: self.trigger_marginal,
            support_ratio: self.support_ratio,
            layouts: self.layouts,
            trigger_placement: self.trigger_placement,
        });
        let sources = AttackSources {
            references: Some(self.references),
            backgrounds: Some(self.backgrounds),
            supports: self.support_images,
            trigger: Some(self.trigger),
            ..Default::default()
        };
        let budget = self.num_poisons;
        Ok(Request { attack, sources, target_dataset: None, budget, common: self.common })
    }
}

/// `poison poisoned-encoder`.
#[derive(Debug, Args)]
pub(crate) struct PoisonedEncoderArgs {
    /// Folder of target-class reference images (not recursive; `.mask` images skipped).
    #[arg(long)]
    references: PathBuf,
    /// Folder of images that carry the trigger, used in sorted order.
    #[arg(long)]
    backgrounds: PathBuf,
    /// Trigger image, or `white`.
    #[arg(long)]
    trigger: TriggerSource,
    /// Number of poisons, or a ratio of --clean-list (0.005 or 0.5%).
    #[arg(long, default_value = "650")]
    num_poisons: Budget,
    /// Trigger side in pixels.
    #[arg(long, default_value_t = 40)]
    trigger_size: u32,
    /// Largest width of each half.
    #[arg(long, default_value_t = 400)]
    max_width: u32,
    /// The trigger lies in [band, 1 - band] of its half.
    #[arg(long, default_value_t = 0.25)]
    band: f64,
    #[command(flatten)]
    common: CommonArgs,
}

impl PoisonedEncoderArgs {
    pub(super) fn resolve(self) -> Request {
        let attack = AttackConfig::PoisonedEncoder(PoisonedEncoderConfig {
            num_poisons: 0,
            trigger_size: self.trigger_size,
            max_width: self.max_width,
            band: self.band,
        });
        let sources = AttackSources {
            references: Some(self.references),
            backgrounds: Some(self.backgrounds),
            trigger: Some(self.trigger),
            ..Default::default()
        };
        Request {
            attack,
            sources,
            target_dataset: None,
            budget: self.num_poisons,
            common: self.common,
        }
    }
}
