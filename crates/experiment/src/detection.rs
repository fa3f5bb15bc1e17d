//! The filtering stage of detector defenses: the poisoned encoder embeds every
//! pre-training image, the detector scores them (from the embeddings, or with the images
//! and the encoder too, at the run's seed), and the flagged ones are left out of the
//! list the arm then pre-trains on (`corruptencoder_defense::filter_list`, which the
//! `defend` command calls too). The known poison list (label -1) scores the detector.
use std::path::{Path, PathBuf};

use corruptencoder_core::write_atomic;
use corruptencoder_data::{CaptionedImages, Dataset};
use corruptencoder_defense::{Detector, FilterJob, filter_list, read_scores};
use corruptencoder_report::{DetectionScores, Figure, RunResult, detection_histogram_svg};
use corruptencoder_train::{EvalTransform, ExtractOptions};

use crate::config::ExperimentConfig;
use crate::context::{Context, stage};
use crate::error::Result;
use crate::plan::{Plan, run_dir};

/// The folder of a run's detection files.
const DETECTION: &str = "detection";

/// Scores `data` (a `path label` list, or an image-text run's `image,caption` CSV) with
/// `detector` under the poisoned encoder and writes, under the run's `detection/`:
/// `scores.csv`, `kept.txt` or `kept.csv` (the set without the flagged images) and
/// `summary.json`. Returns that set and the summary; skipped when both are there.
pub(crate) fn detection_stage(
    cx: &Context<'_>,
    p: &Plan,
    data: &Path,
    detector: &dyn Detector,
) -> Result<(PathBuf, DetectionScores)> {
    let dir = p.dir.join(DETECTION);
    let image_text = cx.config.pretrain.method.is_image_text();
    let kept = dir.join(if image_text { "kept.csv" } else { "kept.txt" });
    let summary_path = dir.join("summary.json");
    if kept.exists()
        && let Some(summary) = read_summary(&summary_path)
    {
        return Ok((kept, summary));
    }
    let encoder = scoring_encoder(cx, p, data)?;
    cx.observer.stage(&p.label(), "detection");
    fs_err::create_dir_all(&dir).map_err(crate::error::io("create", &dir))?;
    // Captioned images carry no labels: the clean pairs come first, the poisons after them.
    let captions = match cx.config.pretrain.method.is_image_text() {
        true => Some(CaptionedImages::open_csv(&crate::clip::clean_captions(cx)?)?.len()),
        false => None,
    };
    let job = FilterJob {
        list: data,
        captions,
        encoder: &encoder,
        arch: Some(&cx.config.pretrain.encoder),
        transform: pretraining_transform(cx.config.eval.transform),
        extract: ExtractOptions {
            batch_size: cx.config.eval.batch_size,
            device: cx.opts.device.clone(),
            limits: cx.opts.limits,
        },
        list_root: Some(cx.root),
        seed: p.seed,
        progress: cx.observer.progress(),
    };
    let filtered = stage(p, "detection", filter_list(detector, &job, &dir))?;
    let q = filtered.quality;
    let summary = DetectionScores {
        encoder: cx.shown(&encoder),
        images: q.images,
        poisons: q.poisons,
        flagged: q.flagged,
        flagged_poisons: q.flagged_poisons,
        precision: q.precision,
        recall: q.recall,
        auroc: q.auroc,
    };
    let json = serde_json::to_string_pretty(&summary).expect("the summary serialises");
    write_atomic(&summary_path, json.as_bytes())?;
    Ok((filtered.kept, summary))
}

/// The poisoned encoder the detector reads: that of an arm with the same attack and no
/// defense at this seed and sweep value, when it has finished (the same training on the
/// same data, so the same weights on this machine), else one trained here on the
/// unfiltered list.
fn scoring_encoder(cx: &Context<'_>, p: &Plan, data: &Path) -> Result<PathBuf> {
    let pre_dir = match finished_sibling(cx, p) {
        Some(d) => d,
        None => crate::stages::pretrain_stage(cx, p, data, None, "poisoned-pretrain")?,
    };
    Ok(pre_dir.join("encoder.safetensors"))
}

