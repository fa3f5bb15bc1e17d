//! The `rescore.json` schema and `rescore.md`: an experiment's saved encoders scored again
//! with other test-trigger sizes, target classes and probe seeds.
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::results::{Provenance, SweepPoint};
use crate::stats::Stat;
use crate::table::STAT_LEGEND;

/// Everything a re-scoring measured. Percentages are 0..100.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rescore {
    /// The experiment's name.
    pub name: String,
    /// Version of the tool that scored.
    pub tool_version: String,
    /// Side in pixels of the trigger pasted on the test images, per triggered set.
    pub trigger_sizes: Vec<u32>,
    /// Target classes scored.
    pub targets: Vec<usize>,
    /// Probe seeds; empty when each run's probe was fitted with the run's own seed.
    pub probe_seeds: Vec<u64>,
    /// The downstream classifier (the experiment's).
    pub classifier: String,
    /// One entry per scored encoder.
    pub runs: Vec<RescoredRun>,
    /// Runs grouped by arm and sweep value.
    pub summary: Vec<RescoreSummary>,
    /// The code and machine that scored.
    pub provenance: Option<Provenance>,
    /// What was skipped or needs saying.
    pub notes: Vec<String>,
}

/// One saved encoder scored again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RescoredRun {
    /// Arm name.
    pub arm: String,
    /// Attack (`none` for clean arms).
    pub attack: String,
    /// Sweep value, if any.
    pub sweep: Option<SweepPoint>,
    /// The run's seed.
    pub seed: u64,
    /// Seconds spent extracting features this time (0 when every set was cached).
    pub feature_seconds: f64,
    /// Seconds for the whole encoder: features and every probe.
    pub seconds: f64,
    /// One entry per probe seed.
    pub probes: Vec<ProbeScores>,
}

/// What one fitted probe measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProbeScores {
    /// The probe's seed.
    pub probe_seed: u64,
    /// CA/BA on the clean test set.
    pub accuracy: f64,
    /// One entry per (target, trigger size), targets outer.
    pub triggers: Vec<TriggerScores>,
}

/// ASR of one trigger size for one target class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TriggerScores {
    /// Target class.
    pub target: usize,
    /// Trigger side in pixels.
    pub trigger_size: u32,
    /// ASR of the trigger.
    pub asr: f64,
    /// Triggered non-target images classified as the target.
    pub hits: u64,
    /// Triggered non-target images.
    pub eligible: u64,
    /// ASR of a patch of the target class's own object at this size in the trigger's place;
    /// none without a reference object of that class.
    pub target_patch_asr: Option<f64>,
}

/// An arm at one sweep value, over seeds; each seed's value is its mean over probe seeds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RescoreSummary {
    /// Arm name.
    pub arm: String,
    /// Sweep value, if any.
    pub sweep: Option<SweepPoint>,
    /// Seeds.
    pub seeds: usize,
    /// CA/BA.
    pub accuracy: Stat,
    /// One entry per (target, trigger size), in the runs' order.
    pub triggers: Vec<TriggerSummary>,
}

impl RescoreSummary {
    /// `arm` or `arm (parameter=value)`.
    pub fn label(&self) -> String {
        match &self.sweep {
            Some(s) => format!("{} ({s})", self.arm),
            None => self.arm.clone(),
        }
    }
}

/// One (target, trigger size) over seeds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TriggerSummary {
    /// Target class.
    pub target: usize,
    /// Trigger side in pixels.
    pub trigger_size: u32,
    /// ASR.
    pub asr: Stat,
    /// Target-patch ASR, where there is a reference object.
    pub target_patch_asr: Option<Stat>,
}

/// Groups rescored runs by (arm, sweep value) in order of first appearance; each run counts
/// once, with its scores averaged over probe seeds.
pub fn summarize_rescore(runs: &[RescoredRun]) -> Vec<RescoreSummary> {
    let mut groups: Vec<Vec<&RescoredRun>> = Vec::new();
    for run in runs {
        match groups.iter_mut().find(|g| g[0].arm == run.arm && g[0].sweep == run.sweep) {
            Some(g) => g.push(run),
            None => groups.push(vec![run]),
        }
    }
    groups.into_iter().map(|members| group_summary(&members)).collect()
}

