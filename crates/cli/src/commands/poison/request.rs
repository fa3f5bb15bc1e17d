//! What every `poison` subcommand resolves into, and the options they share.
use std::path::PathBuf;

use clap::Args;
use corruptencoder_data::ImageLimits;
use corruptencoder_poison::{AttackConfig, AttackSources, Budget};

/// What every `poison` subcommand resolves into.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) attack: AttackConfig,
    pub(crate) sources: AttackSources,
    /// Target images taken from one class of a labelled dataset instead of a folder.
    pub(crate) target_dataset: Option<(PathBuf, String)>,
    pub(crate) budget: Budget,
    pub(crate) common: CommonArgs,
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
    #[arg(long, default_value_t)]
    pub(crate) seed: u64,
    /// Clean pre-training list (`path label` lines) to put before the poisons in
    /// filelist.txt.
    #[arg(long)]
    pub(crate) clean_list: Option<PathBuf>,
    /// Largest accepted image, in megapixels (decompression-bomb guard).
    #[arg(long, default_value_t = ImageLimits::DEFAULT_MEGAPIXELS)]
    pub(crate) max_megapixels: f64,
    /// Use images whose file ends early (a JPEG without its end marker, a PNG without
    /// IEND) instead of refusing them; the decoder fills what is missing with grey.
    #[arg(long)]
    pub(crate) allow_truncated: bool,
    /// Threads (default: all cores). Output does not depend on it.
    #[arg(long)]
    pub(crate) threads: Option<usize>,
}

impl CommonArgs {
    /// The image limits; a `--max-megapixels` that is not a positive number is an error.
    pub(crate) fn limits(&self) -> corruptencoder_data::Result<ImageLimits> {
        let limits = ImageLimits::from_megapixels(self.max_megapixels)?;
        Ok(ImageLimits { allow_truncated: self.allow_truncated, ..limits })
    }
}
