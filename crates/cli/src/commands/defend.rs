//! `corruptencoder defend`: the defenses that run on their own. `k-distance` and `dao` embed
//! every image of a `path label` list or an `image,caption` CSV with an encoder, score it,
//! flag the highest scores and write `scores.csv`, the set without the flagged images to
//! pre-train on again (`kept.txt`, or `kept.csv` with the captions) and `summary.json`
//! (AUROC, precision and recall when the set marks its poisons: label -1 in a list,
//! `--poisons-from` in a CSV); `patch-search` does the same with PatchSearch's poison
//! classifier, which flags the images it calls poisons, and leaves its candidate triggers
//! under `patch-search/`. `decree` inverts a trigger on the encoder over clean images and
//! writes its verdict (`summary.json`) and the inverted mask, pattern and trigger as PNGs.
//! `cleanclip` fine-tunes a trained CLIP model on clean `image,caption` pairs into a new CLIP
//! run folder.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::Args;
use corruptencoder_core::{OutputDir, write_atomic};
use corruptencoder_data::{CaptionedImages, Dataset, DatasetFormat, ImageLimits, open_dataset};
use corruptencoder_defense::{
    DecreeConfig, DecreeSummary, DefenseConfig, EmbeddingDetectorConfig, FilterJob, Filtered,
    PatchSearchConfig, decree, filter_list,
};
use corruptencoder_train::{
    CleanClipConfig, EvalTransform, ExtractOptions, PretrainRun, finetune_cleanclip,
};

use crate::commands::pretrain::device;
use crate::reporters::Ui;

/// Flags of `corruptencoder defend`.
#[derive(Debug, Args)]
pub(crate) struct DefendArgs {
    /// The defense: k-distance, dao or patch-search (poisons in a pre-training set), decree
    /// (a backdoored encoder), cleanclip (fine-tunes a CLIP model on clean pairs);
    /// docs/defenses.md. The other defenses act during pre-training: experiment arms, or
    /// `pretrain --crops localized`.
    #[arg(value_parser = ["k-distance", "dao", "patch-search", "decree", "cleanclip"])]
    detector: String,
    /// The encoder: for k-distance, dao and patch-search the one pre-trained on --data, as
    /// the detectors assume; for decree the one inspected (our `encoder.safetensors` or a PyTorch
    /// checkpoint).
    #[arg(long, required_unless_present = "clip", conflicts_with = "clip")]
    encoder: Option<PathBuf>,
    /// k-distance, dao, patch-search: the pre-training set, a `path label` list (poisons labelled -1 are
    /// scored against) or an `image,caption` CSV (`*.csv`; see --poisons-from). decree:
    /// clean images (any labelled dataset format).
    #[arg(long, required_unless_present = "clip", conflicts_with = "clip")]
    data: Option<PathBuf>,
    /// k-distance, dao on an `image,caption` CSV: the rows from this one on (0 = the first
    /// after the header) are the poisons the detector is scored against, as an attack
    /// appends them; without it no row is marked.
    #[arg(long, value_name = "ROW")]
    poisons_from: Option<usize>,
    /// cleanclip: the CLIP run folder to fine-tune (`clip.safetensors`, `tokenizer.json`,
    /// `config.toml` of a `pretrain --method clip` run or a fine-tuning).
    #[arg(long, required_if_eq("detector", "cleanclip"), requires = "pairs")]
    clip: Option<PathBuf>,
    /// cleanclip: the clean pairs, an `image,caption` CSV or a folder of images with .txt
    /// captions.
    #[arg(long, requires = "clip")]
    pairs: Option<PathBuf>,
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
    /// decree: most optimisation steps (default: the reference's 1,000). cleanclip:
    /// fine-tuning epochs.
    #[arg(long)]
    epochs: Option<usize>,
    /// cleanclip: peak learning rate.
    #[arg(long)]
    lr: Option<f64>,
    /// cleanclip: steps of linear warm-up before the cosine.
    #[arg(long)]
    warmup_steps: Option<u64>,
    /// cleanclip: weight of CLIP's image-caption loss.
    #[arg(long)]
    clip_weight: Option<f64>,
    /// cleanclip: weight of the in-modal losses.
    #[arg(long)]
    inmodal_weight: Option<f64>,
    /// cleanclip: AdamW's weight decay.
    #[arg(long)]
    weight_decay: Option<f64>,
    /// cleanclip: pairs drawn from --pairs to fine-tune on (0: all).
    #[arg(long)]
    clean_pairs: Option<usize>,
    /// cleanclip: continue an interrupted fine-tuning in --out.
    #[arg(long)]
    resume: bool,
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
    /// decree: seed of the image sample and of the mask's starting values. cleanclip: seed
    /// of the pair sample, the order, the views and the augmented captions. patch-search:
    /// seed of every random choice.
    #[arg(long, default_value_t)]
    seed: u64,
    /// Shorter side after resizing, before the centre crop; 0 skips resizing (k-distance,
    /// dao; decree resizes to --crop).
    #[arg(long, default_value_t = EvalTransform::default().resize)]
    resize: u32,
    /// Centre-crop side the encoder sees (ImageNet's by default; a warning says when the
    /// encoder's run folder shows it was pre-trained on another side, e.g. 32 px).
    #[arg(long, default_value_t = EvalTransform::default().crop)]
    crop: u32,
    /// k-distance, dao: images per forward pass. cleanclip: pairs per step.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Device for the embedding pass or the fine-tuning: flex (CPU, default), cuda[:N],
    /// wgpu, libtorch.
    #[arg(long, default_value = "flex")]
    device: String,
}

