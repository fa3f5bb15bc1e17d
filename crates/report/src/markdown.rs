//! `report.md`: the settings, the summary table and the per-run table, in GitHub Markdown.
use std::fmt::Write as _;

use crate::results::{ArmSummary, Results, RunResult};
use crate::table::{STAT_LEGEND, comparison_table, score_cells, threshold_header};

/// What the summary's columns measure.
pub(crate) const DEFINITIONS: &str = "CA/BA: top-1 accuracy on the clean test set (CA for \
the clean arm, BA for the others). ASR: share of triggered test images of non-target classes \
classified as the target class, by the linear probe; the seed column counts the seeds whose \
ASR reached the report's threshold. kNN ASR: the same share by the training monitor's kNN \
classifier at its last measurement, after the last epoch. Target-patch ASR: the same share \
when a patch of the target class's own object (the centre square of the first reference \
object, at the test trigger's size) sits where the trigger goes, scored by the same encoder \
and probe: how far a target-looking patch of that size moves this encoder's predictions. It \
bounds nothing (a backdoor can exceed it); `corruptencoder rescore` measures it over trigger \
sizes. Gain over random: CA/BA minus the CA of the `random-encoder` row (the same \
architecture at its seeded initial weights, untrained, same probe), i.e. what pre-training \
added.";

/// How the paired table is to be read.
pub(crate) const PAIRED: &str = "Each arm minus the arm it is compared against, seed by seed \
(and at the same sweep value when both are swept), in percentage points: mean ± sample \
standard deviation [95 % Student t interval] of the differences over the seeds both arms \
ran, then the ASR difference of each of those seeds.";

/// What the detection table's columns mean.
pub(crate) const DETECTION: &str = "Detector arms embed every pre-training image with a \
poisoned encoder (the same attack's undefended arm when it has finished, else one trained \
for the purpose), score them, leave the flagged ones out and pre-train again; the rows \
above that table are that second encoder's. AUROC: the chance a random poison outscores a \
random clean image. Precision: poisons among the flagged images; recall: flagged poisons \
among all poisons.";

/// What the DECREE table says.
pub(crate) const DECREE: &str = "DECREE inverts the smallest trigger that makes the \
encoder map clean downstream training images to one embedding (mean pairwise cosine \
similarity above 0.99); PL1 is the share of the image its mask covers, and an encoder \
whose PL1 is under the threshold is flagged as backdoored. The inverted triggers are drawn \
under Figures.";

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
    s.push_str(&summary_table(results));
    let _ = writeln!(s, "\n{DEFINITIONS} {STAT_LEGEND}\n");
    if !results.comparisons.is_empty() {
        let _ = writeln!(s, "### Paired differences\n");
        s.push_str(&comparison_table(&results.comparisons));
        let _ = writeln!(s, "\n{PAIRED}\n");
    }
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
    if let Some(table) = crate::detection::detection_table(&results.runs) {
        let _ = writeln!(s, "### Poison detection\n");
        s.push_str(&table);
        let _ = writeln!(s, "\n{DETECTION}\n");
    }
    let decree = crate::detection::decree_rows(&results.runs);
    if let Some(table) = crate::detection::markdown_table(&crate::detection::DECREE_HEADER, decree)
    {
        let _ = writeln!(s, "### Encoder inspection (DECREE)\n");
        s.push_str(&table);
        let _ = writeln!(s, "\n{DECREE}\n");
    }
    let cleanclip = crate::cleanclip::cleanclip_rows(&results.runs);
    if let Some(table) =
        crate::detection::markdown_table(&crate::cleanclip::CLEANCLIP_HEADER, cleanclip)
    {
        let _ = writeln!(s, "### CleanCLIP fine-tuning\n");
        s.push_str(&table);
        let _ = writeln!(s, "\n{}\n", crate::cleanclip::CLEANCLIP);
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

/// The summary table: one row per arm and sweep value.
pub(crate) fn summary_table(results: &Results) -> String {
    let mut s = format!(
        "| arm | attack | defense | poisons (ratio) | seeds | CA/BA % | ASR % | {} | kNN ASR % \
         | target-patch ASR % | gain over random (CA points) |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
        threshold_header(results)
    );
    for a in &results.summary {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} ({:.2}%) | {} | {} |",
            cell(&a.label()),
            a.attack,
            a.defense.as_deref().unwrap_or("none"),
            a.poisons,
            100.0 * a.poison_ratio,
            a.seeds,
            score_cells(a).join(" | ")
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
        "| arm | seed | CA/BA % | ASR % (hits / eligible) | kNN ASR % | target-patch ASR % | \
         final loss | seconds |\n|---|---|---|---|---|---|---|---|\n",
    );
    for r in runs {
        let label = match &r.sweep {
            Some(p) => format!("{} ({p})", r.arm),
            None => r.arm.clone(),
        };
        let loss = r.epoch_loss.last().map_or("-".into(), |l| format!("{l:.4}"));
        let _ = writeln!(
            s,
            "| {} | {} | {:.1} | {:.1} ({} / {}) | {} | {} | {} | {:.0} |",
            cell(&label),
            r.seed,
            r.accuracy,
            r.asr,
            r.asr_hits,
            r.asr_eligible,
            r.knn_asr().map_or("-".into(), |k| format!("{k:.1}")),
            r.target_patch_asr.map_or("-".into(), |c| format!("{c:.1}")),
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
    use crate::results::Setting;
    use crate::summary::summarize;

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
                target_patch_asr: Some(61.0),
                gain: Some(5.0),
                ..Default::default()
            },
        ];
        let mut results = Results {
            name: "demo".into(),
            settings: vec![Setting::new("epochs", 20), Setting::new("trigger", "a|b")],
            summary: summarize(&runs),
            runs,
            ..Default::default()
        };
        crate::comparison::attach_statistics(&mut results, &Default::default());
        let md = render_markdown(&results);
        assert!(md.contains("| epochs | 20 |"), "{md}");
        assert!(md.contains("| trigger | a\\|b |"));
        assert!(
            md.contains(
                "| corruptencoder | corruptencoder | none | 30 (1.00%) | 1 | 80.0 | 42.0 | 0 of 1 \
                 | - | 61.0 | +5.0 |"
            ),
            "{md}"
        );
        assert!(md.contains("| seeds with ASR ≥ 50 % | kNN ASR % | target-patch ASR % |"));
        assert!(md.contains("42.0 (378 / 900) | - | 61.0 |"), "{md}");
        // One seed each: a difference without an interval, and no word of a ceiling.
        assert!(md.contains("### Paired differences"));
        assert!(md.contains("| corruptencoder | clean | 1 | +41.5 | -1.2 | - | +41.5 |"), "{md}");
        assert!(md.contains("bounds nothing") && !md.contains("ceiling"), "{md}");
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
        // Two equal seeds: no spread, and an interval that is the point.
        assert!(
            md.contains(
                "| clip-clean | none | 71.5 ± 0.0 [71.5, 71.5] | 12.0 ± 0.0 [12.0, 12.0] | \
                 2.5 ± 0.0 [2.5, 2.5] |"
            ),
            "{md}"
        );
    }
}
