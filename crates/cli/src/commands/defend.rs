//! `corruptencoder defend`: the detectors on their own. `k-distance` and `dao` embed every
//! image of a `path label` list with an encoder, score it, flag the highest scores and
//! write `scores.csv`, `kept.txt` (the list to pre-train on again) and `summary.json`
//! (AUROC, precision and recall when the list marks its poisons with label -1);
//! `patch-search` does the same with PatchSearch's poison classifier, which flags the
//! images it calls poisons, and leaves its candidate triggers under `patch-search/`. `decree`
//! inverts a trigger on the encoder over clean images and writes its verdict
//! (`summary.json`) and the inverted mask, pattern and trigger as PNGs.
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::Args;
use corruptencoder_core::{OutputDir, write_atomic};
use corruptencoder_data::{ImageLimits, open_dataset};
use corruptencoder_defense::{
    DecreeConfig, DecreeSummary, DefenseConfig, EmbeddingDetectorConfig, FilterJob, Filtered,
    PatchSearchConfig, decree, filter_list,
};
use corruptencoder_train::{EvalTransform, ExtractOptions};

use crate::commands::pretrain::device;
use crate::reporters::Ui;

/// Flags of `corruptencoder defend`.
#[derive(Debug, Args)]
pub(crate) struct DefendArgs {
    /// The detector: k-distance, dao or patch-search (poisons in a pre-training set),
    /// decree (a backdoored encoder); docs/defenses.md. The other defenses act during
    /// pre-training: experiment arms, or `pretrain --crops localized`.
    #[arg(value_parser = ["k-distance", "dao", "patch-search", "decree"])]
    detector: String,
    /// The encoder: for k-distance, dao and patch-search the one pre-trained on --data, as
    /// the detectors assume; for decree the one inspected (our `encoder.safetensors` or a
    /// PyTorch checkpoint).
    #[arg(long)]
    encoder: PathBuf,
    /// k-distance, dao, patch-search: the pre-training set, a `path label` list (poisons
    /// labelled -1 are scored against). decree: clean images (any labelled dataset format).
    #[arg(long)]
    data: PathBuf,
    /// Output folder.
    #[arg(long, short)]
    out: PathBuf,
    /// Replace an existing --out.
    #[arg(long)]
    force: bool,
    /// Neighbours per image (default: the reference's 16).
    #[arg(long)]
    k: Option<usize>,
    /// Share of the images flagged and left out of kept.txt (default 0.05).
    #[arg(long)]
    flag_fraction: Option<f64>,
    /// Score the raw embeddings instead of unit-length ones.
    #[arg(long)]
    raw: bool,
    /// decree: most optimisation steps (default: the reference's 1,000).
    #[arg(long)]
    epochs: Option<usize>,
    /// decree: clean images the trigger is optimised over (default 50).
    #[arg(long)]
    shadow_images: Option<usize>,
    /// decree: steps without a smaller collapsing mask before it stops (default: the
    /// reference's 10).
    #[arg(long)]
    early_stop_patience: Option<usize>,
    /// patch-search: k-means clusters (default: one per 127 images, the reference's ratio).
    #[arg(long)]
    clusters: Option<usize>,
    /// patch-search: images each candidate trigger is pasted on (default: one per cluster).
    #[arg(long)]
    test_images: Option<usize>,
    /// patch-search: side of a candidate trigger as a share of --crop (default 60 / 224).
    #[arg(long)]
    window_fraction: Option<f64>,
    /// patch-search: images drawn from each remaining cluster per round (default 2).
    #[arg(long)]
    samples_per_iteration: Option<usize>,
    /// patch-search: share of the remaining clusters dropped per round (default 0.25).
    #[arg(long)]
    remove_per_iteration: Option<f64>,
    /// patch-search: top-ranked images whose triggers train the poison classifier
    /// (default 20).
    #[arg(long)]
    topk_poisons: Option<usize>,
    /// patch-search: poison classifiers averaged (default 5).
    #[arg(long)]
    model_count: Option<usize>,
    /// patch-search: most steps per classifier (default 2,000).
    #[arg(long)]
    max_iterations: Option<usize>,
    /// patch-search: largest share of the set flagged, the largest margins first (default
    /// 1: every image the classifiers call a poison, as the reference).
    #[arg(long)]
    max_flag_fraction: Option<f64>,
    /// decree: seed of the image sample and of the mask's starting values; patch-search:
    /// of every random choice.
    #[arg(long, default_value_t)]
    seed: u64,
    /// Shorter side after resizing, before the centre crop; 0 skips resizing (k-distance,
    /// dao; decree resizes to --crop).
    #[arg(long, default_value_t = EvalTransform::default().resize)]
    resize: u32,
    /// Centre-crop side the encoder sees.
    #[arg(long, default_value_t = EvalTransform::default().crop)]
    crop: u32,
    /// Images per forward pass.
    #[arg(long, default_value_t = ExtractOptions::DEFAULT_BATCH)]
    batch_size: usize,
    /// Device for the embedding pass: flex (CPU, default), cuda[:N], wgpu, libtorch.
    #[arg(long, default_value = "flex")]
    device: String,
}

