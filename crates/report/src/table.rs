//! The tables the CLI prints after an experiment (and keeps as `table.md`), and the paired
//! comparison table the Markdown report shares with them.
use std::fmt::Write as _;

use crate::results::Comparison;
use crate::results::{ArmSummary, Results};
use crate::stats::Stat;

/// How the statistics in every table are to be read.
pub(crate) const STAT_LEGEND: &str = "Mean ± sample standard deviation [95 % Student t \
interval of the mean] over seeds; a single seed shows its value alone, with no interval.";

/// The results table of an experiment, then its paired comparisons, in GitHub Markdown.
pub fn render_table(results: &Results) -> String {
    let mut s = if results.summary.iter().any(|a| a.zero_shot.is_some()) {
        clip_table(results)
    } else {
        arm_table(results)
    };
    if !results.comparisons.is_empty() {
        s.push('\n');
        s.push_str(&comparison_table(&results.comparisons));
    }
    let _ = writeln!(s, "\n{STAT_LEGEND}");
    s
}

fn arm_table(results: &Results) -> String {
    let mut s = format!(
        "| arm | poisons | CA/BA % | ASR % | {} | kNN ASR % | target-patch ASR % | gain over \
         random |\n|---|---|---|---|---|---|---|---|\n",
        threshold_header(results)
    );
    for a in &results.summary {
        let _ = writeln!(s, "| {} | {} | {} |", a.label(), a.poisons, score_cells(a).join(" | "));
    }
    s
}

/// An arm's scores as every results table shows them, in its column order: CA/BA, ASR,
/// seeds passing the threshold, kNN ASR, target-patch ASR, gain over the random encoder.
pub(crate) fn score_cells(a: &ArmSummary) -> [String; 6] {
    [
        a.accuracy.to_string(),
        a.asr.to_string(),
        passing(a),
        optional(a.knn_asr),
        optional(a.target_patch_asr),
        a.gain.map_or("-".into(), |g| format!("{g:+}")),
    ]
}

/// Image-text arms: the linear probe's numbers, then zero-shot's with the ASR both ways.
fn clip_table(results: &Results) -> String {
    let mut s = String::from(
        "| arm | poisons | probe CA/BA % | probe ASR % (non-target) | zero-shot CA/BA % | \
         zero-shot ASR % (all, CLIP script) | zero-shot ASR % (non-target, image-only script) |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for a in &results.summary {
        let [acc, all, non_target] = a
            .zero_shot
            .map_or(["-".into(), "-".into(), "-".into()], |z| z.map(|stat| stat.to_string()));
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {acc} | {all} | {non_target} |",
            a.label(),
            a.poisons,
            a.accuracy,
            a.asr
        );
    }
    s
}

/// `seeds with ASR ≥ 50 %`, at the threshold the results were analysed with.
pub(crate) fn threshold_header(results: &Results) -> String {
    let threshold = results
        .statistics
        .as_ref()
        .map(|s| s.asr_threshold)
        .or_else(|| results.summary.iter().find_map(|a| a.asr_passing.map(|c| c.threshold)));
    match threshold {
        Some(t) => format!("seeds with ASR ≥ {t} %"),
        None => "seeds with ASR ≥ threshold".into(),
    }
}

/// `3 of 5`, or `-` where the results carry no count.
pub(crate) fn passing(a: &ArmSummary) -> String {
    a.asr_passing.map_or("-".into(), |c| c.to_string())
}

pub(crate) fn optional(stat: Option<Stat>) -> String {
    stat.map_or("-".into(), |s| s.to_string())
}

/// Per-seed paired differences, arm minus baseline, in percentage points.
pub(crate) fn comparison_table(comparisons: &[Comparison]) -> String {
    let mut s = String::from(
        "| arm | against | seeds | ASR difference | CA/BA difference | kNN ASR difference | \
         ASR difference per seed |\n|---|---|---|---|---|---|---|\n",
    );
    for c in comparisons {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:+} | {:+} | {} | {} |",
            c.label(),
            c.against,
            c.asr.seeds.len(),
            c.asr.stat,
            c.accuracy.stat,
            c.knn_asr.as_ref().map_or("-".into(), |k| format!("{:+}", k.stat)),
            c.asr.per_seed()
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comparison::attach_statistics;
    use crate::report_settings::ReportSettings;
    use crate::results::RunResult;
    use crate::summary::summarize;

    #[test]
    fn the_printed_table_shows_intervals_counts_and_paired_differences() {
        let run = |arm: &str, attack: &str, seed, asr| RunResult {
            arm: arm.into(),
            attack: attack.into(),
            seed,
            accuracy: 80.0,
            asr,
            poisons: if attack == "none" { 0 } else { 15 },
            ..Default::default()
        };
        let runs = vec![
            run("clean", "none", 0, 1.0),
            run("ce", "corruptencoder", 0, 61.0),
            run("clean", "none", 1, 2.0),
            run("ce", "corruptencoder", 1, 42.0),
        ];
        let mut results = Results { summary: summarize(&runs), runs, ..Default::default() };
        attach_statistics(&mut results, &ReportSettings::default());
        let table = render_table(&results);
        assert!(table.contains("| seeds with ASR ≥ 50 % | kNN ASR % | target-patch ASR % |"));
        // ASR 61 and 42: mean 51.5, sd 13.435, half-width 12.7062 · 13.435 / √2 = 120.71.
        assert!(
            table.contains("| ce | 15 | 80.0 ± 0.0 [80.0, 80.0] | 51.5 ± 13.4 [-69.2, 172.2] | 1 of 2 | - | - | - |"),
            "{table}"
        );
        // Differences 60 and 40: mean 50, sd 14.142, half-width 127.06.
        assert!(
            table.contains("| ce | clean | 2 | +50.0 ± 14.1 [-77.1, +177.1] | +0.0 ± 0.0 [+0.0, +0.0] | - | +60.0, +40.0 |"),
            "{table}"
        );
        assert!(table.contains("95 % Student t"));
    }
}