pub(crate) fn run(args: DefendArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    match args.detector.as_str() {
        "decree" => return run_decree(args),
        "cleanclip" => return run_cleanclip(args, ui),
        _ => {}
    }
    let (Some(encoder), Some(data)) = (&args.encoder, &args.data) else {
        bail!("--encoder and --data are required for {}", args.detector);
    };
    let batch_size = args.batch_size.unwrap_or(ExtractOptions::DEFAULT_BATCH);
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
    if batch_size == 0 || args.crop == 0 {
        bail!("--batch-size and --crop must be positive");
    }
    let captions = caption_rows(data, args.poisons_from)?;
    let device = device(&args.device)?;
    super::warn_on_view_size(encoder, args.crop);
    let out = OutputDir::create(&args.out, args.force)?;
    let defense = config.build();
    let detector = defense.detector().expect("every choice but decree is a detector");
    let progress = ui.progress();
    let job = FilterJob {
        list: data,
        captions,
        encoder,
        arch: None,
        transform: EvalTransform { resize: args.resize, crop: args.crop },
        extract: ExtractOptions { batch_size, device, limits: ImageLimits::default() },
        list_root: None,
        seed: args.seed,
        progress: &progress,
    };
    let filtered = filter_list(detector, &job, out.path())
        .with_context(|| format!("scoring {} under {}", data.display(), encoder.display()))?;
    let summary = serde_json::json!({
        "detector": config.name(),
        "settings": config.describe(),
        "encoder": std::path::absolute(encoder).unwrap_or(encoder.clone()),
        "data": std::path::absolute(data).unwrap_or(data.clone()),
        "quality": &filtered.quality,
    });
    let json = serde_json::to_string_pretty(&summary).expect("the summary serialises");
    write_atomic(&out.path().join("summary.json"), json.as_bytes())?;
    let dir = out.commit()?;
    print_summary(&filtered, &dir);
    Ok(ExitCode::SUCCESS)
}