fn group_summary(members: &[&RescoredRun]) -> RescoreSummary {
    let mean = |values: &[f64]| values.iter().sum::<f64>() / values.len().max(1) as f64;
    let per_run = |f: &dyn Fn(&ProbeScores) -> Option<f64>| -> Vec<f64> {
        members
            .iter()
            .filter_map(|r| {
                let v: Option<Vec<f64>> = r.probes.iter().map(f).collect();
                v.filter(|v| !v.is_empty()).map(|v| mean(&v))
            })
            .collect()
    };
    let first = members[0];
    let keys: Vec<(usize, u32)> = first
        .probes
        .first()
        .map(|p| p.triggers.iter().map(|t| (t.target, t.trigger_size)).collect())
        .unwrap_or_default();
    let find = |p: &ProbeScores, (target, size): (usize, u32)| {
        p.triggers.iter().find(|t| t.target == target && t.trigger_size == size).copied()
    };
    let triggers = keys
        .into_iter()
        .map(|key| {
            let patch = per_run(&|p| find(p, key)?.target_patch_asr);
            TriggerSummary {
                target: key.0,
                trigger_size: key.1,
                asr: Stat::of(&per_run(&|p| Some(find(p, key)?.asr))),
                target_patch_asr: (!patch.is_empty()).then(|| Stat::of(&patch)),
            }
        })
        .collect();
    RescoreSummary {
        arm: first.arm.clone(),
        sweep: first.sweep.clone(),
        seeds: members.len(),
        accuracy: Stat::of(&per_run(&|p| Some(p.accuracy))),
        triggers,
    }
}

/// `rescore.md`: the settings, one table per target class with ASR and target-patch ASR
/// against the trigger size, and the seconds per encoder.
pub fn render_rescore(rescore: &Rescore) -> String {
    let mut s = format!("# {}: re-scored\n\n", rescore.name);
    let _ = writeln!(s, "Written by corruptencoder {}.\n", rescore.tool_version);
    let probes = match &rescore.probe_seeds[..] {
        [] => "each run's own seed".to_owned(),
        seeds => seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
    };
    let sizes: Vec<String> = rescore.trigger_sizes.iter().map(|t| format!("{t} px")).collect();
    let _ = writeln!(
        s,
        "Test-trigger sizes {}; probe seeds {probes}; classifier {}.\n",
        sizes.join(", "),
        rescore.classifier
    );
    for &target in &rescore.targets {
        let _ = writeln!(s, "## Target class {target}\n");
        s.push_str(&target_table(rescore, target));
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "ASR: triggered test images of non-target classes classified as the target. \
         Target-patch ASR: the same with a patch of the target class's own object at that \
         size in the trigger's place (same positions), scored by the same probe: how far a \
         target-looking patch of that size moves the encoder's predictions, not a bound. Each \
         seed's value is its mean over the probe seeds. {STAT_LEGEND}\n"
    );
    seconds(&mut s, rescore);
    if !rescore.notes.is_empty() {
        let _ = writeln!(s, "\n## Notes\n");
        for n in &rescore.notes {
            let _ = writeln!(s, "- {n}");
        }
    }
    s
}

fn target_table(rescore: &Rescore, target: usize) -> String {
    let sizes = &rescore.trigger_sizes;
    let mut s = String::from("| arm | seeds | CA/BA % |");
    for size in sizes {
        let _ = write!(s, " ASR % at {size} px |");
    }
    for size in sizes {
        let _ = write!(s, " target-patch ASR % at {size} px |");
    }
    let _ = writeln!(s, "\n|---|---|---|{}", "---|".repeat(2 * sizes.len()));
    for row in &rescore.summary {
        let _ = write!(s, "| {} | {} | {} |", row.label(), row.seeds, row.accuracy);
        let at =
            |size: u32| row.triggers.iter().find(|t| t.target == target && t.trigger_size == size);
        for &size in sizes {
            let _ = write!(s, " {} |", at(size).map_or("-".into(), |t| t.asr.to_string()));
        }
        for &size in sizes {
            let patch = at(size).and_then(|t| t.target_patch_asr);
            let _ = write!(s, " {} |", patch.map_or("-".into(), |p| p.to_string()));
        }
        s.push('\n');
    }
    s
}

