//! Charts as SVG text (plotters' SVG backend), inlined into report.html.
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{DrawError, Error, Result};
use crate::results::{ArmSummary, RunResult};

const ACCURACY: RGBColor = RGBColor(66, 114, 196);
const ASR: RGBColor = RGBColor(214, 69, 65);
/// The per-seed dots over the bars.
const SEED_DOT: RGBColor = RGBColor(30, 30, 30);
const PALETTE: [RGBColor; 8] = [
    RGBColor(66, 114, 196),
    RGBColor(214, 69, 65),
    RGBColor(87, 160, 84),
    RGBColor(232, 152, 47),
    RGBColor(140, 86, 176),
    RGBColor(70, 170, 190),
    RGBColor(150, 110, 80),
    RGBColor(120, 120, 120),
];

/// Draws with `f` on a `w x h` SVG canvas and returns the SVG text.
pub(crate) fn svg(
    chart: &'static str,
    (w, h): (u32, u32),
    f: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> std::result::Result<(), DrawError>,
) -> Result<String> {
    let mut out = String::new();
    let drawn = {
        let root = SVGBackend::with_string(&mut out, (w, h)).into_drawing_area();
        root.fill(&WHITE).and_then(|()| f(&root)).and_then(|()| root.present())
    };
    drawn.map_err(|source| Error::Chart { chart, source })?;
    Ok(out)
}

/// Grouped bars of CA/BA (blue) and ASR (red) per arm at the mean over seeds, 0..100 %, a
/// dot per seed (the values of `runs` at that arm and sweep value) and, where there are
/// several seeds, a whisker over the 95 % interval of the mean.
pub fn bar_chart_svg(summary: &[ArmSummary], runs: &[RunResult]) -> Result<String> {
    let n = summary.len().max(1);
    let width = (160 + 110 * n as u32).max(420);
    svg("accuracy and ASR per arm", (width, 380), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("CA/BA and ASR per arm (%)", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(70)
            .y_label_area_size(44)
            .build_cartesian_2d(0f64..n as f64, 0f64..100f64)?;
        chart.configure_mesh().disable_x_mesh().x_labels(0).y_desc("%").draw()?;
        for (i, s) in summary.iter().enumerate() {
            let x = i as f64;
            let members: Vec<&RunResult> =
                runs.iter().filter(|r| r.arm == s.arm && r.sweep == s.sweep).collect();
            let accuracy: Vec<f64> = members.iter().map(|r| r.accuracy).collect();
            let asr: Vec<f64> = members.iter().map(|r| r.asr).collect();
            for (lo, hi, stat, seeds, color) in
                [(0.12, 0.48, s.accuracy, &accuracy, ACCURACY), (0.52, 0.88, s.asr, &asr, ASR)]
            {
                let (x0, x1) = (x + lo, x + hi);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x0, 0.0), (x1, stat.mean.clamp(0.0, 100.0))],
                    color.filled(),
                )))?;
                let mid = (x0 + x1) / 2.0;
                let text = format!("{:.1}", stat.mean);
                chart.draw_series(std::iter::once(Text::new(
                    text,
                    (x0, (stat.mean + 2.0).min(97.0)),
                    ("sans-serif", 12),
                )))?;
                if let Some(interval) = stat.interval {
                    let (a, b) = (interval.low.max(0.0), interval.high.min(100.0));
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(mid, a), (mid, b)],
                        BLACK.stroke_width(1),
                    )))?;
                }
                // Seeds spread across the bar, so equal values stay apart.
                let step = (x1 - x0) / (seeds.len() + 1) as f64;
                let dots = seeds.iter().enumerate().map(|(k, &v)| {
                    let at = (x0 + step * (k + 1) as f64, v.clamp(0.0, 100.0));
                    Circle::new(at, 3, SEED_DOT.filled())
                });
                chart.draw_series(dots)?;
            }
            let (px, py) = chart.backend_coord(&(x + 0.5, 0.0));
            let label = s.label();
            let style =
                TextStyle::from(("sans-serif", 13)).pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Top,
                ));
            for (k, part) in wrap(&label, 16).iter().enumerate() {
                root.draw(&Text::new(part.clone(), (px, py + 8 + 15 * k as i32), style.clone()))?;
            }
        }
        let legend = [(ACCURACY, "CA / BA"), (ASR, "ASR")];
        for (k, (color, name)) in legend.iter().enumerate() {
            let (x, y) = (70 + 110 * k as i32, 30);
            root.draw(&Rectangle::new([(x, y), (x + 14, y + 14)], color.filled()))?;
            root.draw(&Text::new(*name, (x + 20, y), ("sans-serif", 13)))?;
        }
        Ok(())
    })
}

