//! Detectors in the report: a table of each poison-detector run's AUROC, precision and
//! recall, a histogram of one run's scores, poisons against clean images, and a table of
//! DECREE's verdicts on encoders.
use std::fmt::Write as _;

use plotters::prelude::*;

use crate::charts::{run_label, svg};
use crate::error::Result;
use crate::results::RunResult;

/// The detection table's header cells.
pub(crate) const DETECTION_HEADER: [&str; 6] =
    ["run", "AUROC", "precision %", "recall %", "poisons flagged / flagged", "scored with"];

/// One row of cells per run whose defense filtered by a detector, in run order.
pub(crate) fn detection_rows(runs: &[RunResult]) -> Vec<[String; 6]> {
    let pct = |v: Option<f64>| v.map_or("-".into(), |v| format!("{:.1}", 100.0 * v));
    runs.iter()
        .filter_map(|r| {
            let d = r.detection.as_ref()?;
            Some([
                run_label(r),
                d.auroc.map_or("-".into(), |a| format!("{a:.3}")),
                pct(d.precision),
                pct(d.recall),
                format!("{} / {}", d.flagged_poisons, d.flagged),
                d.encoder.clone(),
            ])
        })
        .collect()
}

/// The DECREE table's header cells.
pub(crate) const DECREE_HEADER: [&str; 6] =
    ["run", "verdict", "PL1", "threshold", "steps", "encoder"];

/// One row of cells per run DECREE inspected, in run order.
pub(crate) fn decree_rows(runs: &[RunResult]) -> Vec<[String; 6]> {
    runs.iter()
        .filter_map(|r| {
            let d = r.decree.as_ref()?;
            Some([
                run_label(r),
                if d.backdoored { "backdoored" } else { "clean" }.into(),
                d.pl1.map_or("-".into(), |p| format!("{p:.3}")),
                format!("{}", d.pl1_threshold),
                d.steps.to_string(),
                d.encoder.clone(),
            ])
        })
        .collect()
}

/// A Markdown table of `rows` under `header`, or `None` without rows.
pub(crate) fn markdown_table(header: &[&str], rows: Vec<[String; 6]>) -> Option<String> {
    if rows.is_empty() {
        return None;
    }
    let mut s = format!("| {} |\n|{}\n", header.join(" | "), "---|".repeat(header.len()));
    for row in rows {
        let _ = writeln!(s, "| {} |", row.join(" | ").replace('\n', " "));
    }
    Some(s)
}

/// The Markdown detection table, or `None` when no run filtered by a detector.
pub(crate) fn detection_table(runs: &[RunResult]) -> Option<String> {
    markdown_table(&DETECTION_HEADER, detection_rows(runs))
}

/// Bins of the histogram.
const BINS: usize = 30;

/// Histogram of detector `scores`, poisons (red) and clean images (blue) as the share of
/// their own group per bin, so a few poisons show beside thousands of clean images.
pub fn detection_histogram_svg(title: &str, scores: &[f64], poison: &[bool]) -> Result<String> {
    let finite = scores.iter().copied().filter(|s| s.is_finite());
    let (lo, hi) = finite.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    let (lo, hi) = if lo < hi { (lo, hi) } else { (lo.min(0.0), lo.max(0.0) + 1.0) };
    let width = (hi - lo) / BINS as f64;
    let shares = |want: bool| {
        let mut counts = [0usize; BINS];
        let mut total = 0;
        for (s, &p) in scores.iter().zip(poison) {
            if p == want && s.is_finite() {
                counts[(((s - lo) / width) as usize).min(BINS - 1)] += 1;
                total += 1;
            }
        }
        counts.map(|c| if total == 0 { 0.0 } else { c as f64 / total as f64 })
    };
    let (clean, poisons) = (shares(false), shares(true));
    let top = clean.iter().chain(&poisons).fold(0.0f64, |a, &b| a.max(b)).max(0.01) * 1.1;
    let title = title.to_owned();
    svg("detector scores", (720, 360), move |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(52)
            .build_cartesian_2d(lo..hi, 0.0..top)?;
        chart.configure_mesh().x_desc("score").y_desc("share of the group").draw()?;
        let series = [
            ("clean images", clean, RGBColor(66, 114, 196)),
            ("poisons", poisons, RGBColor(214, 69, 65)),
        ];
        for (name, shares, color) in series {
            let bars = shares.iter().enumerate().map(move |(b, &h)| {
                let x0 = lo + b as f64 * width;
                Rectangle::new([(x0, 0.0), (x0 + width, h)], color.mix(0.5).filled())
            });
            chart.draw_series(bars)?.label(name).legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
            });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::DetectionScores;

    #[test]
    fn the_table_lists_only_detector_runs() {
        let mut runs = vec![RunResult { arm: "ce".into(), ..Default::default() }];
        assert!(detection_table(&runs).is_none());
        runs.push(RunResult {
            arm: "ce-dao".into(),
            seed: 3,
            detection: Some(DetectionScores {
                encoder: "runs/ce/seed-3/pretrain/encoder.safetensors".into(),
                images: 105,
                poisons: 5,
                flagged: 5,
                flagged_poisons: 4,
                precision: Some(0.8),
                recall: Some(0.8),
                auroc: Some(0.9731),
            }),
            ..Default::default()
        });
        let table = detection_table(&runs).unwrap();
        assert_eq!(table.lines().count(), 3);
        assert!(table.contains("| ce-dao seed 3 | 0.973 | 80.0 | 80.0 | 4 / 5 |"), "{table}");
    }

    #[test]
    fn the_histogram_draws_both_groups() {
        let scores: Vec<f64> = (0..50).map(f64::from).collect();
        let poison: Vec<bool> = (0..50).map(|i| i > 45).collect();
        let svg = detection_histogram_svg("dao, seed 0", &scores, &poison).unwrap();
        assert!(
            svg.contains("poisons") && svg.contains("clean images") && svg.contains("dao, seed 0")
        );
        // A constant score still draws.
        assert!(detection_histogram_svg("flat", &[1.0; 4], &[true, false, false, false]).is_ok());
    }
}
