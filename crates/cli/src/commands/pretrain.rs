//! `corruptencoder pretrain`: flags and an optional TOML file validated into a
//! `PretrainConfig` (flag, then file, then default), a device from the cargo features, and
//! the library's `pretrain` with indicatif hooks.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::Args;
use corruptencoder_augment::Crops;
use corruptencoder_data::DatasetFormat;
use corruptencoder_train::burn::prelude::Device;
use corruptencoder_train::{
    Arch, MethodConfig, PretrainConfig, PretrainRun, Stem, pretrain, pretrain_data_parallel,
};

use super::{by_name, set};
use crate::reporters::Ui;

/// Flags of `corruptencoder pretrain`.
#[derive(Debug, Args)]
pub(crate) struct PretrainArgs {
    /// Pre-training images: a `path label` list (label -1 marks a poison; the poison
    /// command's filelist.txt as it is), an image folder, a CIFAR .bin or an IDX images file;
    /// for --method clip, an `image,caption` CSV or a folder of images with .txt captions.
    #[arg(long)]
    data: PathBuf,
    /// Format of --data (image-folder, file-list, cifar10, cifar100, idx, caption-csv,
    /// caption-folder); detected if absent.
    #[arg(long)]
    format: Option<DatasetFormat>,
    /// Output folder (config.toml, seed, log.jsonl, checkpoints/, encoder.safetensors).
    #[arg(long)]
    out: PathBuf,
    /// TOML configuration (the `PretrainConfig` fields); flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Continue a stopped run in --out from its last checkpoint, with its config.toml.
    #[arg(long)]
    resume: bool,
    /// Replace an existing --out.
    #[arg(long)]
    force: bool,
    /// Pre-training method, with its defaults (a --config file's settings are kept when it
    /// names the same method); clip trains on image-caption data.
    #[arg(long, value_parser = method_parser())]
    method: Option<MethodConfig>,
    /// Encoder architecture: resnet18, resnet34, resnet50 or small-cnn.
    #[arg(long, value_parser = by_name::<Arch>)]
    arch: Option<Arch>,
    /// ResNet stem: imagenet (7x7 + max-pool) or cifar (3x3, no pool).
    #[arg(long, value_parser = by_name::<Stem>)]
    stem: Option<Stem>,
    /// Base width of the encoder (64 for torchvision ResNets).
    #[arg(long)]
    width: Option<usize>,
    /// Epochs.
    #[arg(long)]
    epochs: Option<usize>,
    /// Images per step.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Base learning rate.
    #[arg(long)]
    lr: Option<f64>,
    /// Epochs of linear learning-rate warm-up.
    #[arg(long)]
    warmup_epochs: Option<usize>,
    /// View side in pixels.
    #[arg(long)]
    image_size: Option<u32>,
    /// Crop policy: standard or localized (the localized cropping defense).
    #[arg(long, value_parser = by_name::<Crops>)]
    crops: Option<Crops>,
    /// MoCo queue length (a multiple of the batch size).
    #[arg(long)]
    queue_size: Option<usize>,
    /// Seed of every random stream.
    #[arg(long)]
    seed: Option<u64>,
    /// Fail on the first unreadable image instead of skipping it.
    #[arg(long)]
    strict: bool,
    /// Also write a TensorBoard event file (loss, learning rate, monitor) beside log.jsonl
    /// (config key `tensorboard`).
    #[arg(long)]
    tensorboard: bool,
    /// Training device: flex (CPU, default), cuda[:N], wgpu[:N], libtorch, libtorch-cuda[:N];
    /// GPU and LibTorch need the cargo features of the same names. A comma-separated list
    /// (cuda:0,cuda:1) trains data-parallel over those devices (docs/gpu.md).
    #[arg(long, default_value = "flex")]
    device: String,
    /// Stop after this many steps in total (resume later with --resume).
    #[arg(long)]
    stop_after: Option<u64>,
}

/// `--method`'s values: the method registry's names.
fn method_parser() -> impl clap::builder::TypedValueParser<Value = MethodConfig> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(MethodConfig::names())
        .map(|name| MethodConfig::named(&name).expect("a registered name"))
}

pub(crate) fn run(args: PretrainArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    let config = resolve(&args)?;
    let mut devices = devices(&args.device)?;
    let device = devices.remove(0);
    let progress = ui.progress();
    let mut reporter = progress.step_reporter();
    let run = PretrainRun {
        data: &args.data,
        format: args.format,
        out: &args.out,
        resume: args.resume,
        force: args.force,
        device,
        progress: &progress,
        reporter: &mut reporter,
        stop_after: args.stop_after,
        monitor: None,
    };
    // More than one device: the others are data-parallel replicas of the first.
    let summary = if devices.is_empty() {
        pretrain(&config, run)
    } else {
        pretrain_data_parallel(&config, run, &devices)
    }
    .with_context(|| format!("pre-training into {}", args.out.display()))?;
    if summary.skipped > 0 {
        log::warn!("{} unreadable images were skipped", summary.skipped);
    }
    match &summary.encoder {
        Some(path) => log::info!("{} steps; encoder written to {}", summary.steps, path.display()),
        None => log::warn!("stopped after {} steps; continue with --resume", summary.steps),
    }
    Ok(ExitCode::SUCCESS)
}

