//! Flags of the image-text attacks: `poison clip-carlini`, `poison clip-corruptencoder`.
use std::path::PathBuf;

use clap::Args;
use corruptencoder_poison::{
    AttackConfig, AttackSources, Budget, CaptionTemplates, ClipCarliniConfig,
    ClipCorruptEncoderConfig, TriggerSource,
};

use super::request::{CommonArgs, Request};

/// Options the two CLIP attacks share.
#[derive(Debug, Args)]
pub(crate) struct ClipArgs {
    /// Trigger image, or `white`.
    #[arg(long)]
    trigger: TriggerSource,
    /// Number of image-caption pairs, or a ratio of --clean-list (0.005 or 0.5%).
    #[arg(long, default_value = "650")]
    num_poisons: Budget,
    /// Trigger side in pixels.
    #[arg(long, default_value_t = 16)]
    trigger_size: u32,
    /// Images are resized and centre-cropped to this square.
    #[arg(long, default_value_t = 224)]
    image_size: u32,
    /// The target class as captions name it.
    #[arg(long, default_value = "African hunting dog")]
    class_name: String,
    /// File of caption templates, one per line, each with `{class}`.
    #[arg(long)]
    caption_templates: Option<PathBuf>,
}

impl ClipArgs {
    fn templates(&self) -> anyhow::Result<CaptionTemplates> {
        Ok(match &self.caption_templates {
            Some(p) => CaptionTemplates::from_file(p)?,
            None => CaptionTemplates::default(),
        })
    }
}

/// `poison clip-carlini`.
#[derive(Debug, Args)]
pub(crate) struct ClipCarliniArgs {
    /// Folder of images to put the trigger on, used in sorted order.
    #[arg(long)]
    images: PathBuf,
    #[command(flatten)]
    clip: ClipArgs,
    #[command(flatten)]
    common: CommonArgs,
}

impl ClipCarliniArgs {
    pub(super) fn resolve(self) -> anyhow::Result<Request> {
        let c = &self.clip;
        let attack = AttackConfig::ClipCarlini(ClipCarliniConfig {
            num_poisons: 0,
            trigger_size: c.trigger_size,
            image_size: c.image_size,
            class_name: c.class_name.clone(),
            templates: c.templates()?,
        });
        let sources = AttackSources {
            backgrounds: Some(self.images),
            trigger: Some(self.clip.trigger),
            ..Default::default()
        };
        let budget = self.clip.num_poisons;
        Ok(Request { attack, sources, target_dataset: None, budget, common: self.common })
    }
}

/// `poison clip-corruptencoder`.
#[derive(Debug, Args)]
pub(crate) struct ClipCorruptEncoderArgs {
    /// Folder of reference images with masks (as `poison corruptencoder`).
    #[arg(long)]
    references: PathBuf,
    /// Folder of background images that carry the trigger.
    #[arg(long)]
    backgrounds: PathBuf,
    /// Fraction of pairs whose image is a reference object.
    #[arg(long, default_value_t = 0.5)]
    reference_ratio: f64,
    /// The trigger lies in [band, 1 - band] of the image.
    #[arg(long, default_value_t = 0.25)]
    band: f64,
    #[command(flatten)]
    clip: ClipArgs,
    #[command(flatten)]
    common: CommonArgs,
}

impl ClipCorruptEncoderArgs {
    pub(super) fn resolve(self) -> anyhow::Result<Request> {
        let c = &self.clip;
        let attack = AttackConfig::ClipCorruptencoder(ClipCorruptEncoderConfig {
            num_poisons: 0,
            reference_ratio: self.reference_ratio,
            trigger_size: c.trigger_size,
            image_size: c.image_size,
            band: self.band,
            class_name: c.class_name.clone(),
            templates: c.templates()?,
        });
        let sources = AttackSources {
            references: Some(self.references),
            backgrounds: Some(self.backgrounds),
            trigger: Some(self.clip.trigger),
            ..Default::default()
        };
        let budget = self.clip.num_poisons;
        Ok(Request { attack, sources, target_dataset: None, budget, common: self.common })
    }
}
