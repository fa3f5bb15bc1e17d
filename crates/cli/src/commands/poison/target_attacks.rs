//! Flags of the attacks that trigger target-class images: `poison ssl-backdoor`, `poison ctrl`.
use std::path::PathBuf;

use clap::Args;
use corruptencoder_poison::{
    AttackConfig, AttackSources, Budget, CtrlConfig, SslBackdoorConfig, TriggerSource,
};

use super::request::{CommonArgs, Request};
use crate::commands::set;

/// Where target-class images come from, and how many to poison.
#[derive(Debug, Args)]
pub(crate) struct TargetArgs {
    /// Folder of target-class images (not recursive).
    #[arg(long, conflicts_with = "dataset", required_unless_present = "dataset")]
    target_images: Option<PathBuf>,
    /// Labelled dataset to take the target class from: an image folder, a `path label`
    /// list, a CIFAR .bin file or an IDX images file.
    #[arg(long, requires = "target_class")]
    dataset: Option<PathBuf>,
    /// Target class in --dataset, by name or label.
    #[arg(long)]
    target_class: Option<String>,
    /// Poisoning budget: a count or a ratio of --clean-list (0.005 or 0.5%).
    #[arg(long = "num-poisons", alias = "budget")]
    budget: Option<Budget>,
}

impl TargetArgs {
    fn request(
        self,
        attack: AttackConfig,
        trigger: Option<TriggerSource>,
        common: CommonArgs,
    ) -> Request {
        let sources =
            AttackSources { target_images: self.target_images, trigger, ..Default::default() };
        let target_dataset = self.dataset.zip(self.target_class);
        Request { attack, sources, target_dataset, budget: self.budget.unwrap_or_default(), common }
    }
}

/// `poison ssl-backdoor`.
#[derive(Debug, Args)]
pub(crate) struct SslBackdoorArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Trigger image, or `white`.
    #[arg(long)]
    trigger: TriggerSource,
    /// Trigger width in pixels (aspect kept).
    #[arg(long)]
    trigger_width: Option<u32>,
    /// The trigger lies in [band, 1 - band] of the image.
    #[arg(long)]
    band: Option<f64>,
    #[command(flatten)]
    common: CommonArgs,
}

impl SslBackdoorArgs {
    pub(super) fn resolve(self) -> Request {
        let mut c = SslBackdoorConfig::default();
        set(&mut c.trigger_width, self.trigger_width);
        set(&mut c.band, self.band);
        self.target.request(AttackConfig::SslBackdoor(c), Some(self.trigger), self.common)
    }
}

/// `poison ctrl`.
#[derive(Debug, Args)]
pub(crate) struct CtrlArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Added to the triggered DCT coefficients.
    #[arg(long)]
    magnitude: Option<f64>,
    /// DCT block side.
    #[arg(long)]
    window: Option<usize>,
    /// Resize target images to this square before triggering (default: keep size).
    #[arg(long)]
    image_size: Option<u32>,
    #[command(flatten)]
    common: CommonArgs,
}

impl CtrlArgs {
    pub(super) fn resolve(self) -> Request {
        let mut c = CtrlConfig::default();
        set(&mut c.magnitude, self.magnitude);
        set(&mut c.window, self.window);
        c.image_size = self.image_size.or(c.image_size);
        self.target.request(AttackConfig::Ctrl(c), None, self.common)
    }
}