/// Mean pre-training loss per epoch, one line per run.
pub fn loss_chart_svg(runs: &[RunResult]) -> Result<String> {
    let epochs = runs.iter().map(|r| r.epoch_loss.len()).max().unwrap_or(0).max(2);
    let finite = runs.iter().flat_map(|r| r.epoch_loss.iter().copied()).filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (0.0, 1.0) };
    let pad = ((hi - lo) * 0.05).max(1e-3);
    svg("pre-training loss", (720, 380), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Pre-training loss per epoch", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(52)
            .build_cartesian_2d(1f64..epochs as f64, (lo - pad)..(hi + pad))?;
        chart.configure_mesh().x_desc("epoch").y_desc("loss").draw()?;
        for (k, run) in runs.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let points = run.epoch_loss.iter().enumerate().map(|(i, &l)| ((i + 1) as f64, l));
            let name = run_label(run);
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    })
}

/// The training monitor: ASR (thick) and kNN CA/BA (thin) against optimizer steps (bottom
/// axis) and epochs (top axis), one colour per run.
pub fn monitor_chart_svg(runs: &[RunResult]) -> Result<String> {
    let runs: Vec<&RunResult> = runs.iter().filter(|r| !r.monitor.is_empty()).collect();
    let last = |f: fn(&crate::results::MonitorPoint) -> f64| {
        runs.iter().flat_map(|r| r.monitor.iter().map(f)).fold(1.0f64, f64::max)
    };
    let (steps, epochs) = (last(|m| m.step as f64), last(|m| m.epoch as f64));
    svg("training monitor", (720, 400), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Training monitor: kNN CA/BA (thin) and ASR (thick), %", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .top_x_label_area_size(30)
            .y_label_area_size(44)
            .build_cartesian_2d(0f64..steps, 0f64..100f64)?
            .set_secondary_coord(0f64..epochs, 0f64..100f64);
        chart.configure_mesh().x_desc("step").y_desc("%").draw()?;
        chart.configure_secondary_axes().x_desc("epoch").draw()?;
        for (k, run) in runs.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let at = |f: fn(&crate::results::MonitorPoint) -> Option<f64>| {
                run.monitor
                    .iter()
                    .filter_map(|m| f(m).map(|v| (m.step as f64, v)))
                    .collect::<Vec<_>>()
            };
            chart
                .draw_series(LineSeries::new(at(|m| m.asr), color.stroke_width(3)))?
                .label(run_label(run))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
            chart.draw_series(LineSeries::new(
                at(|m| Some(m.knn_accuracy)),
                color.stroke_width(1),
            ))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::MiddleRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    })
}

