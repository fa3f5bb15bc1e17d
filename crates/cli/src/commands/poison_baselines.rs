//! `corruptencoder poison <baseline>`: SSL-Backdoor, CTRL, PoisonedEncoder and the CLIP
//! attacks (SPEC section 5). Shares [`CommonArgs`] and [`write_set`] with the CorruptEncoder
//! command.
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use corruptencoder_data::{Dataset, list_images, load_references, open_dataset};
use corruptencoder_poison::*;
use serde::Serialize;

use super::poison::{CommonArgs, write_set};
use crate::reporters::Ui;

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
    /// Poisoning budget: a count (650) or a ratio of --clean-list (0.005 or 0.5%).
    #[arg(long = "num-poisons", alias = "budget", default_value = "650")]
    budget: Budget,
}

impl TargetArgs {
    /// The chosen target images (a seeded subset, one per poison).
    fn resolve(&self, common: &CommonArgs) -> anyhow::Result<TargetImages> {
        let all = match (&self.target_images, &self.dataset) {
            (Some(dir), _) => {
                TargetImages::from_files(list_images(dir)?, dir.display().to_string())
            }
            (None, Some(path)) => {
                let ds: Arc<dyn Dataset> = Arc::from(
                    open_dataset(path, None)
                        .with_context(|| format!("opening dataset {}", path.display()))?,
                );
                let class = self.target_class.as_deref().unwrap_or_default();
                TargetImages::from_dataset(ds, class)?
            }
            (None, None) => anyhow::bail!("give --target-images DIR or --dataset PATH"),
        };
        let n = common.poisons(&self.budget)?;
        Ok(all.choose(n, common.seed)?)
    }

    fn inputs(&self) -> BTreeMap<&'static str, String> {
        let mut m = BTreeMap::new();
        let show = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        m.extend(show(&self.target_images).map(|v| ("target_images", v)));
        m.extend(show(&self.dataset).map(|v| ("dataset", v)));
        m.extend(self.target_class.clone().map(|v| ("target_class", v)));
        m.insert("budget", format!("{:?}", self.budget));
        m
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
    #[arg(long, default_value_t = 50)]
    trigger_width: u32,
    /// The trigger lies in [band, 1 - band] of the image.
    #[arg(long, default_value_t = 0.25)]
    band: f64,
    #[command(flatten)]
    common: CommonArgs,
}

/// `poison ctrl`.
#[derive(Debug, Args)]
pub(crate) struct CtrlArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Added to the triggered DCT coefficients.
    #[arg(long, default_value_t = 100.0)]
    magnitude: f64,
    /// DCT block side.
    #[arg(long, default_value_t = 32)]
    window: usize,
    /// Resize target images to this square before triggering (default: keep size).
    #[arg(long)]
    image_size: Option<u32>,
    #[command(flatten)]
    common: CommonArgs,
}

/// `poison poisoned-encoder`.
#[derive(Debug, Args)]
pub(crate) struct PoisonedEncoderArgs {
    /// Folder of target-class reference images (not recursive).
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

/// Everything a baseline run resolved, written as `config.toml`.
#[derive(Debug, Serialize)]
struct Resolved<'a, C: Serialize> {
    attack: &'static str,
    seed: u64,
    tool_version: &'static str,
    inputs: BTreeMap<&'static str, String>,
    config: &'a C,
}

fn config_toml<C: Serialize>(
    attack: &'static str,
    common: &CommonArgs,
    mut inputs: BTreeMap<&'static str, String>,
    config: &C,
) -> anyhow::Result<String> {
    if let Some(p) = &common.clean_list {
        inputs.insert("clean_list", p.display().to_string());
    }
    let r = Resolved {
        attack,
        seed: common.seed,
        tool_version: env!("CARGO_PKG_VERSION"),
        inputs,
        config,
    };
    Ok(toml::to_string_pretty(&r)?)
}

fn refuse_existing(common: &CommonArgs) -> anyhow::Result<()> {
    if common.out.exists() && !common.force {
        anyhow::bail!(
            "output folder {} already exists (pass --force to replace it)",
            common.out.display()
        );
    }
    Ok(())
}

