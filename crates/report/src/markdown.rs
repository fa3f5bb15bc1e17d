//! `report.md`: the settings, the summary table and the per-run table, in GitHub Markdown.
use std::fmt::Write as _;

use crate::results::{ArmSummary, Results, RunResult};

/// The Markdown report of `results`; figures are linked by their relative paths.
pub fn render_markdown(results: &Results) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail; results are ignored below for that reason.
    let _ = writeln!(s, "# {}\n", results.name);
    let _ = writeln!(s, "Written by corruptencoder {}.\n", results.tool_version);
    let _ = writeln!(s, "## Settings\n\n| setting | value |\n|---|---|");
    for setting in &results.settings {
        let _ = writeln!(s, "| {} | {} |", cell(&setting.key), cell(&setting.value));
    }
    let _ = writeln!(s, "\n## Results\n");
    s.push_str(&summary_table(&results.summary));
    let _ = writeln!(
        s,
        "\nCA/BA: top-1 accuracy on the clean test set (CA for the clean arm, BA for the \
         others). ASR: share of triggered test images of non-target classes classified as \
         the target class. ASR ceiling: the same share when a patch of the target class's own \
         object sits where the trigger goes, scored by the same encoder and probe: the ASR a \
         perfect backdoor would reach with a trigger of that size. Gain over random: CA/BA \
         minus the CA of the `random-encoder` row (the same architecture at its seeded initial \
         weights, untrained, same probe), i.e. what pre-training added. Mean ± sample standard \
         deviation over seeds.\n"
    );
    if results.summary.iter().any(|a| a.zero_shot.is_some()) {
        let _ = writeln!(s, "### Zero-shot (image-text encoders)\n");
        s.push_str(&zero_shot_table(&results.summary));
        let _ = writeln!(
            s,
            "\nFor image-text arms the table above scores the linear probe on the image \
             tower. Zero-shot: each test image goes to the class whose prompts it is nearest \
             to. ASR (all): triggered images classified as the target over all triggered \
             images, target class included (the authors' CLIP script). ASR (non-target): \
             target class left out (the image-only script, docs/method.md section 2).\n"
        );
    }
    let _ = writeln!(s, "## Runs\n");
    s.push_str(&runs_table(&results.runs));
    if !results.figures.is_empty() {
        let _ = writeln!(s, "\n## Figures\n");
        for f in &results.figures {
            let _ = writeln!(s, "![{}]({})\n\n*{}*\n", cell(&f.caption), f.file, f.caption);
        }
    }
    if !results.notes.is_empty() {
        let _ = writeln!(s, "\n## Notes\n");
        for n in &results.notes {
            let _ = writeln!(s, "- {n}");
        }
    }
    s
}

/// The summary table alone (also printed by the CLI).
pub(crate) fn summary_table(summary: &[ArmSummary]) -> String {
    let mut s = String::from(
        "| arm | attack | defense | poisons (ratio) | seeds | CA/BA % | ASR % | ASR ceiling % | \
         gain over random (CA points) |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for a in summary {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} ({:.2}%) | {} | {} | {} | {} | {} |",
            cell(&a.label()),
            a.attack,
            a.defense.as_deref().unwrap_or("none"),
            a.poisons,
            100.0 * a.poison_ratio,
            a.seeds,
            a.accuracy,
            a.asr,
            a.ceiling.map_or("-".into(), |c| c.to_string()),
            a.gain.map_or("-".into(), |g| format!("{g:+}"))
        );
    }
    s
}

/// The zero-shot table of the image-text arms.
pub(crate) fn zero_shot_table(summary: &[ArmSummary]) -> String {
    let mut s = String::from(
        "| arm | attack | zero-shot CA/BA % | ASR % (all, CLIP script) | ASR % (non-target, image-only script) |\n\
         |---|---|---|---|---|\n",
    );
    for a in summary {
        if let Some([acc, all, non_target]) = &a.zero_shot {
            let _ = writeln!(
                s,
                "| {} | {} | {acc} | {all} | {non_target} |",
                cell(&a.label()),
                a.attack
            );
        }
    }
    s
}

fn runs_table(runs: &[RunResult]) -> String {
    let mut s = String::from(
        "| arm | seed | CA/BA % | ASR % (hits / eligible) | ASR ceiling % | final loss | seconds \
         |\n|---|---|---|---|---|---|---|\n",
    );
    for r in runs {
        let label = match &r.sweep {
            Some(p) => format!("{} ({p})", r.arm),
            None => r.arm.clone(),
        };
        let loss = r.epoch_loss.last().map_or("-".into(), |l| format!("{l:.4}"));
        let _ = writeln!(
            s,
            "| {} | {} | {:.1} | {:.1} ({} / {}) | {} | {} | {:.0} |",
            cell(&label),
            r.seed,
            r.accuracy,
            r.asr,
            r.asr_hits,
            r.asr_eligible,
            r.ceiling.map_or("-".into(), |c| format!("{c:.1}")),
            loss,
            r.seconds
        );
    }
    s
}

/// Escapes the table separator.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Setting, summarize};

    #[test]
    fn markdown_states_settings_next_to_the_numbers() {
        let runs = vec![
            RunResult {
                arm: "clean".into(),
                attack: "none".into(),
                accuracy: 81.25,
                asr: 0.5,
                ..Default::default()
            },
            RunResult {
                arm: "corruptencoder".into(),
                attack: "corruptencoder".into(),
                poisons: 30,
                poison_ratio: 0.01,
                accuracy: 80.0,
                asr: 42.0,
                asr_hits: 378,
                asr_eligible: 900,
                ceiling: Some(61.0),
                gain: Some(5.0),
                ..Default::default()
            },
        ];
        let results = Results {
            name: "demo".into(),
            settings: vec![Setting::new("epochs", 20), Setting::new("trigger", "a|b")],
            summary: summarize(&runs),
            runs,
            ..Default::default()
        };
        let md = render_markdown(&results);
        assert!(md.contains("| epochs | 20 |"), "{md}");
        assert!(md.contains("| trigger | a\\|b |"));
        assert!(
            md.contains(
                "| corruptencoder | corruptencoder | none | 30 (1.00%) | 1 | 80.0 | 42.0 | 61.0 \
                 | +5.0 |"
            ),
            "{md}"
        );
        assert!(md.contains("42.0 (378 / 900)"));
    }

    #[test]
    fn zero_shot_table_names_both_asr_counts_only_when_there_are_clip_arms() {
        let mut run =
            RunResult { arm: "clip-clean".into(), attack: "none".into(), ..Default::default() };
        let plain =
            Results { summary: summarize(std::slice::from_ref(&run)), ..Default::default() };
        assert!(!render_markdown(&plain).contains("Zero-shot"));
        run.zero_shot = Some(crate::results::ZeroShotScores {
            accuracy: 71.5,
            asr_all: 12.0,
            asr_non_target: 2.5,
            ..Default::default()
        });
        let results = Results { summary: summarize(&[run.clone(), run]), ..Default::default() };
        let md = render_markdown(&results);
        assert!(md.contains("ASR % (all, CLIP script)") && md.contains("non-target"), "{md}");
        assert!(md.contains("| clip-clean | none | 71.5 | 12.0 | 2.5 |"), "{md}");
    }
}
