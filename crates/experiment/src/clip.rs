//! The image-text (CLIP) side of a run: the captions it pre-trains on (clean, or clean
//! with the poisons' pairs appended) and its zero-shot scores.
use std::path::{Path, PathBuf};

use corruptencoder_core::write_atomic;
use corruptencoder_data::{CaptionedImages, Dataset, write_caption_csv};
use corruptencoder_eval::{Features, class_labels, zero_shot_predict, zero_shot_scores};
use corruptencoder_report::ZeroShotScores;
use corruptencoder_train::{ClipEncoders, EvalTransform};

use crate::context::{Context, stage};
use crate::error::{Error, Result};
use crate::plan::Plan;

/// The clean image-caption pairs.
pub(crate) fn clean_captions(cx: &Context<'_>) -> Result<PathBuf> {
    let path = || cx.inputs.clean_list.clone();
    cx.inputs.clean_captions.clone().ok_or_else(|| Error::NoCaptions { path: path() })
}

/// `<run>/captions.csv`: the clean pairs, then the poisons' `captions.csv` pairs (as the
/// image-only runs append poisons to `filelist.txt`). Paths are written resolved and
/// absolute: the file lives in another folder than the CSVs it gathers, whose relative
/// paths (and a relative output folder) would point elsewhere from there.
pub(crate) fn pretraining_captions(
    cx: &Context<'_>,
    p: &Plan,
    poison_list: &Path,
) -> Result<PathBuf> {
    let out = p.dir.join("captions.csv");
    if out.exists() {
        return Ok(out);
    }
    let poisons = poison_list.with_file_name("captions.csv");
    if !poisons.exists() {
        return Err(Error::NoPoisonCaptions { arm: p.arm.name.clone(), path: poisons });
    }
    let mut pairs = Vec::new();
    for csv in [clean_captions(cx)?, poisons] {
        let ds = CaptionedImages::open_csv(&csv)?;
        pairs.extend((0..ds.len()).map(|i| {
            // Absolute: the CSV's folder may be given relative to the working directory,
            // and this file is read relative to the run's folder.
            let image = ds.image_path(i);
            let image = std::path::absolute(image).unwrap_or_else(|_| image.to_path_buf());
            (image, ds.caption(i).unwrap_or_default().to_owned())
        }));
    }
    let tmp = p.dir.join(".captions.csv.tmp");
    write_caption_csv(&tmp, &pairs)?;
    fs_err::rename(&tmp, &out).map_err(crate::error::io("rename", &tmp))?;
    Ok(out)
}

/// Zero-shot CA/BA and both ASRs of the run's image-text encoder, cached in
/// `<run>/zero-shot.json`.
pub(crate) fn zero_shot_stage(
    cx: &Context<'_>,
    p: &Plan,
    pre_dir: &Path,
) -> Result<ZeroShotScores> {
    zero_shot_cached(cx, p, pre_dir, &p.dir.join("zero-shot.json"))
}

/// Zero-shot CA/BA and both ASRs of the image-text model in `pre_dir`, cached in `cache`.
pub(crate) fn zero_shot_cached(
    cx: &Context<'_>,
    p: &Plan,
    pre_dir: &Path,
    cache: &Path,
) -> Result<ZeroShotScores> {
    if let Some(scores) = fs_err::read_to_string(cache)
        .ok()
        .and_then(|t| serde_json::from_str::<ZeroShotScores>(&t).ok())
    {
        return Ok(scores);
    }
    cx.observer.stage(&p.label(), "zero-shot");
    let names = &cx.inputs.class_names;
    if names.len() != cx.inputs.classes {
        return Err(Error::ClassNames {
            path: cx.inputs.test.path().to_path_buf(),
            names: names.len(),
            classes: cx.inputs.classes,
        });
    }
    let clip = stage(p, "zero-shot", ClipEncoders::load(pre_dir, &cx.opts.device))?;
    let templates: Vec<&str> =
        cx.config.eval.zero_shot_templates.iter().map(String::as_str).collect();
    let flat = stage(p, "zero-shot", clip.class_embeddings(names, &templates))?;
    let classes = Features::new(flat.clone(), flat.len() / names.len().max(1))?;
    let t = cx.config.eval.transform;
    let embed = |ds: &dyn Dataset, transform: EvalTransform| {
        let (b, limits, progress) =
            (cx.config.eval.batch_size, &cx.opts.limits, cx.observer.progress());
        stage(p, "zero-shot", clip.embed_images(ds, &transform, b, limits, progress))
    };
    let test = embed(cx.inputs.test.as_ref(), t)?;
    // The triggered images are stored already cropped.
    let triggered = embed(cx.inputs.triggered.as_ref(), EvalTransform::crop_only(t.crop))?;
    let predict = |f: &corruptencoder_train::ExtractedFeatures| -> Result<Vec<usize>> {
        Ok(zero_shot_predict(&Features::new(f.values.clone(), f.dim)?, &classes)?)
    };
    let r = zero_shot_scores(
        (&predict(&test)?, &class_labels("test", &test.labels)?),
        (&predict(&triggered)?, &class_labels("triggered", &triggered.labels)?),
        cx.inputs.classes,
        p.shared.target,
    )?;
    let scores = ZeroShotScores {
        accuracy: r.clean.accuracy.percent(),
        asr_all: r.asr_all.percent(),
        asr_all_hits: r.asr_all.correct,
        asr_all_total: r.asr_all.total,
        asr_non_target: r.asr_non_target.percent(),
        asr_non_target_hits: r.asr_non_target.hits,
        asr_non_target_eligible: r.asr_non_target.eligible,
    };
    let json = serde_json::to_string_pretty(&scores).expect("scores serialise");
    write_atomic(cache, json.as_bytes())?;
    Ok(scores)
}