fn finish(
    attack: &dyn Attack,
    common: &CommonArgs,
    toml: String,
    ui: &Ui,
) -> anyhow::Result<ExitCode> {
    let summary = write_set(attack, common, toml, ui)?;
    log::info!("wrote {} poisons to {}", summary.records.len(), summary.out.display());
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn ssl_backdoor(args: SslBackdoorArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    refuse_existing(&args.common)?;
    let limits = args.common.limits();
    let config = SslBackdoorConfig { trigger_width: args.trigger_width, band: args.band };
    let targets = args.target.resolve(&args.common)?;
    let trigger =
        args.trigger.load_width(config.trigger_width, &limits).context("loading the trigger")?;
    let mut inputs = args.target.inputs();
    inputs.insert("trigger", format!("{:?}", args.trigger));
    let toml = config_toml("ssl-backdoor", &args.common, inputs, &config)?;
    let attack = SslBackdoor::new(config, targets, trigger, limits)?;
    finish(&attack, &args.common, toml, ui)
}

pub(crate) fn ctrl(args: CtrlArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    refuse_existing(&args.common)?;
    let config = CtrlConfig {
        magnitude: args.magnitude,
        window: args.window,
        image_size: args.image_size,
        ..CtrlConfig::default()
    };
    config.trigger()?;
    let targets = args.target.resolve(&args.common)?;
    let toml = config_toml("ctrl", &args.common, args.target.inputs(), &config)?;
    let attack = Ctrl::new(config, targets, args.common.limits())?;
    finish(&attack, &args.common, toml, ui)
}

pub(crate) fn poisoned_encoder(args: PoisonedEncoderArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    refuse_existing(&args.common)?;
    let limits = args.common.limits();
    let config = PoisonedEncoderConfig {
        num_poisons: args.common.poisons(&args.num_poisons)?,
        trigger_size: args.trigger_size,
        max_width: args.max_width,
        band: args.band,
    };
    let refs = TargetImages::from_files(
        list_images(&args.references)?,
        args.references.display().to_string(),
    );
    let trigger = args.trigger.load(config.trigger_size, &limits).context("loading the trigger")?;
    let inputs = BTreeMap::from([
        ("references", args.references.display().to_string()),
        ("backgrounds", args.backgrounds.display().to_string()),
        ("trigger", format!("{:?}", args.trigger)),
    ]);
    let toml = config_toml("poisoned-encoder", &args.common, inputs, &config)?;
    let attack =
        PoisonedEncoder::new(config, refs, list_images(&args.backgrounds)?, trigger, limits)?;
    finish(&attack, &args.common, toml, ui)
}

pub(crate) fn clip_carlini(args: ClipCarliniArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    refuse_existing(&args.common)?;
    let limits = args.common.limits();
    let c = &args.clip;
    let config = ClipCarliniConfig {
        num_poisons: args.common.poisons(&c.num_poisons)?,
        trigger_size: c.trigger_size,
        image_size: c.image_size,
        class_name: c.class_name.clone(),
        templates: c.templates()?,
    };
    let trigger = c.trigger.load(c.trigger_size, &limits).context("loading the trigger")?;
    let inputs = BTreeMap::from([
        ("images", args.images.display().to_string()),
        ("trigger", format!("{:?}", c.trigger)),
    ]);
    let toml = config_toml("clip-carlini", &args.common, inputs, &config)?;
    let attack = ClipCarlini::new(config, list_images(&args.images)?, trigger, limits)?;
    finish(&attack, &args.common, toml, ui)
}

pub(crate) fn clip_corruptencoder(
    args: ClipCorruptEncoderArgs,
    ui: &Ui,
) -> anyhow::Result<ExitCode> {
    refuse_existing(&args.common)?;
    let limits = args.common.limits();
    let c = &args.clip;
    let config = ClipCorruptEncoderConfig {
        num_poisons: args.common.poisons(&c.num_poisons)?,
        reference_ratio: args.reference_ratio,
        trigger_size: c.trigger_size,
        image_size: c.image_size,
        band: args.band,
        class_name: c.class_name.clone(),
        templates: c.templates()?,
    };
    let refs = load_references(&args.references, &limits)
        .with_context(|| format!("loading references from {}", args.references.display()))?;
    refs.warnings.iter().for_each(|w| log::warn!("{w}"));
    let objects = reference_objects(&refs.references);
    let trigger = c.trigger.load(c.trigger_size, &limits).context("loading the trigger")?;
    let inputs = BTreeMap::from([
        ("references", args.references.display().to_string()),
        ("backgrounds", args.backgrounds.display().to_string()),
        ("trigger", format!("{:?}", c.trigger)),
    ]);
    let toml = config_toml("clip-corruptencoder", &args.common, inputs, &config)?;
    let attack =
        ClipCorruptEncoder::new(config, objects, list_images(&args.backgrounds)?, trigger, limits)?;
    finish(&attack, &args.common, toml, ui)
}
