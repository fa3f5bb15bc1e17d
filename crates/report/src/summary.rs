//! Each arm's mean and spread over seeds, what pre-training added over the random encoder,
//! and which code and machines made the runs.
use crate::results::{ArmSummary, RANDOM_ENCODER, RunResult, ZeroShotScores};
use crate::stats::Stat;

/// The distinct provenances of `runs` (commit, CPU, ISA, threads), in the order they first
/// appear; runs written before provenance was recorded add none.
pub fn distinct_provenances(runs: &[RunResult]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for text in runs.iter().filter_map(|r| r.provenance.as_ref()).map(ToString::to_string) {
        if !seen.contains(&text) {
            seen.push(text);
        }
    }
    seen
}

/// Sets every run's [`RunResult::gain`] from the random-encoder run of its seed.
pub fn attach_gains(runs: &mut [RunResult]) {
    let baselines: Vec<(u64, f64)> =
        runs.iter().filter(|r| r.arm == RANDOM_ENCODER).map(|r| (r.seed, r.accuracy)).collect();
    for run in runs.iter_mut() {
        run.gain = match baselines.iter().find(|(seed, _)| *seed == run.seed) {
            Some((_, base)) if run.arm != RANDOM_ENCODER => Some(run.accuracy - base),
            _ => None,
        };
    }
}

/// Groups runs by (arm, sweep value) in order of first appearance.
pub fn summarize(runs: &[RunResult]) -> Vec<ArmSummary> {
    let mut groups: Vec<(usize, Vec<&RunResult>)> = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        match groups.iter_mut().find(|(first, _)| {
            let f = &runs[*first];
            f.arm == run.arm && f.sweep == run.sweep
        }) {
            Some((_, members)) => members.push(run),
            None => groups.push((i, vec![run])),
        }
    }
    groups
        .into_iter()
        .map(|(_, members)| {
            let first = members[0];
            let acc: Vec<f64> = members.iter().map(|r| r.accuracy).collect();
            let asr: Vec<f64> = members.iter().map(|r| r.asr).collect();
            let zs: Vec<&ZeroShotScores> =
                members.iter().filter_map(|r| r.zero_shot.as_ref()).collect();
            let zero_shot = (zs.len() == members.len()).then(|| {
                let stat = |f: fn(&ZeroShotScores) -> f64| {
                    Stat::of(&zs.iter().map(|z| f(z)).collect::<Vec<_>>())
                };
                [stat(|z| z.accuracy), stat(|z| z.asr_all), stat(|z| z.asr_non_target)]
            });
            let gains: Vec<f64> = members.iter().filter_map(|r| r.gain).collect();
            let patches: Vec<f64> = members.iter().filter_map(|r| r.target_patch_asr).collect();
            let knn: Vec<f64> = members.iter().filter_map(|r| r.knn_asr()).collect();
            ArmSummary {
                arm: first.arm.clone(),
                attack: first.attack.clone(),
                defense: first.defense.clone(),
                sweep: first.sweep.clone(),
                seeds: members.len(),
                poisons: first.poisons,
                poison_ratio: first.poison_ratio,
                accuracy: Stat::of(&acc),
                asr: Stat::of(&asr),
                asr_passing: None,
                knn_asr: (!knn.is_empty()).then(|| Stat::of(&knn)),
                zero_shot,
                target_patch_asr: (!patches.is_empty()).then(|| Stat::of(&patches)),
                gain: (!gains.is_empty()).then(|| Stat::of(&gains)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{MonitorPoint, SweepPoint};

    #[test]
    fn summary_groups_by_arm_and_sweep_value_in_order() {
        let run = |arm: &str, v: Option<f64>, asr: f64| RunResult {
            arm: arm.into(),
            sweep: v.map(|value| SweepPoint { parameter: "poison_ratio".into(), value }),
            asr,
            ..Default::default()
        };
        let runs = [
            run("ce", Some(0.01), 10.0),
            run("clean", Some(0.01), 1.0),
            run("ce", Some(0.02), 30.0),
            run("ce", Some(0.01), 20.0),
        ];
        let s = summarize(&runs);
        let labels: Vec<String> = s.iter().map(ArmSummary::label).collect();
        assert_eq!(
            labels,
            ["ce (poison_ratio=0.01)", "clean (poison_ratio=0.01)", "ce (poison_ratio=0.02)"]
        );
        assert_eq!((s[0].seeds, s[0].asr.mean), (2, 15.0));
    }

    #[test]
    fn gains_are_taken_against_the_random_encoder_of_the_same_seed() {
        let run = |arm: &str, seed: u64, accuracy: f64| RunResult {
            arm: arm.into(),
            seed,
            accuracy,
            ..Default::default()
        };
        let mut runs = vec![
            run(RANDOM_ENCODER, 0, 40.0),
            run(RANDOM_ENCODER, 1, 50.0),
            run("clean", 0, 70.0),
            run("clean", 1, 90.0),
            run("clean", 2, 90.0),
        ];
        attach_gains(&mut runs);
        let gains: Vec<Option<f64>> = runs.iter().map(|r| r.gain).collect();
        assert_eq!(gains, [None, None, Some(30.0), Some(40.0), None], "seed 2 has no baseline");
        let s = summarize(&runs);
        assert_eq!(s[0].gain, None);
        assert_eq!(s[1].gain.map(|g| g.mean), Some(35.0));
    }

    #[test]
    fn the_summary_holds_the_last_knn_asr_and_intervals_over_seeds() {
        let run = |seed: u64, asr: f64, knn: Option<f64>| RunResult {
            arm: "ce".into(),
            seed,
            asr,
            monitor: knn
                .map(|k| {
                    vec![
                        MonitorPoint { asr: Some(3.0), ..Default::default() },
                        MonitorPoint { epoch: 1, asr: Some(k), ..Default::default() },
                    ]
                })
                .unwrap_or_default(),
            ..Default::default()
        };
        let s =
            &summarize(&[run(0, 10.0, Some(20.0)), run(1, 30.0, Some(40.0)), run(2, 20.0, None)])
                [0];
        // ASR 10, 30, 20: mean 20, sd 10, half-width t(0.975, 2) · 10 / √3 = 24.841.
        assert_eq!((s.asr.mean, s.asr.std, s.asr.n), (20.0, 10.0, 3));
        assert!((s.asr.interval.unwrap().high - 44.841_377_1).abs() < 1e-6);
        // kNN ASR of the seeds that ran the monitor: 20 and 40.
        let knn = s.knn_asr.unwrap();
        assert_eq!((knn.mean, knn.n), (30.0, 2));
    }
}
