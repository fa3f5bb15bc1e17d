//! The filtering stage of detector defenses: the poisoned encoder embeds every
//! pre-training image, the detector scores them, and the flagged ones are left out of the
//! list the arm then pre-trains on. The known poison list (label -1) scores the detector.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use corruptencoder_core::write_atomic;
use corruptencoder_data::{DatasetFormat, FileList, list_entry, open_dataset, write_file_list};
use corruptencoder_defense::Detector;
use corruptencoder_eval::{Features, detection_quality, flag_highest};
use corruptencoder_report::{DetectionScores, Figure, RunResult, detection_histogram_svg};
use corruptencoder_train::{EvalTransform, ExtractOptions, FeatureJob, FeatureSets};

use crate::config::ExperimentConfig;
use crate::context::{Context, stage};
use crate::error::Result;
use crate::plan::{Plan, run_dir};

/// The folder of a run's detection files.
const DETECTION: &str = "detection";

/// Scores `data` (a `path label` list) with `detector` under the poisoned encoder and
/// writes, under the run's `detection/`: `scores.csv` (every image's score, whether it is a
/// poison and whether it was flagged), `summary.json` and `kept.txt`, the list without the
/// flagged images. Returns that list and the summary; skipped when both are there.
pub(crate) fn detection_stage(
    cx: &Context<'_>,
    p: &Plan,
    data: &Path,
    detector: &dyn Detector,
) -> Result<(PathBuf, DetectionScores)> {
    let dir = p.dir.join(DETECTION);
    let (kept_path, summary_path) = (dir.join("kept.txt"), dir.join("summary.json"));
    if kept_path.exists()
        && let Some(summary) = read_summary(&summary_path)
    {
        return Ok((kept_path, summary));
    }
    let encoder = scoring_encoder(cx, p, data)?;
    cx.observer.stage(&p.label(), "detection");
    let list = stage(p, "detection", FileList::open(data))?;
    let ds = stage(p, "detection", open_dataset(data, Some(DatasetFormat::FileList)))?;
    let jobs = [FeatureJob {
        name: "pretraining",
        dataset: ds.as_ref(),
        transform: pretraining_transform(cx.config.eval.transform),
    }];
    let opts = ExtractOptions {
        batch_size: cx.config.eval.batch_size,
        device: cx.opts.device.clone(),
        limits: cx.opts.limits,
    };
    let arch = Some(&cx.config.pretrain.encoder);
    let sets = FeatureSets::extract(&encoder, arch, &jobs, &opts, cx.observer.progress());
    let sets = stage(p, "detection", sets)?;
    let f = sets.get("pretraining").expect("the one set extracted");
    let poison: Vec<bool> = f.labels.iter().map(|&l| l < 0).collect();
    let features = Features::new(f.values.clone(), f.dim)?;
    let scores = stage(p, "detection", detector.score(&features))?;
    let flagged = flag_highest(&scores, detector.flag_count(scores.len()));
    let quality = detection_quality(&scores, &poison, &flagged)?;

    fs_err::create_dir_all(&dir).map_err(crate::error::io("create", &dir))?;
    let root = std::path::absolute(cx.root).unwrap_or_else(|_| cx.root.to_path_buf());
    let here = std::path::absolute(&dir).unwrap_or_else(|_| dir.clone());
    let entry = |i: usize| {
        let image = list.image_path(i);
        let image = std::path::absolute(image).unwrap_or_else(|_| image.to_path_buf());
        list_entry(&image, &here, Some(&root))
    };
    let mut csv = String::from("index,image,poison,score,flagged\n");
    let mut kept = Vec::new();
    for (i, (&s, &out)) in scores.iter().zip(&flagged).enumerate() {
        let e = entry(i);
        writeln!(csv, "{i},{},{},{s},{}", e.display(), u8::from(poison[i]), u8::from(out))
            .expect("writing to a String");
        if !out {
            kept.push((e, f.labels[i]));
        }
    }
    let summary = DetectionScores {
        encoder: relative(&encoder, &root),
        images: quality.images,
        poisons: quality.poisons,
        flagged: quality.flagged,
        flagged_poisons: quality.flagged_poisons,
        precision: quality.precision,
        recall: quality.recall,
        auroc: quality.auroc,
    };
    write_atomic(&dir.join("scores.csv"), csv.as_bytes())?;
    let staged_list = dir.join(".kept.txt.partial");
    stage(p, "detection", write_file_list(&staged_list, &kept))?;
    fs_err::rename(&staged_list, &kept_path).map_err(crate::error::io("rename", &staged_list))?;
    let json = serde_json::to_string_pretty(&summary).expect("the summary serialises");
    write_atomic(&summary_path, json.as_bytes())?;
    Ok((kept_path, summary))
}