fn seconds(s: &mut String, rescore: &Rescore) {
    if rescore.runs.is_empty() {
        return;
    }
    let n = rescore.runs.len() as f64;
    let total: f64 = rescore.runs.iter().map(|r| r.seconds).sum();
    let features: f64 = rescore.runs.iter().map(|r| r.feature_seconds).sum();
    let _ = writeln!(
        s,
        "{} encoders in {total:.1} s: {:.2} s per encoder, of which {:.2} s extracting features.",
        rescore.runs.len(),
        total / n,
        features / n
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(target: usize, size: u32, asr: f64, patch: Option<f64>) -> TriggerScores {
        TriggerScores {
            target,
            trigger_size: size,
            asr,
            target_patch_asr: patch,
            ..Default::default()
        }
    }

    fn run(arm: &str, seed: u64, probes: Vec<ProbeScores>) -> RescoredRun {
        RescoredRun {
            arm: arm.into(),
            seed,
            seconds: 2.0,
            feature_seconds: 0.5,
            probes,
            ..Default::default()
        }
    }

    fn probe(seed: u64, accuracy: f64, triggers: Vec<TriggerScores>) -> ProbeScores {
        ProbeScores { probe_seed: seed, accuracy, triggers }
    }

    #[test]
    fn probe_seeds_are_averaged_within_a_run_and_runs_summarised_over_seeds() {
        let runs = vec![
            run(
                "ce",
                0,
                vec![
                    probe(
                        0,
                        80.0,
                        vec![scores(0, 8, 10.0, Some(20.0)), scores(0, 16, 40.0, Some(60.0))],
                    ),
                    probe(
                        1,
                        82.0,
                        vec![scores(0, 8, 20.0, Some(30.0)), scores(0, 16, 50.0, Some(70.0))],
                    ),
                ],
            ),
            run(
                "ce",
                1,
                vec![
                    probe(
                        0,
                        70.0,
                        vec![scores(0, 8, 35.0, Some(25.0)), scores(0, 16, 45.0, Some(65.0))],
                    ),
                    probe(
                        1,
                        72.0,
                        vec![scores(0, 8, 45.0, Some(35.0)), scores(0, 16, 55.0, Some(75.0))],
                    ),
                ],
            ),
        ];
        let summary = summarize_rescore(&runs);
        assert_eq!(summary.len(), 1);
        let s = &summary[0];
        // Seed means: CA 81 and 71; ASR at 8 px 15 and 40; target patch at 16 px 65 and 70.
        assert_eq!((s.seeds, s.accuracy.mean, s.accuracy.n), (2, 76.0, 2));
        assert_eq!((s.triggers[0].trigger_size, s.triggers[0].asr.mean), (8, 27.5));
        assert!((s.triggers[0].asr.std - 17.677_669_53).abs() < 1e-6);
        assert_eq!(s.triggers[1].target_patch_asr.unwrap().mean, 67.5);

        let rescore = Rescore {
            name: "tiny".into(),
            trigger_sizes: vec![8, 16],
            targets: vec![0],
            classifier: "linear".into(),
            summary,
            runs,
            ..Default::default()
        };
        let md = render_rescore(&rescore);
        assert!(
            md.contains("| arm | seeds | CA/BA % | ASR % at 8 px | ASR % at 16 px | target-patch ASR % at 8 px | target-patch ASR % at 16 px |"),
            "{md}"
        );
        assert!(md.contains("| ce | 2 | 76.0 ± 7.1 [12.5, 139.5] | 27.5 ± 17.7"), "{md}");
        assert!(md.contains("probe seeds each run's own seed"), "{md}");
        assert!(md.contains("2 encoders in 4.0 s: 2.00 s per encoder, of which 0.50 s"), "{md}");
        assert!(md.contains("not a bound"));
    }
}