/// ASR (solid) and CA/BA (dashed as thin lines) against the swept value, one colour per
/// arm.
pub fn sweep_chart_svg(summary: &[ArmSummary]) -> Result<String> {
    let points: Vec<f64> =
        summary.iter().filter_map(|s| s.sweep.as_ref().map(|p| p.value)).collect();
    let parameter = summary.iter().find_map(|s| s.sweep.as_ref().map(|p| p.parameter.clone()));
    let Some(parameter) = parameter else { return Ok(String::new()) };
    let (lo, hi) = points.iter().fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let pad = ((hi - lo) * 0.05).max(hi.abs() * 0.05).max(1e-6);
    let mut arms: Vec<&str> = Vec::new();
    // Unswept rows (the random-encoder baseline) have no line to draw.
    for s in summary.iter().filter(|s| s.sweep.is_some()) {
        if !arms.contains(&s.arm.as_str()) {
            arms.push(&s.arm);
        }
    }
    svg("sweep", (720, 380), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(format!("ASR and CA/BA against {parameter}"), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(44)
            .build_cartesian_2d((lo - pad)..(hi + pad), 0f64..100f64)?;
        chart.configure_mesh().x_desc(parameter.as_str()).y_desc("%").draw()?;
        for (k, arm) in arms.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let rows: Vec<&ArmSummary> = summary.iter().filter(|s| s.arm == *arm).collect();
            let at = |f: fn(&ArmSummary) -> f64| {
                rows.iter()
                    .filter_map(|s| s.sweep.as_ref().map(|p| (p.value, f(s))))
                    .collect::<Vec<_>>()
            };
            chart
                .draw_series(LineSeries::new(at(|s| s.asr.mean), color.stroke_width(3)))?
                .label(format!("{arm} ASR"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
            chart.draw_series(LineSeries::new(at(|s| s.accuracy.mean), color.stroke_width(1)))?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    })
}

/// `arm`, `arm seed 1`, `arm (p=v) seed 1`.
pub(crate) fn run_label(run: &RunResult) -> String {
    let mut s = run.arm.clone();
    if let Some(p) = &run.sweep {
        s.push_str(&format!(" ({p})"));
    }
    s.push_str(&format!(" seed {}", run.seed));
    s
}

/// Splits a label into lines of at most `width` characters at spaces or dashes.
fn wrap(label: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in label.split_inclusive([' ', '-']) {
        let last = lines.last_mut().expect("never empty");
        if !last.is_empty() && last.len() + word.len() > width {
            lines.push(word.to_owned());
        } else {
            last.push_str(word);
        }
    }
    lines.into_iter().map(|l| l.trim().to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_chart_is_svg_with_one_bar_per_metric_and_arm_and_a_dot_per_seed() {
        let run = |arm: &str, seed, accuracy, asr| RunResult {
            arm: arm.into(),
            seed,
            accuracy,
            asr,
            ..Default::default()
        };
        let runs = [
            run("clean", 0, 80.0, 1.0),
            run("clean", 1, 80.0, 1.0),
            run("corruptencoder", 0, 79.0, 58.0),
            run("corruptencoder", 1, 79.0, 62.0),
            run("corruptencoder", 2, 79.0, 60.0),
        ];
        let svg = bar_chart_svg(&crate::summary::summarize(&runs), &runs).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(svg.contains("corruptencoder") && svg.contains("60.0"));
        // Two bars per arm in the two metric colours (plus the legend swatches).
        let fill = |c: RGBColor| format!("fill=\"#{:02X}{:02X}{:02X}\"", c.0, c.1, c.2);
        assert_eq!(svg.matches(&fill(ASR)).count(), 3, "{svg}");
        assert_eq!(svg.matches(&fill(ACCURACY)).count(), 3);
        // Two metrics per run: ten dots.
        assert_eq!(svg.matches("<circle").count(), 10, "{svg}");
        assert_eq!(svg.matches(&fill(SEED_DOT)).count(), 10);
    }

    #[test]
    fn monitor_chart_draws_one_pair_of_lines_per_monitored_run() {
        use crate::results::MonitorPoint;
        let point = |epoch, asr| MonitorPoint {
            epoch,
            step: 20 * epoch as u64,
            knn_accuracy: 50.0 + epoch as f64,
            asr: Some(asr),
            target_patch_asr: None,
        };
        let run = |arm: &str, monitor| RunResult { arm: arm.into(), monitor, ..Default::default() };
        let runs = [
            run("clean", vec![point(0, 2.0), point(5, 3.0), point(10, 2.5)]),
            run("random-encoder", Vec::new()),
            run("corruptencoder", vec![point(0, 2.0), point(5, 30.0), point(10, 71.0)]),
        ];
        let svg = monitor_chart_svg(&runs).unwrap();
        assert!(svg.contains("corruptencoder seed 0") && !svg.contains("random-encoder"));
        assert!(svg.contains("step") && svg.contains("epoch"), "both axes are named");
        // Per monitored run (one colour each): its ASR and CA lines and a legend swatch.
        for color in [PALETTE[0], PALETTE[1]] {
            let stroke = format!("stroke=\"#{:02X}{:02X}{:02X}\"", color.0, color.1, color.2);
            assert_eq!(
                svg.matches(&format!("<polyline fill=\"none\" opacity=\"1\" {stroke}")).count(),
                3,
                "{svg}"
            );
        }
        assert!(
            !svg.contains(&format!(
                "#{:02X}{:02X}{:02X}",
                PALETTE[2].0, PALETTE[2].1, PALETTE[2].2
            ))
        );
    }

    #[test]
    fn wrap_breaks_long_labels() {
        assert_eq!(
            wrap("corruptencoder-localized (x=1)", 16),
            ["corruptencoder-", "localized (x=1)"]
        );
    }
}