/// `--help`'s list of the defaults unset flags keep (without a --config file).
pub(crate) fn defaults() -> String {
    let c = PretrainConfig::default();
    let extra = [
        format!("optim.lr = {}", c.optim.lr),
        format!("optim.warmup_epochs = {}", c.optim.warmup_epochs),
        format!("views.size = {}", c.views.size),
        format!(
            "encoder = {}",
            toml::to_string(&c.encoder).expect("settings serialise").trim().replace('\n', ", ")
        ),
        format!("method = {}", c.method.describe()),
    ];
    super::defaults_help::<PretrainConfig>("docs/method.md section 6", &extra)
}

/// Flag, then file (or the run's own config.toml when resuming), then default.
fn resolve(args: &PretrainArgs) -> anyhow::Result<PretrainConfig> {
    // An unfinished run lives in the staged folder until it finishes.
    let stored = corruptencoder_core::OutputDir::partial_path(&args.out).join("config.toml");
    let file: Option<&Path> = match (&args.config, args.resume && stored.exists()) {
        (Some(path), _) => Some(path),
        (None, true) => Some(&stored),
        (None, false) => None,
    };
    // A resume's file describes a run that exists: read as stored, a setting added since
    // the run was written means what the run used (today's default could not resume it).
    let mut c = match file {
        Some(path) if args.resume => PretrainConfig::from_stored_toml_file(path)?,
        Some(path) => PretrainConfig::from_toml_file(path)?,
        None => PretrainConfig::default(),
    };
    if let Some(m) = &args.method
        && m.name() != c.method.name()
    {
        c.method = m.clone();
    }
    set(&mut c.encoder.arch, args.arch);
    set(&mut c.encoder.stem, args.stem);
    set(&mut c.views.crops, args.crops);
    if let Some(q) = args.queue_size {
        c.method.set_field("queue_size", q as f64).map_err(|e| e.within("method"))?;
    }
    set(&mut c.encoder.width, args.width);
    set(&mut c.epochs, args.epochs);
    set(&mut c.batch_size, args.batch_size);
    set(&mut c.optim.lr, args.lr);
    set(&mut c.optim.warmup_epochs, args.warmup_epochs);
    set(&mut c.views.size, args.image_size);
    set(&mut c.seed, args.seed);
    c.strict |= args.strict;
    c.tensorboard |= args.tensorboard;
    c.validate()?;
    Ok(c)
}

/// The burn device named by `--device`; backends not compiled in are refused by name.
#[allow(deprecated)] // burn 0.22 deprecates LibTorch but still ships it behind `tch`.
pub(crate) fn device(name: &str) -> anyhow::Result<Device> {
    let (kind, index) = match name.split_once(':') {
        Some((k, i)) => {
            (k, i.parse::<usize>().with_context(|| format!("device index in {name:?}"))?)
        }
        None => (name, 0),
    };
    let _ = index;
    // Each GPU backend either builds its device or, when its feature is off, says which
    // feature it needs; one `cfg` per arm keeps every arm reachable in every build.
    let missing = |kind: &str| -> anyhow::Result<Device> {
        bail!(
            "device {kind} needs a build with `--features {}`",
            kind.trim_end_matches("-cuda").replace("libtorch", "tch")
        )
    };
    let _ = &missing;
    Ok(match kind {
        "flex" | "cpu" => Device::flex(),
        #[cfg(feature = "cuda")]
        "cuda" => Device::cuda(index),
        #[cfg(not(feature = "cuda"))]
        "cuda" => missing(kind)?,
        // `wgpu` is wgpu's default adapter; `wgpu:N` the N-th discrete GPU.
        #[cfg(feature = "wgpu")]
        "wgpu" => {
            use corruptencoder_train::burn::tensor::DeviceKind;
            match name.split_once(':') {
                Some(_) => Device::wgpu(DeviceKind::DiscreteGpu(index)),
                None => Device::wgpu(DeviceKind::DefaultDevice),
            }
        }
        #[cfg(not(feature = "wgpu"))]
        "wgpu" => missing(kind)?,
        #[cfg(feature = "tch")]
        "libtorch" => Device::libtorch(),
        #[cfg(feature = "tch")]
        "libtorch-cuda" => Device::libtorch_cuda(index),
        #[cfg(not(feature = "tch"))]
        "libtorch" | "libtorch-cuda" => missing(kind)?,
        other => {
            bail!(
                "unknown device {other:?} (flex, cuda[:N], wgpu[:N], libtorch, libtorch-cuda[:N])"
            )
        }
    })
}

/// The devices of a comma-separated `--device` list (`cuda:0,cuda:1`): one device trains
/// as before, several train data-parallel (`corruptencoder_train::pretrain_data_parallel`).
pub(crate) fn devices(list: &str) -> anyhow::Result<Vec<Device>> {
    list.split(',').map(|name| device(name.trim())).collect()
}
