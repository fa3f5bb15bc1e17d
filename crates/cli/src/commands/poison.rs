//! `corruptencoder poison <attack>`: build a poisoned pre-training set.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use corruptencoder_data::{ImageLimits, list_images, load_references, load_rgb};
use corruptencoder_poison::{
    AreaRatio, Attack, Budget, CorruptEncoder, CorruptEncoderConfig, Layouts, OutputOptions,
    PoisonSummary, TriggerSource, read_clean_list, write_poison_set,
};
use serde::Serialize;

use super::poison_baselines as baselines;
use crate::reporters::Ui;

/// The attacks that build poisoned sets.
#[derive(Debug, Subcommand)]
pub(crate) enum PoisonCommand {
    /// CorruptEncoder / CorruptEncoder+ (SPEC section 3): reference object at a corner of a
    /// background, trigger in the remaining part.
    Corruptencoder(CorruptEncoderArgs),
    /// SSL-Backdoor (SPEC section 5): the trigger pasted on target-class images.
    SslBackdoor(baselines::SslBackdoorArgs),
    /// CTRL (SPEC section 5): a frequency trigger on target-class images.
    Ctrl(baselines::CtrlArgs),
    /// PoisonedEncoder (SPEC section 5): a triggered image beside a reference image.
    PoisonedEncoder(baselines::PoisonedEncoderArgs),
    /// Carlini & Terzis for CLIP: triggered images with target-class captions.
    ClipCarlini(baselines::ClipCarliniArgs),
    /// CorruptEncoder for CLIP: reference objects and triggered images, both with
    /// target-class captions.
    ClipCorruptencoder(baselines::ClipCorruptEncoderArgs),
}

/// Options every attack shares: where the output goes and how it is seeded.
#[derive(Debug, Args, Clone)]
pub(crate) struct CommonArgs {
    /// Output folder (refused if it exists, unless --force).
    #[arg(long, short)]
    pub(crate) out: PathBuf,
    /// Replace an existing output folder.
    #[arg(long)]
    pub(crate) force: bool,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Clean pre-training list (`path label` lines) to put before the poisons in
    /// filelist.txt.
    #[arg(long)]
    pub(crate) clean_list: Option<PathBuf>,
    /// Largest accepted image, in megapixels (decompression-bomb guard).
    #[arg(long, default_value_t = 100.0)]
    pub(crate) max_megapixels: f64,
    /// Threads (default: all cores). Output does not depend on it.
    #[arg(long)]
    pub(crate) threads: Option<usize>,
}

impl CommonArgs {
    pub(crate) fn limits(&self) -> ImageLimits {
        ImageLimits { max_pixels: (self.max_megapixels * 1e6) as u64 }
    }

    /// The number of poisons a budget means: a count as it is, a ratio of the
    /// `--clean-list` length (which it then needs).
    pub(crate) fn poisons(&self, budget: &Budget) -> anyhow::Result<usize> {
        let clean_len = match &self.clean_list {
            Some(p) => Some(read_clean_list(p)?.len()),
            None => None,
        };
        Ok(budget.resolve(clean_len)?)
    }
}

/// `--layouts`.
#[derive(Debug, Clone, Copy, ValueEnum, Serialize)]
pub(crate) enum LayoutsArg {
    /// Object left or right (the released code).
    Horizontal,
    /// Also object top or bottom (the paper's analysis).
    All,
}

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
    /// Layouts to draw from.
    #[arg(long, value_enum, default_value_t = LayoutsArg::Horizontal)]
    layouts: LayoutsArg,
    #[command(flatten)]
    common: CommonArgs,
}

/// Everything a run resolved, written as `config.toml` beside the poisons.
#[derive(Debug, Serialize)]
struct ResolvedConfig<'a> {
    attack: &'static str,
    seed: u64,
    references: &'a Path,
    backgrounds: &'a Path,
    trigger: &'a TriggerSource,
    support_images: Option<&'a Path>,
    clean_list: Option<&'a Path>,
    corruptencoder: &'a CorruptEncoderConfig,
    /// The area ratio each reference got: `[horizontal, vertical]`.
    area_ratios: std::collections::BTreeMap<String, [f64; 2]>,
    tool_version: &'static str,
}