/// For an `image,caption` CSV `--data`, the row the poisons start at (its row count when
/// `--poisons-from` marks none); `None` for a `path label` list, which marks its own.
fn caption_rows(data: &Path, poisons_from: Option<usize>) -> anyhow::Result<Option<usize>> {
    if DatasetFormat::detect(data)? != DatasetFormat::CaptionCsv {
        if poisons_from.is_some() {
            bail!(
                "--poisons-from marks rows of an image,caption CSV; --data is a `path label` list, whose poisons carry label -1"
            );
        }
        return Ok(None);
    }
    let rows = CaptionedImages::open_csv(data)?.len();
    match poisons_from {
        Some(first) if first > rows => {
            bail!("--poisons-from {first}: {} has {rows} rows", data.display())
        }
        first => Ok(Some(first.unwrap_or(rows))),
    }
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
    let (Some(encoder), Some(data)) = (&args.encoder, &args.data) else {
        bail!("--encoder and --data are required for decree");
    };
    let mut config = DecreeConfig { seed: args.seed, size: args.crop, ..Default::default() };
    super::set(&mut config.epochs, args.epochs);
    super::set(&mut config.shadow_images, args.shadow_images);
    super::set(&mut config.early_stop_patience, args.early_stop_patience);
    config.validate()?;
    let device = device(&args.device)?;
    super::warn_on_view_size(encoder, args.crop);
    let shadow = open_dataset(data, None).with_context(|| format!("opening {}", data.display()))?;
    let out = OutputDir::create(&args.out, args.force)?;
    let limits = ImageLimits::default();
    let report = decree(encoder, None, shadow.as_ref(), &config, &device, &limits)
        .with_context(|| format!("DECREE on {}", encoder.display()))?;
    let summary = report.write(&config, out.path())?;
    let dir = out.commit()?;
    print_verdict(&summary, &dir);
    Ok(ExitCode::SUCCESS)
}

/// `defend cleanclip`: the CLIP model of --clip fine-tuned on --pairs into --out.
fn run_cleanclip(args: DefendArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    let mut settings = CleanClipConfig { seed: args.seed, ..Default::default() };
    super::set(&mut settings.epochs, args.epochs);
    super::set(&mut settings.batch_size, args.batch_size);
    super::set(&mut settings.lr, args.lr);
    super::set(&mut settings.warmup_steps, args.warmup_steps);
    super::set(&mut settings.clip_weight, args.clip_weight);
    super::set(&mut settings.inmodal_weight, args.inmodal_weight);
    super::set(&mut settings.weight_decay, args.weight_decay);
    super::set(&mut settings.clean_pairs, args.clean_pairs);
    settings.validate()?;
    let (Some(clip), Some(pairs)) = (&args.clip, &args.pairs) else {
        bail!("--clip and --pairs are required for cleanclip");
    };
    let progress = ui.progress();
    let mut reporter = progress.step_reporter();
    let run = PretrainRun {
        data: pairs,
        format: None,
        out: &args.out,
        resume: args.resume,
        force: args.force,
        device: device(&args.device)?,
        progress: &progress,
        reporter: &mut reporter,
        stop_after: None,
        monitor: None,
    };
    let summary = finetune_cleanclip(&settings, clip, run).with_context(|| {
        format!("CleanCLIP fine-tuning of {} on {}", clip.display(), pairs.display())
    })?;
    print_finetuned(summary.steps, summary.last_loss, &args.out);
    Ok(ExitCode::SUCCESS)
}

#[expect(clippy::print_stdout, reason = "where the model went is the command's output")]
fn print_finetuned(steps: u64, last_loss: Option<f32>, out: &std::path::Path) {
    let loss = last_loss.map_or("-".into(), |l| format!("{l:.4}"));
    println!("fine-tuned for {steps} steps (last loss {loss}); CLIP model in {}", out.display());
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
    let kept = f.kept.file_name().expect("the kept set is a file in the output folder");
    println!("kept set: {}", dir.join(kept).display());
    let own = dir.join("patch-search");
    if own.is_dir() {
        println!("candidate triggers and search scores: {}", own.display());
    }
}