pub(crate) fn run(args: DefendArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    if args.detector == "decree" {
        return run_decree(args);
    }
    let mut settings = EmbeddingDetectorConfig::default();
    super::set(&mut settings.k, args.k);
    super::set(&mut settings.flag_fraction, args.flag_fraction);
    settings.normalize = !args.raw;
    let config = match args.detector.as_str() {
        "dao" => DefenseConfig::Dao(settings),
        "patch-search" => DefenseConfig::PatchSearch(patch_search_settings(&args)),
        _ => DefenseConfig::KDistance(settings),
    };
    config.validate()?;
    if args.batch_size == 0 || args.crop == 0 {
        bail!("--batch-size and --crop must be positive");
    }
    let device = device(&args.device)?;
    let out = OutputDir::create(&args.out, args.force)?;
    let defense = config.build();
    let detector = defense.detector().expect("every choice but decree is a detector");
    let progress = ui.progress();
    let job = FilterJob {
        list: &args.data,
        captions: None,
        encoder: &args.encoder,
        arch: None,
        transform: EvalTransform { resize: args.resize, crop: args.crop },
        extract: ExtractOptions {
            batch_size: args.batch_size,
            device,
            limits: ImageLimits::default(),
        },
        list_root: None,
        seed: args.seed,
        progress: &progress,
    };
    let filtered = filter_list(detector, &job, out.path()).with_context(|| {
        format!("scoring {} under {}", args.data.display(), args.encoder.display())
    })?;
    let summary = serde_json::json!({
        "detector": config.name(),
        "settings": config.describe(),
        "encoder": std::path::absolute(&args.encoder).unwrap_or(args.encoder.clone()),
        "data": std::path::absolute(&args.data).unwrap_or(args.data.clone()),
        "quality": &filtered.quality,
    });
    let json = serde_json::to_string_pretty(&summary).expect("the summary serialises");
    write_atomic(&out.path().join("summary.json"), json.as_bytes())?;
    let dir = out.commit()?;
    print_summary(&filtered, &dir);
    Ok(ExitCode::SUCCESS)
}

/// PatchSearch's settings: its defaults under the flags given.
fn patch_search_settings(args: &DefendArgs) -> PatchSearchConfig {
    let mut c = PatchSearchConfig::default();
    c.clusters = args.clusters.or(c.clusters);
    c.test_images = args.test_images.or(c.test_images);
    super::set(&mut c.window_fraction, args.window_fraction);
    super::set(&mut c.samples_per_iteration, args.samples_per_iteration);
    super::set(&mut c.remove_per_iteration, args.remove_per_iteration);
    super::set(&mut c.topk_poisons, args.topk_poisons);
    super::set(&mut c.model_count, args.model_count);
    super::set(&mut c.max_iterations, args.max_iterations);
    super::set(&mut c.max_flag_fraction, args.max_flag_fraction);
    c
}

/// `defend decree`: the verdict and the inverted trigger's images.
fn run_decree(args: DefendArgs) -> anyhow::Result<ExitCode> {
    let mut config = DecreeConfig { seed: args.seed, size: args.crop, ..Default::default() };
    super::set(&mut config.epochs, args.epochs);
    super::set(&mut config.shadow_images, args.shadow_images);
    super::set(&mut config.early_stop_patience, args.early_stop_patience);
    config.validate()?;
    let device = device(&args.device)?;
    let shadow = open_dataset(&args.data, None)
        .with_context(|| format!("opening {}", args.data.display()))?;
    let out = OutputDir::create(&args.out, args.force)?;
    let limits = ImageLimits::default();
    let report = decree(&args.encoder, None, shadow.as_ref(), &config, &device, &limits)
        .with_context(|| format!("DECREE on {}", args.encoder.display()))?;
    let summary = report.write(&config, out.path())?;
    let dir = out.commit()?;
    print_verdict(&summary, &dir);
    Ok(ExitCode::SUCCESS)
}

#[expect(clippy::print_stdout, reason = "the verdict is the command's output")]
fn print_verdict(s: &DecreeSummary, dir: &std::path::Path) {
    match s.pl1 {
        Some(pl1) => println!(
            "inverted trigger covers {:.1}% of the image (PL1 {pl1:.4}, threshold {})",
            100.0 * pl1,
            s.pl1_threshold
        ),
        None => println!("no mask collapsed the embeddings in {} steps", s.steps),
    }
    let verdict = if s.backdoored { "backdoored" } else { "not flagged" };
    println!("verdict: {verdict}; files in {}", dir.display());
}

#[expect(clippy::print_stdout, reason = "the detection summary is the command's output")]
fn print_summary(f: &Filtered, dir: &std::path::Path) {
    let q = &f.quality;
    let pct = |v: Option<f64>| v.map_or("-".into(), |v| format!("{:.1}%", 100.0 * v));
    println!("scored {} images ({} marked as poisons)", q.images, q.poisons);
    println!("flagged {} ({} of them poisons)", q.flagged, q.flagged_poisons);
    match q.auroc {
        Some(a) => {
            println!("AUROC {a:.3}, precision {}, recall {}", pct(q.precision), pct(q.recall))
        }
        None => println!("no AUROC: the list marks no poisons (label -1), or only poisons"),
    }
    println!("kept list: {}", dir.join("kept.txt").display());
    let own = dir.join("patch-search");
    if own.is_dir() {
        println!("candidate triggers and search scores: {}", own.display());
    }
}
