//! The inspection stage of DECREE arms: the arm's encoder, its trigger inverted over the
//! downstream training images (`corruptencoder_defense::decree`, which `defend decree`
//! calls too), and the verdict, the mask and the trigger under the run's `decree/`.
use std::path::Path;

use corruptencoder_defense::{DecreeConfig, DecreeSummary, decree};
use corruptencoder_report::{DecreeScores, Figure, RunResult};

use crate::config::ExperimentConfig;
use crate::context::{Context, stage};
use crate::error::Result;
use crate::plan::Plan;

/// The folder of a run's DECREE files.
const DECREE: &str = "decree";

/// DECREE on the encoder in `pre_dir`, at the run's seed and the test transform's crop;
/// skipped when its summary is there.
pub(crate) fn decree_stage(
    cx: &Context<'_>,
    p: &Plan,
    pre_dir: &Path,
    config: &DecreeConfig,
) -> Result<DecreeScores> {
    let dir = p.dir.join(DECREE);
    let encoder = pre_dir.join("encoder.safetensors");
    let shown = cx.shown(&encoder);
    let scores = |s: DecreeSummary| DecreeScores {
        encoder: shown.clone(),
        backdoored: s.backdoored,
        pl1: s.pl1,
        pl1_threshold: s.pl1_threshold,
        steps: s.steps,
        last_similarity: s.last_similarity,
    };
    let summary_path = dir.join("summary.json");
    if let Some(done) = fs_err::read_to_string(&summary_path)
        .ok()
        .and_then(|t| serde_json::from_str::<DecreeSummary>(&t).ok())
    {
        return Ok(scores(done));
    }
    cx.observer.stage(&p.label(), "decree");
    let config =
        DecreeConfig { seed: p.seed, size: cx.config.eval.transform.crop, ..config.clone() };
    let arch = Some(&cx.config.pretrain.encoder);
    let shadow = cx.inputs.train.as_ref();
    let report = decree(&encoder, arch, shadow, &config, &cx.opts.device, &cx.opts.limits);
    let report = stage(p, "decree", report)?;
    fs_err::create_dir_all(&dir).map_err(crate::error::io("create", &dir))?;
    let summary = stage(p, "decree", report.write(&config, &dir))?;
    Ok(scores(summary))
}

/// The inverted trigger of each DECREE arm's first run, as it is stamped, enlarged under
/// `figures/`.
pub(crate) fn trigger_figures(
    config: &ExperimentConfig,
    out: &Path,
    runs: &[RunResult],
) -> Result<Vec<Figure>> {
    let mut figures = Vec::new();
    for (arm, run, dir) in crate::report::first_runs(config, out, runs, |r| r.decree.is_some()) {
        let png = dir.join(DECREE).join("trigger.png");
        let Ok(image) = image::open(&png) else { continue };
        let (w, h) = (image.width() * 8, image.height() * 8);
        let big = image.resize(w, h, image::imageops::FilterType::Nearest).to_rgb8();
        let file = format!("figures/decree-{}.png", arm.name);
        corruptencoder_core::write_atomic(&out.join(&file), &corruptencoder_data::png_bytes(&big))?;
        let d = run.decree.as_ref().expect("found by it");
        let verdict = if d.backdoored { "flagged as backdoored" } else { "not flagged" };
        let pl1 = d.pl1.map_or("no collapsing mask".into(), |p| format!("PL1 {p:.3}"));
        let caption = format!(
            "DECREE's inverted trigger (mask times pattern) for arm {} seed {}: {pl1}, {verdict}.",
            arm.name, run.seed
        );
        figures.push(Figure { file, caption });
    }
    Ok(figures)
}
