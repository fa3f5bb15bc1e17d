//! CleanCLIP in the report: what a run's fine-tuning did to its image-text model, zero-shot
//! before and after, in one table.
use serde::{Deserialize, Serialize};

use crate::charts::run_label;
use crate::results::{RunResult, ZeroShotScores};

/// CleanCLIP's fine-tuning of a run's image-text model: its zero-shot scores before and
/// after. The run's own scores (`accuracy`, `asr`, `zero_shot`) are the fine-tuned model's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CleanClipScores {
    /// The model fine-tuned (the poisoned one), relative to the experiment folder.
    pub source: String,
    /// Clean pairs it was fine-tuned on.
    pub pairs: usize,
    /// Optimiser steps of the fine-tuning.
    pub steps: u64,
    /// The model's zero-shot scores before fine-tuning.
    pub before: ZeroShotScores,
    /// After.
    pub after: ZeroShotScores,
}

/// The CleanCLIP table's header cells.
pub(crate) const CLEANCLIP_HEADER: [&str; 6] = [
    "run",
    "zero-shot CA %",
    "ASR (all) %",
    "ASR (non-target) %",
    "pairs / steps",
    "fine-tuned from",
];

/// What the CleanCLIP table says.
pub(crate) const CLEANCLIP: &str = "CleanCLIP fine-tunes the arm's image-text model (the same \
attack's undefended arm's when it has finished) on clean image-caption pairs with CLIP's \
loss plus in-modal losses (each image against an AutoAugment view of itself, each caption \
against an EDA-augmented caption). Each cell is the zero-shot score before -> after; the \
rows above this table are the fine-tuned model's.";

/// One row of cells per run that CleanCLIP fine-tuned, in run order.
pub(crate) fn cleanclip_rows(runs: &[RunResult]) -> Vec<[String; 6]> {
    let arrow = |a: f64, b: f64| format!("{a:.1} -> {b:.1}");
    runs.iter()
        .filter_map(|r| {
            let c = r.cleanclip.as_ref()?;
            let (b, a) = (&c.before, &c.after);
            Some([
                run_label(r),
                arrow(b.accuracy, a.accuracy),
                arrow(b.asr_all, a.asr_all),
                arrow(b.asr_non_target, a.asr_non_target),
                format!("{} / {}", c.pairs, c.steps),
                c.source.clone(),
            ])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_show_each_score_before_and_after() {
        let zs = |accuracy, asr_all, asr_non_target| ZeroShotScores {
            accuracy,
            asr_all,
            asr_non_target,
            ..Default::default()
        };
        let mut runs = vec![RunResult { arm: "ce".into(), ..Default::default() }];
        assert!(cleanclip_rows(&runs).is_empty());
        runs.push(RunResult {
            arm: "ce-cleanclip".into(),
            seed: 2,
            cleanclip: Some(CleanClipScores {
                source: "runs/ce/seed-2/pretrain".into(),
                pairs: 3000,
                steps: 460,
                before: zs(61.25, 40.0, 33.3),
                after: zs(58.0, 12.5, 2.75),
            }),
            ..Default::default()
        });
        let rows = cleanclip_rows(&runs);
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0][..5],
            ["ce-cleanclip seed 2", "61.2 -> 58.0", "40.0 -> 12.5", "33.3 -> 2.8", "3000 / 460"]
        );
        let table = crate::detection::markdown_table(&CLEANCLIP_HEADER, rows).unwrap();
        assert!(table.starts_with("| run | zero-shot CA % |"), "{table}");
    }
}