pub(crate) fn run(cmd: PoisonCommand, ui: &Ui) -> anyhow::Result<ExitCode> {
    match cmd {
        PoisonCommand::Corruptencoder(args) => corruptencoder(args, ui),
        PoisonCommand::SslBackdoor(args) => baselines::ssl_backdoor(args, ui),
        PoisonCommand::Ctrl(args) => baselines::ctrl(args, ui),
        PoisonCommand::PoisonedEncoder(args) => baselines::poisoned_encoder(args, ui),
        PoisonCommand::ClipCarlini(args) => baselines::clip_carlini(args, ui),
        PoisonCommand::ClipCorruptencoder(args) => baselines::clip_corruptencoder(args, ui),
    }
}

fn corruptencoder(args: CorruptEncoderArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    let limits = args.common.limits();
    let config = CorruptEncoderConfig {
        num_poisons: args.common.poisons(&args.num_poisons)?,
        trigger_size: args.trigger_size,
        area_ratio: args.area_ratio,
        max_size: args.max_size,
        object_marginal: args.object_marginal,
        trigger_marginal: args.trigger_marginal,
        support_ratio: args.support_ratio,
        layouts: match args.layouts {
            LayoutsArg::Horizontal => Layouts::Horizontal,
            LayoutsArg::All => Layouts::All,
        },
    };
    config.validate()?;
    if args.common.out.exists() && !args.common.force {
        anyhow::bail!(
            "output folder {} already exists (pass --force to replace it)",
            args.common.out.display()
        );
    }
    let refs = load_references(&args.references, &limits)
        .with_context(|| format!("loading references from {}", args.references.display()))?;
    for w in &refs.warnings {
        log::warn!("{w}");
    }
    let backgrounds = list_images(&args.backgrounds)?;
    let n_ce = config.num_poisons - config.num_support();
    if backgrounds.is_empty() && n_ce > 0 {
        anyhow::bail!("no background images in {}", args.backgrounds.display());
    }
    if n_ce > backgrounds.len() {
        log::warn!(
            "{n_ce} poisons but {} backgrounds: backgrounds are reused in cycles",
            backgrounds.len()
        );
    }
    let supports = match (&args.support_images, config.num_support()) {
        (_, 0) => Vec::new(),
        (None, _) => {
            anyhow::bail!("--support-ratio {} needs --support-images DIR", config.support_ratio)
        }
        (Some(dir), _) => {
            let files = list_images(dir)?;
            if files.is_empty() {
                anyhow::bail!("no support images in {}", dir.display());
            }
            files
                .iter()
                .map(|p| {
                    let name =
                        p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    Ok((name, load_rgb(p, &limits)?))
                })
                .collect::<anyhow::Result<Vec<_>>>()?
        }
    };
    let trigger = args.trigger.load(config.trigger_size, &limits).context("loading the trigger")?;
    let attack = CorruptEncoder::new(
        config.clone(),
        &refs.references,
        backgrounds,
        supports,
        trigger,
        limits,
    )?;
    let area_ratios = attack.area_ratios().into_iter().map(|(n, h, v)| (n, [h, v])).collect();
    if matches!(config.area_ratio, AreaRatio::Optimal { .. }) {
        for (name, h, v) in attack.area_ratios() {
            log::info!("reference {name}: optimal area ratio {h:.2} (vertical layouts {v:.2})");
        }
    }
    let resolved = ResolvedConfig {
        attack: "corruptencoder",
        seed: args.common.seed,
        references: &args.references,
        backgrounds: &args.backgrounds,
        trigger: &args.trigger,
        support_images: args.support_images.as_deref(),
        clean_list: args.common.clean_list.as_deref(),
        corruptencoder: &config,
        area_ratios,
        tool_version: env!("CARGO_PKG_VERSION"),
    };
    let config_toml = toml::to_string_pretty(&resolved)?;
    let summary = write_set(&attack, &args.common, config_toml, ui)?;
    log::info!("wrote {} poisons to {}", summary.records.len(), summary.out.display());
    Ok(ExitCode::SUCCESS)
}

/// Runs an attack into its output folder on the requested number of threads.
pub(crate) fn write_set(
    attack: &dyn Attack,
    common: &CommonArgs,
    config_toml: String,
    ui: &Ui,
) -> anyhow::Result<PoisonSummary> {
    let opts = OutputOptions {
        out: common.out.clone(),
        force: common.force,
        seed: common.seed,
        clean_list: common.clean_list.clone(),
        config_toml,
        preview_count: 16,
    };
    let progress = ui.progress();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(common.threads.unwrap_or(0)).build()?;
    let summary = pool.install(|| write_poison_set(attack, &opts, &progress))?;
    ui.status(&format!(
        "{}: {} poisons -> {}",
        attack.name(),
        summary.records.len(),
        summary.out.display()
    ));
    Ok(summary)
}
