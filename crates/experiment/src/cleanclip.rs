//! The fine-tuning stage of CleanCLIP arms: the arm's image-text model (the same attack's
//! undefended arm's when it has finished) scored zero-shot, then fine-tuned on the clean
//! pairs into the run's `cleanclip/` (`corruptencoder_train::finetune_cleanclip`, which
//! `defend cleanclip` calls too); the stages after it score the fine-tuned model.
use std::path::{Path, PathBuf};

use corruptencoder_core::SettingError;
use corruptencoder_data::{CaptionedImages, Dataset as _};
use corruptencoder_report::CleanClipScores;
use corruptencoder_train::{CleanClipConfig, PAIRS_FILE, finetune_cleanclip};

use crate::context::{Context, stage};
use crate::error::Result;
use crate::plan::Plan;
use crate::stages::{StepHook, training_run};

/// The folder of a run's fine-tuned model.
const CLEANCLIP: &str = "cleanclip";

/// A fine-tuned model and what is known of it before the stages after it score it.
pub(crate) struct Finetuned {
    /// Its run folder.
    pub(crate) dir: PathBuf,
    /// The scores before fine-tuning; `after` is filled by the caller.
    pub(crate) scores: CleanClipScores,
}

/// Scores the CLIP model in `source` zero-shot (cached in `<run>/zero-shot-before.json`)
/// and fine-tunes it with `settings` at the run's seed on the clean pairs into
/// `<run>/cleanclip/`, resuming a staged one; skipped when its encoder is there.
pub(crate) fn cleanclip_stage(
    cx: &Context<'_>,
    p: &Plan,
    source: &Path,
    settings: &CleanClipConfig,
) -> Result<Finetuned> {
    let before_cache = p.dir.join("zero-shot-before.json");
    let before = crate::clip::zero_shot_cached(cx, p, source, &before_cache)?;
    let dir = p.dir.join(CLEANCLIP);
    let settings = CleanClipConfig { seed: p.seed, ..*settings };
    if !dir.join("encoder.safetensors").exists() {
        cx.observer.stage(&p.label(), "cleanclip");
        let data = crate::clip::clean_captions(cx)?;
        let mut reporter = StepHook(cx.observer);
        let run = training_run(cx, p, (&data, &dir), &mut reporter);
        stage(p, "cleanclip", finetune_cleanclip(&settings, source, run))?;
    }
    let pairs = stage(p, "cleanclip", CaptionedImages::open_csv(&dir.join(PAIRS_FILE)))?.len();
    let steps = (pairs / settings.batch_size * settings.epochs) as u64;
    let scores = CleanClipScores {
        source: cx.shown(source),
        pairs,
        steps,
        before,
        after: Default::default(),
    };
    Ok(Finetuned { dir, scores })
}

/// A CleanCLIP arm's batch against the clean pairs it will fine-tune on.
pub(crate) fn check_pairs(
    inputs: &crate::inputs::Inputs,
    defense: &dyn corruptencoder_defense::Defense,
) -> std::result::Result<(), SettingError> {
    let Some(settings) = defense.finetunes_clip() else { return Ok(()) };
    let pairs = match settings.clean_pairs {
        0 => inputs.clean_images,
        n => n.min(inputs.clean_images),
    };
    if settings.batch_size > pairs {
        let problem = format!("is more than the {pairs} clean pairs it fine-tunes on");
        return Err(SettingError::new("batch_size", settings.batch_size, problem));
    }
    Ok(())
}
