//! `corruptencoder testset`: the triggered twin of a labelled downstream test set, as the
//! authors build theirs (docs/method.md section 7).
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use corruptencoder_data::{DatasetFormat, ImageLimits, open_dataset};
use corruptencoder_poison::{
    CtrlConfig, TestImageFormat, TestSetConfig, TestSetOptions, TestTrigger, TriggerSource,
    write_test_set,
};
use serde::Serialize;

use super::{by_name, set};
use crate::reporters::Ui;

/// Options of `testset`; defaults are the authors' ImageNet ones. For 32x32 data use
/// `--resize 0 --crop 32 --trigger-size 8`.
#[derive(Debug, Args)]
pub(crate) struct TestsetArgs {
    /// Labelled test set: image folder, `path label` list, CIFAR .bin or IDX images file.
    #[arg(long)]
    dataset: PathBuf,
    /// Dataset format (image-folder, file-list, cifar10, cifar100, idx); detected if absent.
    #[arg(long)]
    format: Option<DatasetFormat>,
    /// Output folder (refused if it exists, unless --force).
    #[arg(long, short)]
    out: PathBuf,
    /// Replace an existing output folder.
    #[arg(long)]
    force: bool,
    /// Seed of the trigger positions.
    #[arg(long, default_value_t)]
    seed: u64,
    /// Trigger image, or `white` (a patch trigger).
    #[arg(long, required_unless_present = "ctrl", conflicts_with = "ctrl")]
    trigger: Option<TriggerSource>,
    /// Use CTRL's frequency trigger instead of a patch.
    #[arg(long)]
    ctrl: bool,
    /// CTRL magnitude.
    #[arg(long, requires = "ctrl")]
    magnitude: Option<f64>,
    /// Shorter side after resizing (0: no resizing).
    #[arg(long)]
    resize: Option<u32>,
    /// Centre crop side.
    #[arg(long)]
    crop: Option<u32>,
    /// Trigger side in pixels.
    #[arg(long)]
    trigger_size: Option<u32>,
    /// Trigger positions lie in [band, 1 - band] of the crop.
    #[arg(long)]
    band: Option<f64>,
    /// Output image format: jpeg (at --jpeg-quality, the authors') or png (lossless).
    #[arg(long, value_parser = by_name::<TestImageFormat>)]
    image_format: Option<TestImageFormat>,
    /// JPEG quality.
    #[arg(long)]
    jpeg_quality: Option<u8>,
    /// Largest accepted image, in megapixels (decompression-bomb guard).
    #[arg(long, default_value_t = ImageLimits::DEFAULT_MEGAPIXELS)]
    max_megapixels: f64,
    /// Use images whose file ends early (a JPEG without its end marker, a PNG without
    /// IEND) instead of refusing them; the decoder fills what is missing with grey.
    #[arg(long)]
    allow_truncated: bool,
    /// Threads (default: all cores). Output does not depend on it.
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Debug, Serialize)]
struct Resolved<'a> {
    command: &'static str,
    seed: u64,
    dataset: &'a std::path::Path,
    trigger: String,
    ctrl: Option<CtrlConfig>,
    testset: &'a TestSetConfig,
    tool_version: &'static str,
}

impl TestsetArgs {
    /// The test-set settings: the authors' defaults with the flags laid over them.
    fn config(&self) -> TestSetConfig {
        let mut c = TestSetConfig::default();
        if let Some(r) = self.resize {
            c.resize = (r > 0).then_some(r);
        }
        set(&mut c.crop, self.crop);
        set(&mut c.trigger_size, self.trigger_size);
        set(&mut c.band, self.band);
        set(&mut c.format, self.image_format);
        set(&mut c.jpeg_quality, self.jpeg_quality);
        c
    }
}

pub(crate) fn run(args: TestsetArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    corruptencoder_core::OutputDir::check(&args.out, args.force)?;
    let limits = ImageLimits {
        allow_truncated: args.allow_truncated,
        ..ImageLimits::from_megapixels(args.max_megapixels)?
    };
    let config = args.config();
    config.validate()?;
    let ctrl = args.ctrl.then(|| {
        let mut c = CtrlConfig::default();
        set(&mut c.magnitude, args.magnitude);
        c
    });
    let trigger = match (&ctrl, &args.trigger) {
        (Some(c), _) => TestTrigger::Frequency(c.trigger()?),
        (None, Some(t)) => {
            TestTrigger::Patch(t.load(config.trigger_size, &limits).context("loading the trigger")?)
        }
        (None, None) => anyhow::bail!("give --trigger FILE|white or --ctrl"),
    };
    let ds = open_dataset(&args.dataset, args.format)
        .with_context(|| format!("opening test set {}", args.dataset.display()))?;
    let resolved = Resolved {
        command: "testset",
        seed: args.seed,
        dataset: &args.dataset,
        trigger: args.trigger.as_ref().map_or_else(|| "ctrl".into(), |t| format!("{t:?}")),
        ctrl,
        testset: &config,
        tool_version: env!("CARGO_PKG_VERSION"),
    };
    let opts = TestSetOptions {
        out: args.out.clone(),
        force: args.force,
        seed: args.seed,
        config_toml: toml::to_string_pretty(&resolved)?,
        limits,
    };
    let progress = ui.progress();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(args.threads.unwrap_or(0)).build()?;
    let summary =
        pool.install(|| write_test_set(ds.as_ref(), &config, &trigger, &opts, &progress))?;
    ui.status(&format!(
        "testset: {} triggered images -> {}",
        summary.records.len(),
        summary.out.display()
    ));
    Ok(ExitCode::SUCCESS)
}