/// The poisoned encoder the detector reads: that of an arm with the same attack and no
/// defense at this seed and sweep value, when it has finished (the same training on the
/// same data, so the same weights on this machine), else one trained here on the
/// unfiltered list.
fn scoring_encoder(cx: &Context<'_>, p: &Plan, data: &Path) -> Result<PathBuf> {
    let sibling = cx
        .config
        .arms
        .iter()
        .filter(|a| a.defense.is_none() && a.attack == p.arm.attack)
        .map(|a| run_dir(cx.root, &a.name, p.sweep.as_ref(), p.seed).join("pretrain"))
        .find(|d| d.join("encoder.safetensors").exists());
    let pre_dir = match sibling {
        Some(d) => d,
        None => crate::stages::pretrain_stage(cx, p, data, None, "poisoned-pretrain")?,
    };
    Ok(pre_dir.join("encoder.safetensors"))
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

fn relative(path: &Path, root: &Path) -> String {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    path.strip_prefix(root).unwrap_or(&path).display().to_string()
}

/// A histogram of the scores of each detector arm's first run, poisons against clean
/// images, written under `figures/`.
pub(crate) fn histograms(
    config: &ExperimentConfig,
    out: &Path,
    runs: &[RunResult],
) -> Result<Vec<Figure>> {
    let mut figures = Vec::new();
    for arm in &config.arms {
        let Some(defense) = &arm.defense else { continue };
        let Some(run) = runs.iter().find(|r| r.arm == arm.name && r.detection.is_some()) else {
            continue;
        };
        let csv = run_dir(out, &arm.name, run.sweep.as_ref(), run.seed)
            .join(DETECTION)
            .join("scores.csv");
        let Some((scores, poison)) = read_scores(&csv) else { continue };
        let title = format!("{} scores, arm {} seed {}", defense.name(), arm.name, run.seed);
        let file = format!("figures/detection-{}.svg", arm.name);
        write_atomic(
            &out.join(&file),
            detection_histogram_svg(&title, &scores, &poison)?.as_bytes(),
        )?;
        let caption = format!(
            "Detector scores of every pre-training image of arm {} (seed {}) under the \
             poisoned encoder, as the share of poisons (red) and of clean images (blue) per bin.",
            arm.name, run.seed
        );
        figures.push(Figure { file, caption });
    }
    Ok(figures)
}

/// The scores and poison marks of a `scores.csv` the detection stage wrote (`index,image,
/// poison,score,flagged`, read from the right since an image path may hold commas).
fn read_scores(csv: &Path) -> Option<(Vec<f64>, Vec<bool>)> {
    let text = fs_err::read_to_string(csv).ok()?;
    let mut scores = Vec::new();
    let mut poison = Vec::new();
    for line in text.lines().skip(1) {
        let mut fields = line.rsplitn(4, ',');
        let (_flagged, score, is_poison) = (fields.next()?, fields.next()?, fields.next()?);
        scores.push(score.parse().ok()?);
        poison.push(is_poison == "1");
    }
    Some((scores, poison))
}
