//! Experiment results and their reports: the `results.json` schema, `report.md`, and a
//! self-contained `report.html` (tables, SVG charts, embedded images).
//!
//! No deep-learning backend here: the experiment runner fills a [`Results`], this crate
//! turns it into files.
//!
//! ```
//! use corruptencoder_report::{Results, RunResult, summarize};
//! let run = RunResult { arm: "clean".into(), accuracy: 80.0, asr: 1.0, ..Default::default() };
//! let results = Results { name: "demo".into(), runs: vec![run.clone(), run], ..Default::default() };
//! let summary = summarize(&results.runs);
//! assert_eq!((summary.len(), summary[0].seeds, summary[0].accuracy.mean), (1, 2, 80.0));
//! ```
#![deny(missing_docs)]

mod charts;
mod cleanclip;
mod comparison;
mod detection;
mod doc_tables;
mod error;
mod html;
mod markdown;
mod report_settings;
mod rescore;
mod results;
mod stats;
mod summary;
mod table;

pub use charts::{bar_chart_svg, loss_chart_svg, monitor_chart_svg, sweep_chart_svg};
pub use cleanclip::CleanClipScores;
pub use comparison::attach_statistics;
pub use detection::detection_histogram_svg;
pub use doc_tables::{
    DocTableError, MarkedTable, Stale, markdown_documents, marked_tables, refresh_tables,
    render_marked, stale_tables,
};
pub use error::{DrawError, Error, Result};
pub use html::render_html;
pub use markdown::render_markdown;
pub use report_settings::ReportSettings;
pub use rescore::{
    ProbeScores, Rescore, RescoreSummary, RescoredRun, TriggerScores, TriggerSummary,
    render_rescore, summarize_rescore,
};
pub use results::{
    ArmSummary, Comparison, DecreeScores, DetectionScores, Figure, MonitorPoint, Paired,
    Provenance, RANDOM_ENCODER, Results, RunResult, SeedCount, Setting, Statistics, SweepPoint,
    ZeroShotScores,
};
pub use stats::{INTERVAL_METHOD, Interval, Stat, t_975};
pub use summary::{attach_gains, distinct_provenances, summarize};
pub use table::render_table;

use std::path::Path;

/// Writes `results.json`, `report.md` and `report.html` into `dir` (each through a
/// temporary name). Figures are read from `dir` to be embedded in the HTML.
pub fn write_report(results: &Results, dir: &Path) -> Result<()> {
    let json = serde_json::to_string_pretty(results).expect("results serialise");
    corruptencoder_core::write_atomic(&dir.join("results.json"), json.as_bytes())?;
    corruptencoder_core::write_atomic(&dir.join("report.md"), render_markdown(results).as_bytes())?;
    corruptencoder_core::write_atomic(
        &dir.join("report.html"),
        render_html(results, dir)?.as_bytes(),
    )?;
    Ok(())
}
