//! `report.html`: one self-contained file (inline CSS and SVG, images as data URIs), so it
//! can be mailed or attached to a paper's supplement as it is.
use std::fmt::Write as _;
use std::path::Path;

use base64::Engine as _;
use corruptencoder_core::IoError;

use crate::charts::{bar_chart_svg, loss_chart_svg, monitor_chart_svg, run_label, sweep_chart_svg};
use crate::error::Result;
use crate::markdown::{DEFINITIONS, PAIRED};
use crate::results::Results;
use crate::table::{STAT_LEGEND, score_cells, threshold_header};

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;\
padding:0 1em;color:#222}table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid \
#ccc;padding:4px 10px;text-align:left}th{background:#f3f3f3}td.n{text-align:right}\
figure{margin:1.5em 0}figcaption{color:#555;font-size:90%}img{max-width:100%;\
image-rendering:pixelated}.note{color:#555}";

/// The HTML report of `results`; figure files are read from `dir` and embedded.
pub fn render_html(results: &Results, dir: &Path) -> Result<String> {
    let mut s = String::new();
    settings(&mut s, results);
    summary(&mut s, results);
    charts(&mut s, results)?;
    detection(&mut s, results);
    runs(&mut s, results);
    figures(&mut s, results, dir)?;
    notes(&mut s, results);
    s.push_str("</body></html>\n");
    Ok(s)
}

/// The page head, title and settings table.
fn settings(s: &mut String, results: &Results) {
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>{STYLE}</style></head><body>\n<h1>{}</h1>\n<p class=\"note\">Written by \
         corruptencoder {}.</p>\n",
        esc(&results.name),
        esc(&results.name),
        esc(&results.tool_version)
    );
    s.push_str("<h2>Settings</h2>\n<table><tr><th>setting</th><th>value</th></tr>\n");
    for st in &results.settings {
        let _ = writeln!(s, "<tr><td>{}</td><td>{}</td></tr>", esc(&st.key), esc(&st.value));
    }
    s.push_str("</table>\n");
}

/// The table of arms, mean and spread over seeds, and the paired comparisons.
fn summary(s: &mut String, results: &Results) {
    let _ = write!(
        s,
        "<h2>Results</h2>\n<table><tr><th>arm</th><th>attack</th><th>defense</th>\
         <th>poisons (ratio)</th><th>seeds</th><th>CA/BA %</th><th>ASR %</th><th>{}</th>\
         <th>kNN ASR %</th><th>target-patch ASR %</th><th>gain over random (CA points)</th>\
         </tr>\n",
        esc(&threshold_header(results))
    );
    for a in &results.summary {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{} ({:.2}%)</td>\
             <td class=\"n\">{}</td>{}</tr>",
            esc(&a.label()),
            esc(&a.attack),
            esc(a.defense.as_deref().unwrap_or("none")),
            a.poisons,
            100.0 * a.poison_ratio,
            a.seeds,
            score_cells(a).map(|c| format!("<td class=\"n\">{}</td>", esc(&c))).concat()
        );
    }
    let _ = writeln!(
        s,
        "</table>\n<p class=\"note\">{} {}</p>",
        esc(&DEFINITIONS.replace('`', "")),
        esc(STAT_LEGEND)
    );
    comparisons(s, results);
    if results.summary.iter().any(|a| a.zero_shot.is_some()) {
        s.push_str(
            "<h3>Zero-shot (image-text encoders)</h3>\n<table><tr><th>arm</th><th>attack</th>\
             <th>zero-shot CA/BA %</th><th>ASR % (all, CLIP script)</th>\
             <th>ASR % (non-target, image-only script)</th></tr>\n",
        );
        for a in &results.summary {
            if let Some([acc, all, non_target]) = &a.zero_shot {
                let _ = writeln!(
                    s,
                    "<tr><td>{}</td><td>{}</td><td class=\"n\">{acc}</td>\
                     <td class=\"n\">{all}</td><td class=\"n\">{non_target}</td></tr>",
                    esc(&a.label()),
                    esc(&a.attack)
                );
            }
        }
        s.push_str(
            "</table>\n<p class=\"note\">For image-text arms the table above scores the \
             linear probe on the image tower. ASR (all): over every triggered image, target \
             class included (the authors' CLIP script); ASR (non-target): target class left \
             out (the image-only script, docs/method.md section 2).</p>\n",
        );
    }
}

