//! `corruptencoder world`: a world of real labelled images for experiment files
//! (`source = "files"`), drawn from a labelled dataset such as Fashion-MNIST.
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use corruptencoder_data::{LabelledWorldConfig, open_dataset, write_labelled_world};

use crate::reporters::Ui;

/// Flags of `world`; each unset flag keeps the library's default (shown in `--help` of
/// the setting it names).
#[derive(Debug, Args)]
pub(crate) struct WorldArgs {
    /// Labelled training split (image folder, `path label` list, CIFAR .bin or IDX images
    /// file): pre-training, downstream training and the attacks' images are drawn from it.
    #[arg(long)]
    train: PathBuf,
    /// Labelled test split: the downstream test images.
    #[arg(long)]
    test: PathBuf,
    /// Class names, one per line in label order (class folders are `<index>-<name>`).
    #[arg(long)]
    class_names: Option<PathBuf>,
    /// Output folder (refused if it exists, unless --force).
    #[arg(long, short)]
    out: PathBuf,
    /// Replace an existing output folder.
    #[arg(long)]
    force: bool,
    /// Pre-training images [default: 4000].
    #[arg(long)]
    pretrain: Option<usize>,
    /// Downstream training images [default: 1000].
    #[arg(long)]
    downstream_train: Option<usize>,
    /// Downstream test images [default: 500].
    #[arg(long)]
    downstream_test: Option<usize>,
    /// Target class label [default: 0].
    #[arg(long)]
    target: Option<usize>,
    /// Reference objects [default: 3].
    #[arg(long)]
    references: Option<usize>,
    /// Support images for CorruptEncoder+ [default: 5].
    #[arg(long)]
    supports: Option<usize>,
    /// Target-class images for the baselines [default: 400].
    #[arg(long)]
    target_images: Option<usize>,
    /// Side of the pre-training and downstream images [default: 32].
    #[arg(long)]
    size: Option<u32>,
    /// Enlargement of references and support images [default: 4].
    #[arg(long)]
    reference_scale: Option<u32>,
    /// Brightness above which a reference pixel is object [default: 20].
    #[arg(long)]
    mask_threshold: Option<u8>,
    /// Backgrounds made of the dataset's own images [default: 100].
    #[arg(long)]
    scenes: Option<usize>,
    /// Plain backgrounds of the dataset's ground colour [default: 100].
    #[arg(long)]
    plain: Option<usize>,
    /// Seed of every draw [default: 0].
    #[arg(long)]
    seed: Option<u64>,
}

impl WorldArgs {
    fn config(&self) -> LabelledWorldConfig {
        let d = LabelledWorldConfig::default();
        LabelledWorldConfig {
            pretrain: self.pretrain.unwrap_or(d.pretrain),
            downstream_train: self.downstream_train.unwrap_or(d.downstream_train),
            downstream_test: self.downstream_test.unwrap_or(d.downstream_test),
            target: self.target.unwrap_or(d.target),
            references: self.references.unwrap_or(d.references),
            supports: self.supports.unwrap_or(d.supports),
            target_images: self.target_images.unwrap_or(d.target_images),
            size: self.size.unwrap_or(d.size),
            reference_scale: self.reference_scale.unwrap_or(d.reference_scale),
            mask_threshold: self.mask_threshold.unwrap_or(d.mask_threshold),
            scenes: self.scenes.unwrap_or(d.scenes),
            plain: self.plain.unwrap_or(d.plain),
            seed: self.seed.unwrap_or(d.seed),
            ..d
        }
    }
}

pub(crate) fn run(args: WorldArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    let config = args.config();
    let train = open_dataset(&args.train, None)?;
    let test = open_dataset(&args.test, None)?;
    let names = match &args.class_names {
        Some(path) => Some(
            fs_err::read_to_string(path)?
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect::<Vec<_>>(),
        ),
        None => None,
    };
    let bar = ui.progress();
    let world = write_labelled_world(
        train.as_ref(),
        test.as_ref(),
        names.as_deref(),
        &config,
        &args.out,
        args.force,
        &bar,
    )
    .with_context(|| format!("writing the world into {}", args.out.display()))?;
    ui.status(&format!(
        "world written: pre-training list {}, downstream {} / {}, references {}",
        world.pretrain.display(),
        world.downstream_train.display(),
        world.downstream_test.display(),
        world.references.display()
    ));
    Ok(ExitCode::SUCCESS)
}