/// The pre-training folder of an arm with the same attack and no defense at this seed and
/// sweep value, if its encoder is there.
pub(crate) fn finished_sibling(cx: &Context<'_>, p: &Plan) -> Option<PathBuf> {
    cx.config
        .arms
        .iter()
        .filter(|a| a.defense.is_none() && a.attack == p.arm.attack)
        .map(|a| run_dir(cx.root, &a.name, p.sweep.as_ref(), p.seed).join("pretrain"))
        .find(|d| d.join("encoder.safetensors").exists())
}

/// The test transform for pre-training images, which come at any size (poisons are drawn
/// on large backgrounds): as set, or, when it only crops (downstream images already at the
/// view size), with the shorter side resized to the crop first, so the encoder sees the
/// whole image's centre as the reference detectors' test transform shows it.
fn pretraining_transform(t: EvalTransform) -> EvalTransform {
    if t.resize == 0 { EvalTransform { resize: t.crop, crop: t.crop } } else { t }
}

fn read_summary(path: &Path) -> Option<DetectionScores> {
    serde_json::from_str(&fs_err::read_to_string(path).ok()?).ok()
}

/// A histogram of the scores of each detector arm's first run, poisons against clean
/// images, written under `figures/`.
pub(crate) fn histograms(
    config: &ExperimentConfig,
    out: &Path,
    runs: &[RunResult],
) -> Result<Vec<Figure>> {
    let mut figures = Vec::new();
    for (arm, run, dir) in crate::report::first_runs(config, out, runs, |r| r.detection.is_some()) {
        let Some(defense) = &arm.defense else { continue };
        let csv = dir.join(DETECTION).join("scores.csv");
        let Some((scores, poison)) = read_scores(&csv) else { continue };
        let title = format!("{} scores, arm {} seed {}", defense.name(), arm.name, run.seed);
        let file = format!("figures/detection-{}.svg", arm.name);
        let svg = detection_histogram_svg(&title, &scores, &poison)?;
        write_atomic(&out.join(&file), svg.as_bytes())?;
        let caption = format!(
            "Detector scores of every pre-training image of arm {} (seed {}) under the \
             poisoned encoder, as the share of poisons (red) and of clean images (blue) per bin.",
            arm.name, run.seed
        );
        figures.push(Figure { file, caption });
    }
    Ok(figures)
}

/// Each defense arm's settings against the sets it will read (a detector's neighbour count
/// against the set it scores, CleanCLIP's batch against its clean pairs), checked once the
/// inputs are known and before any run trains, so a too-small set fails at once instead of
/// after the undefended arm's pre-training.
pub(crate) fn check_defense_sets(
    config_path: &Path,
    inputs: &crate::inputs::Inputs,
    plans: &[Plan],
) -> Result<()> {
    for p in plans {
        let Some(defense) = p.arm.defense.as_ref().map(|d| d.build()) else { continue };
        let checked = check_detector_set(inputs, p, defense.as_ref())
            .and_then(|()| crate::cleanclip::check_pairs(inputs, defense.as_ref()));
        checked.map_err(|e| crate::error::Error::Invalid {
            path: config_path.to_path_buf(),
            source: crate::error::Invalid::in_arm(&p.arm.name)(e.within("defense")),
        })?;
    }
    Ok(())
}

/// A detector's neighbour count against the clean images and the run's poisons.
fn check_detector_set(
    inputs: &crate::inputs::Inputs,
    p: &Plan,
    defense: &dyn corruptencoder_defense::Defense,
) -> std::result::Result<(), corruptencoder_core::SettingError> {
    let Some(detector) = defense.detector() else { return Ok(()) };
    let clean = inputs.clean_images;
    let poisons = match &p.attack {
        Some(_) => crate::inputs::poisons_for(p.shared.poison_ratio, clean),
        None => 0,
    };
    detector.check_set(clean + poisons)
}