/// Per-seed paired differences against the clean and the named arm.
fn comparisons(s: &mut String, results: &Results) {
    if results.comparisons.is_empty() {
        return;
    }
    s.push_str(
        "<h3>Paired differences</h3>\n<table><tr><th>arm</th><th>against</th><th>seeds</th>\
         <th>ASR difference</th><th>CA/BA difference</th><th>kNN ASR difference</th>\
         <th>ASR difference per seed</th></tr>\n",
    );
    for c in &results.comparisons {
        let knn = c.knn_asr.as_ref().map_or("-".into(), |k| format!("{:+}", k.stat));
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{:+}</td>\
             <td class=\"n\">{:+}</td><td class=\"n\">{knn}</td><td class=\"n\">{}</td></tr>",
            esc(&c.label()),
            esc(&c.against),
            c.asr.seeds.len(),
            c.asr.stat,
            c.accuracy.stat,
            c.asr.per_seed()
        );
    }
    let _ = writeln!(s, "</table>\n<p class=\"note\">{}</p>", esc(PAIRED));
}

/// The SVG charts, each only when there is something to draw.
fn charts(s: &mut String, results: &Results) -> Result<()> {
    if !results.summary.is_empty() {
        figure(
            s,
            &bar_chart_svg(&results.summary, &results.runs)?,
            "CA/BA and ASR per arm: bars at the mean over seeds, a dot per seed, whiskers the \
             95 % Student t interval of the mean (several seeds).",
        );
    }
    if results.summary.iter().any(|a| a.sweep.is_some()) {
        figure(
            s,
            &sweep_chart_svg(&results.summary)?,
            "The sweep: ASR (thick) and CA/BA (thin) per arm.",
        );
    }
    if results.runs.iter().any(|r| !r.epoch_loss.is_empty()) {
        figure(s, &loss_chart_svg(&results.runs)?, "Mean pre-training loss per epoch.");
    }
    if results.runs.iter().any(|r| !r.monitor.is_empty()) {
        figure(
            s,
            &monitor_chart_svg(&results.runs)?,
            "The training monitor: the encoder during pre-training, scored by a kNN \
             classifier on the downstream sets (CA/BA thin, ASR thick), over steps and epochs.",
        );
    }
    Ok(())
}

/// The table of single runs.
fn runs(s: &mut String, results: &Results) {
    s.push_str(
        "<h2>Runs</h2>\n<table><tr><th>run</th><th>CA/BA %</th><th>ASR %</th>\
                <th>hits / eligible</th><th>kNN ASR %</th><th>target-patch ASR %</th>\
                <th>final loss</th>\
                <th>seconds</th></tr>\n",
    );
    for r in &results.runs {
        let loss = r.epoch_loss.last().map_or("-".into(), |l| format!("{l:.4}"));
        let knn = r.knn_asr().map_or("-".into(), |k| format!("{k:.1}"));
        let patch = r.target_patch_asr.map_or("-".into(), |c| format!("{c:.1}"));
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td class=\"n\">{:.1}</td><td class=\"n\">{:.1}</td>\
             <td class=\"n\">{} / {}</td><td class=\"n\">{knn}</td><td class=\"n\">{patch}</td>\
             <td class=\"n\">{loss}</td><td class=\"n\">{:.0}</td></tr>",
            esc(&run_label(r)),
            r.accuracy,
            r.asr,
            r.asr_hits,
            r.asr_eligible,
            r.seconds
        );
    }
    s.push_str("</table>\n");
}

