//! Flags of `poison corruptencoder` and `poison poisoned-encoder`.
use std::path::PathBuf;

use clap::Args;
use corruptencoder_poison::{
    AreaRatio, AttackConfig, AttackSources, Budget, CorruptEncoderConfig, Layouts,
    PoisonedEncoderConfig, TriggerPlacement, TriggerSource,
};

use super::request::{CommonArgs, Request};
use crate::commands::{by_name, set};

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
    #[arg(long)]
    num_poisons: Option<Budget>,
    /// Trigger side in pixels.
    #[arg(long)]
    trigger_size: Option<u32>,
    /// Poison size / object size along the layout axis: a number, `optimal` (the layout
    /// theory's optimum per reference under standard crops) or `optimal-localized`.
    #[arg(long)]
    area_ratio: Option<AreaRatio>,
    /// Largest poison side; the object gets at most half.
    #[arg(long)]
    max_size: Option<u32>,
    /// Edge band the object is placed in (fraction of the poison).
    #[arg(long)]
    object_marginal: Option<f64>,
    /// Trigger margins (half along the layout axis, whole across it).
    #[arg(long)]
    trigger_marginal: Option<f64>,
    /// Fraction of support images (CorruptEncoder+ uses 0.2).
    #[arg(long)]
    support_ratio: Option<f64>,
    /// Folder of support images (other real target-class photos) for CorruptEncoder+.
    #[arg(long)]
    support_images: Option<PathBuf>,
    /// Layouts to draw from: horizontal (object left or right, the released code) or all
    /// (also top or bottom, the paper's analysis).
    #[arg(long, value_parser = by_name::<Layouts>)]
    layouts: Option<Layouts>,
    /// Where the trigger goes beside the object: centred (the released code: uniform in the
    /// centre area of the free part) or against-object (touching the object, centred
    /// across; the layout theory's optimum, our option).
    #[arg(long, value_parser = by_name::<TriggerPlacement>)]
    trigger_placement: Option<TriggerPlacement>,
    #[command(flatten)]
    common: CommonArgs,
}

impl CorruptEncoderArgs {
    pub(super) fn resolve(self) -> anyhow::Result<Request> {
        let mut c = CorruptEncoderConfig::default();
        set(&mut c.trigger_size, self.trigger_size);
        set(&mut c.area_ratio, self.area_ratio);
        set(&mut c.max_size, self.max_size);
        set(&mut c.object_marginal, self.object_marginal);
        set(&mut c.trigger_marginal, self.trigger_marginal);
        set(&mut c.support_ratio, self.support_ratio);
        set(&mut c.layouts, self.layouts);
        set(&mut c.trigger_placement, self.trigger_placement);
        if c.support_ratio > 0.0 && self.support_images.is_none() {
            anyhow::bail!("--support-ratio {} needs --support-images DIR", c.support_ratio);
        }
        let attack = AttackConfig::Corruptencoder(c);
        let sources = AttackSources {
            references: Some(self.references),
            backgrounds: Some(self.backgrounds),
            supports: self.support_images,
            trigger: Some(self.trigger),
            ..Default::default()
        };
        let budget = self.num_poisons.unwrap_or_default();
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
    #[arg(long)]
    num_poisons: Option<Budget>,
    /// Trigger side in pixels.
    #[arg(long)]
    trigger_size: Option<u32>,
    /// Largest width of each half.
    #[arg(long)]
    max_width: Option<u32>,
    /// The trigger lies in [band, 1 - band] of its half.
    #[arg(long)]
    band: Option<f64>,
    #[command(flatten)]
    common: CommonArgs,
}

impl PoisonedEncoderArgs {
    pub(super) fn resolve(self) -> Request {
        let mut c = PoisonedEncoderConfig::default();
        set(&mut c.trigger_size, self.trigger_size);
        set(&mut c.max_width, self.max_width);
        set(&mut c.band, self.band);
        let attack = AttackConfig::PoisonedEncoder(c);
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
            budget: self.num_poisons.unwrap_or_default(),
            common: self.common,
        }
    }
}
