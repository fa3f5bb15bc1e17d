//! Flags of the image-text attacks: `poison clip-carlini`, `poison clip-corruptencoder`.
use std::path::PathBuf;

use clap::Args;
use corruptencoder_poison::{
    AttackConfig, AttackSources, Budget, CaptionTemplates, ClipCarliniConfig,
    ClipCorruptEncoderConfig, TriggerSource,
};

use super::request::{CommonArgs, Request};
use crate::commands::set;

/// Options the two CLIP attacks share.
#[derive(Debug, Args)]
pub(crate) struct ClipArgs {
    /// Trigger image, or `white`.
    #[arg(long)]
    trigger: TriggerSource,
    /// Number of image-caption pairs, or a ratio of --clean-list (0.005 or 0.5%).
    #[arg(long)]
    num_poisons: Option<Budget>,
    /// Trigger side in pixels.
    #[arg(long)]
    trigger_size: Option<u32>,
    /// Images are resized and centre-cropped to this square.
    #[arg(long)]
    image_size: Option<u32>,
    /// The target class as captions name it.
    #[arg(long)]
    class_name: Option<String>,
    /// File of caption templates, one per line, each with `{class}`.
    #[arg(long)]
    caption_templates: Option<PathBuf>,
}

impl ClipArgs {
    /// The flags laid over an attack's `trigger_size`, `image_size`, `class_name` and
    /// `templates`.
    fn apply(
        &self,
        (trigger_size, image_size): (&mut u32, &mut u32),
        (class_name, templates): (&mut String, &mut CaptionTemplates),
    ) -> anyhow::Result<()> {
        set(trigger_size, self.trigger_size);
        set(image_size, self.image_size);
        set(class_name, self.class_name.clone());
        if let Some(p) = &self.caption_templates {
            *templates = CaptionTemplates::from_file(p)?;
        }
        Ok(())
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
        let mut c = ClipCarliniConfig::default();
        let sizes = (&mut c.trigger_size, &mut c.image_size);
        self.clip.apply(sizes, (&mut c.class_name, &mut c.templates))?;
        let attack = AttackConfig::ClipCarlini(c);
        let sources = AttackSources {
            backgrounds: Some(self.images),
            trigger: Some(self.clip.trigger),
            ..Default::default()
        };
        let budget = self.clip.num_poisons.unwrap_or_default();
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
    #[arg(long)]
    reference_ratio: Option<f64>,
    /// The trigger lies in [band, 1 - band] of the image.
    #[arg(long)]
    band: Option<f64>,
    #[command(flatten)]
    clip: ClipArgs,
    #[command(flatten)]
    common: CommonArgs,
}

impl ClipCorruptEncoderArgs {
    pub(super) fn resolve(self) -> anyhow::Result<Request> {
        let mut c = ClipCorruptEncoderConfig::default();
        set(&mut c.reference_ratio, self.reference_ratio);
        set(&mut c.band, self.band);
        let sizes = (&mut c.trigger_size, &mut c.image_size);
        self.clip.apply(sizes, (&mut c.class_name, &mut c.templates))?;
        let attack = AttackConfig::ClipCorruptencoder(c);
        let sources = AttackSources {
            references: Some(self.references),
            backgrounds: Some(self.backgrounds),
            trigger: Some(self.clip.trigger),
            ..Default::default()
        };
        let budget = self.clip.num_poisons.unwrap_or_default();
        Ok(Request { attack, sources, target_dataset: None, budget, common: self.common })
    }
}