/// The poison detectors' table, DECREE's and CleanCLIP's, when an arm used one.
fn detection(s: &mut String, results: &Results) {
    use crate::detection::{DECREE_HEADER, DETECTION_HEADER, decree_rows, detection_rows};
    let poison = detection_rows(&results.runs);
    table(s, "Poison detection", &DETECTION_HEADER, poison, crate::markdown::DETECTION);
    let decree = decree_rows(&results.runs);
    table(s, "Encoder inspection (DECREE)", &DECREE_HEADER, decree, crate::markdown::DECREE);
    use crate::cleanclip::{CLEANCLIP, CLEANCLIP_HEADER, cleanclip_rows};
    table(s, "CleanCLIP fine-tuning", &CLEANCLIP_HEADER, cleanclip_rows(&results.runs), CLEANCLIP);
}

/// A titled table of `rows` under `header` with `note` below it; nothing without rows.
fn table(s: &mut String, title: &str, header: &[&str], rows: Vec<[String; 6]>, note: &str) {
    if rows.is_empty() {
        return;
    }
    let _ = write!(s, "<h2>{}</h2>\n<table><tr>", esc(title));
    for h in header {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr>\n");
    for row in rows {
        s.push_str("<tr>");
        for (k, c) in row.iter().enumerate() {
            let class = if (1..5).contains(&k) { " class=\"n\"" } else { "" };
            let _ = write!(s, "<td{class}>{}</td>", esc(c));
        }
        s.push_str("</tr>\n");
    }
    let _ = writeln!(s, "</table>\n<p class=\"note\">{}</p>", esc(note));
}

/// The figure files, embedded as data URIs.
fn figures(s: &mut String, results: &Results, dir: &Path) -> Result<()> {
    if !results.figures.is_empty() {
        s.push_str("<h2>Figures</h2>\n");
        for f in &results.figures {
            let path = dir.join(&f.file);
            let bytes = fs_err::read(&path).map_err(IoError::at("read figure", &path))?;
            let data = base64::engine::general_purpose::STANDARD.encode(bytes);
            let mime = if f.file.ends_with(".svg") { "image/svg+xml" } else { "image/png" };
            let _ = writeln!(
                s,
                "<figure><img alt=\"{}\" src=\"data:{mime};base64,{data}\"><figcaption>{}\
                 </figcaption></figure>",
                esc(&f.caption),
                esc(&f.caption)
            );
        }
    }
    Ok(())
}

/// The run's notes, if any.
fn notes(s: &mut String, results: &Results) {
    if !results.notes.is_empty() {
        s.push_str("<h2>Notes</h2>\n<ul>\n");
        for n in &results.notes {
            let _ = writeln!(s, "<li>{}</li>", esc(n));
        }
        s.push_str("</ul>\n");
    }
}

fn figure(s: &mut String, svg: &str, caption: &str) {
    let _ = writeln!(s, "<figure>{svg}<figcaption>{}</figcaption></figure>", esc(caption));
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Figure, RunResult};
    use crate::summary::summarize;

    #[test]
    fn html_embeds_its_figures_and_charts() {
        let dir = tempfile::tempdir().unwrap();
        let png = b"\x89PNG\r\n\x1a\nnot really an image";
        std::fs::write(dir.path().join("preview.png"), png).unwrap();
        let runs = vec![RunResult {
            arm: "a<b".into(),
            epoch_loss: vec![3.0, 2.5, 2.0],
            ..Default::default()
        }];
        let results = Results {
            name: "t".into(),
            summary: summarize(&runs),
            runs,
            figures: vec![Figure { file: "preview.png".into(), caption: "poisons".into() }],
            ..Default::default()
        };
        let html = render_html(&results, dir.path()).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(png);
        assert!(html.contains(&format!("data:image/png;base64,{b64}")));
        assert_eq!(html.matches("<svg").count(), 2, "bar chart and loss curves");
        assert!(html.contains("a&lt;b") && !html.contains("a<b"));
        assert!(!html.contains("src=\"preview.png\""), "no external references");

        std::fs::remove_file(dir.path().join("preview.png")).unwrap();
        let err = render_html(&results, dir.path()).unwrap_err().to_string();
        assert!(err.contains("preview.png"), "{err}");
    }
}
