//! What a report says beyond each arm's mean: how many seeds pass an ASR threshold, and
//! per-seed paired differences of every arm against the clean arm and against a named arm.
//!
//! Pairing by seed takes out what the arms of one seed share (the initial weights, the
//! views' draws, the probe's seed), so a paired interval is usually far narrower than the
//! two arms' intervals side by side.

use crate::report_settings::ReportSettings;
use crate::results::{
    Comparison, Paired, RANDOM_ENCODER, Results, RunResult, SeedCount, Statistics, SweepPoint,
};
use crate::stats::INTERVAL_METHOD;

/// Fills what depends on the report's settings: [`Results::statistics`], each summary
/// row's seed count at the ASR threshold, and [`Results::comparisons`] against the clean
/// arm and `settings.compare`. Call after the summary is made.
pub fn attach_statistics(results: &mut Results, settings: &ReportSettings) {
    let clean = clean_arm(&results.runs);
    if clean.is_none() && several_clean_arms(&results.runs) {
        results.notes.push(
            "Several arms have no attack and no defense and none is named `clean`: no \
             comparison against a clean arm."
                .into(),
        );
    }
    for row in &mut results.summary {
        let asr: Vec<f64> =
            members(&results.runs, &row.arm, row.sweep.as_ref()).map(|r| r.asr).collect();
        let passing = asr.iter().filter(|&&a| a >= settings.asr_threshold).count();
        row.asr_passing =
            Some(SeedCount { threshold: settings.asr_threshold, passing, seeds: asr.len() });
    }
    let mut comparisons = Vec::new();
    let baselines =
        clean.iter().chain(settings.compare.iter().filter(|c| Some(*c) != clean.as_ref()));
    for base in baselines {
        for row in &results.summary {
            let skip = [Some(base.as_str()), clean.as_deref(), Some(RANDOM_ENCODER)];
            if skip.contains(&Some(row.arm.as_str())) {
                continue;
            }
            if let Some(c) = compare(&results.runs, &row.arm, row.sweep.as_ref(), base) {
                comparisons.push(c);
            }
        }
    }
    results.comparisons = comparisons;
    results.statistics = Some(Statistics {
        interval: INTERVAL_METHOD.into(),
        asr_threshold: settings.asr_threshold,
        clean,
        compare: settings.compare.clone(),
    });
}

/// The runs of `arm` at `sweep`.
fn members<'a>(
    runs: &'a [RunResult],
    arm: &'a str,
    sweep: Option<&'a SweepPoint>,
) -> impl Iterator<Item = &'a RunResult> {
    runs.iter().filter(move |r| r.arm == arm && r.sweep.as_ref() == sweep)
}

fn is_clean(run: &RunResult) -> bool {
    run.arm != RANDOM_ENCODER && run.attack == "none" && run.defense.is_none()
}

/// The arm with no attack and no defense; of several, the one named `clean`.
fn clean_arm(runs: &[RunResult]) -> Option<String> {
    let mut names: Vec<&str> =
        runs.iter().filter(|r| is_clean(r)).map(|r| r.arm.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    match names[..] {
        [one] => Some(one.to_owned()),
        _ => names.contains(&"clean").then(|| "clean".to_owned()),
    }
}

fn several_clean_arms(runs: &[RunResult]) -> bool {
    let first = runs.iter().find(|r| is_clean(r));
    first.is_some_and(|f| runs.iter().any(|r| is_clean(r) && r.arm != f.arm))
}

/// `arm` at `sweep` against `base`, paired by seed and sweep value (a baseline run without
/// a sweep value, such as the clean arm's, pairs at every value); `None` when they share no
/// seed.
fn compare(
    runs: &[RunResult],
    arm: &str,
    sweep: Option<&SweepPoint>,
    base: &str,
) -> Option<Comparison> {
    let pairs: Vec<(&RunResult, &RunResult)> = members(runs, arm, sweep)
        .filter_map(|r| {
            let b = runs.iter().find(|b| {
                b.arm == base && b.seed == r.seed && (b.sweep.is_none() || b.sweep == r.sweep)
            })?;
            Some((r, b))
        })
        .collect();
    let diff = |f: fn(&RunResult) -> f64| {
        pairs.iter().map(|(r, b)| (r.seed, f(r) - f(b))).collect::<Vec<_>>()
    };
    let knn: Vec<(u64, f64)> =
        pairs.iter().filter_map(|(r, b)| Some((r.seed, r.knn_asr()? - b.knn_asr()?))).collect();
    Some(Comparison {
        arm: arm.to_owned(),
        sweep: sweep.cloned(),
        against: base.to_owned(),
        asr: Paired::of(&diff(|r| r.asr))?,
        accuracy: Paired::of(&diff(|r| r.accuracy))?,
        knn_asr: Paired::of(&knn),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::MonitorPoint;
    use crate::summary::summarize;

    fn run(arm: &str, attack: &str, seed: u64, accuracy: f64, asr: f64) -> RunResult {
        RunResult {
            arm: arm.into(),
            attack: attack.into(),
            seed,
            accuracy,
            asr,
            ..Default::default()
        }
    }

    fn with_knn(mut r: RunResult, knn: f64) -> RunResult {
        r.monitor = vec![
            MonitorPoint { epoch: 0, asr: Some(1.0), ..Default::default() },
            MonitorPoint { epoch: 5, asr: Some(knn), ..Default::default() },
        ];
        r
    }

    fn analysed(runs: Vec<RunResult>, settings: &ReportSettings) -> Results {
        let mut results = Results { summary: summarize(&runs), runs, ..Default::default() };
        attach_statistics(&mut results, settings);
        results
    }

    #[test]
    fn paired_differences_are_taken_seed_by_seed_against_clean_and_the_named_arm() {
        let runs = vec![
            run(RANDOM_ENCODER, "none", 0, 30.0, 0.0),
            with_knn(run("clean", "none", 0, 80.0, 1.0), 2.0),
            with_knn(run("ce", "corruptencoder", 0, 79.0, 61.0), 30.0),
            run("ssl", "ssl-backdoor", 0, 80.0, 11.0),
            with_knn(run("clean", "none", 1, 82.0, 2.0), 4.0),
            with_knn(run("ce", "corruptencoder", 1, 80.0, 42.0), 20.0),
            run("ssl", "ssl-backdoor", 1, 81.0, 12.0),
            with_knn(run("clean", "none", 2, 84.0, 0.0), 1.0),
            with_knn(run("ce", "corruptencoder", 2, 84.0, 50.0), 40.0),
            // Seed 3 of ce alone has no clean partner (and no ssl partner).
            run("ce", "corruptencoder", 3, 80.0, 90.0),
        ];
        let settings = ReportSettings { compare: Some("ssl".into()), asr_threshold: 50.0 };
        let r = analysed(runs, &settings);
        let labels: Vec<String> =
            r.comparisons.iter().map(|c| format!("{} - {}", c.arm, c.against)).collect();
        assert_eq!(labels, ["ce - clean", "ssl - clean", "ce - ssl"]);
        let ce = &r.comparisons[0];
        // ASR differences 60, 40, 50: mean 50, sd 10, t(0.975, 2) = 4.3027 → ± 24.841.
        assert_eq!(
            (ce.asr.seeds.clone(), ce.asr.differences.clone()),
            (vec![0, 1, 2], vec![60.0, 40.0, 50.0])
        );
        assert_eq!((ce.asr.stat.mean, ce.asr.stat.std, ce.asr.stat.n), (50.0, 10.0, 3));
        let i = ce.asr.stat.interval.unwrap();
        assert!((i.low - 25.158_622_9).abs() < 1e-6 && (i.high - 74.841_377_1).abs() < 1e-6);
        // CA/BA differences -1, -2, 0: mean -1, sd 1.
        assert_eq!(ce.accuracy.differences, [-1.0, -2.0, 0.0]);
        assert_eq!((ce.accuracy.stat.mean, ce.accuracy.stat.std), (-1.0, 1.0));
        // kNN ASR of the last monitor point: 28, 16, 39.
        assert_eq!(ce.knn_asr.as_ref().unwrap().differences, [28.0, 16.0, 39.0]);
        assert_eq!(ce.asr.per_seed(), "+60.0, +40.0, +50.0");
        // ssl has no monitor: no kNN difference.
        assert!(r.comparisons[1].knn_asr.is_none());
        // Against the named arm: seeds 0 and 1 only; differences 50 and 30.
        let vs_ssl = &r.comparisons[2];
        assert_eq!(vs_ssl.asr.differences, [50.0, 30.0]);
        assert_eq!(vs_ssl.asr.stat.mean, 40.0);
        let stats = r.statistics.as_ref().unwrap();
        assert_eq!(
            (stats.clean.as_deref(), stats.compare.as_deref()),
            (Some("clean"), Some("ssl"))
        );
        assert!(stats.interval.contains("Student t"));
    }

    #[test]
    fn seeds_at_or_above_the_threshold_are_counted_per_arm() {
        let runs: Vec<RunResult> = [61.0, 42.0, 50.0, 90.0, 49.9]
            .iter()
            .enumerate()
            .map(|(seed, &asr)| run("ce", "corruptencoder", seed as u64, 80.0, asr))
            .collect();
        let r = analysed(runs.clone(), &ReportSettings::default());
        let count = r.summary[0].asr_passing.unwrap();
        assert_eq!((count.passing, count.seeds, count.threshold), (3, 5, 50.0));
        assert_eq!(count.to_string(), "3 of 5");
        let strict = ReportSettings { asr_threshold: 60.0, ..Default::default() };
        assert_eq!(analysed(runs, &strict).summary[0].asr_passing.unwrap().passing, 2);
    }

    #[test]
    fn sweeps_pair_at_the_same_value_and_clean_pairs_at_every_value() {
        let at = |arm: &str, attack: &str, seed, value: Option<f64>, asr| RunResult {
            sweep: value.map(|value| SweepPoint { parameter: "poison_ratio".into(), value }),
            ..run(arm, attack, seed, 80.0, asr)
        };
        let runs = vec![
            at("clean", "none", 0, None, 1.0),
            at("ce", "corruptencoder", 0, Some(0.01), 20.0),
            at("ce", "corruptencoder", 0, Some(0.02), 40.0),
            at("ssl", "ssl-backdoor", 0, Some(0.01), 5.0),
            at("ssl", "ssl-backdoor", 0, Some(0.02), 10.0),
        ];
        let settings = ReportSettings { compare: Some("ssl".into()), ..Default::default() };
        let r = analysed(runs, &settings);
        let got: Vec<(String, String, f64)> = r
            .comparisons
            .iter()
            .map(|c| (c.label(), c.against.clone(), c.asr.differences[0]))
            .collect();
        assert_eq!(
            got,
            [
                ("ce (poison_ratio=0.01)".into(), "clean".into(), 19.0),
                ("ce (poison_ratio=0.02)".into(), "clean".into(), 39.0),
                ("ssl (poison_ratio=0.01)".into(), "clean".into(), 4.0),
                ("ssl (poison_ratio=0.02)".into(), "clean".into(), 9.0),
                ("ce (poison_ratio=0.01)".into(), "ssl".into(), 15.0),
                ("ce (poison_ratio=0.02)".into(), "ssl".into(), 30.0),
            ]
        );
        // One shared seed: a difference, no interval.
        assert!(r.comparisons[0].asr.stat.interval.is_none());
    }

    #[test]
    fn the_clean_arm_is_the_one_without_attack_and_defense_or_the_one_named_clean() {
        let mut defended = run("clean-lc", "none", 0, 70.0, 1.0);
        defended.defense = Some("localized-cropping".into());
        let runs = vec![
            run("plain", "none", 0, 80.0, 1.0),
            defended.clone(),
            run("ce", "ce", 0, 80.0, 30.0),
        ];
        let r = analysed(runs, &ReportSettings::default());
        assert_eq!(r.statistics.unwrap().clean.as_deref(), Some("plain"));
        assert_eq!(r.comparisons.len(), 2, "clean-lc and ce against plain");

        let two = vec![run("a", "none", 0, 80.0, 1.0), run("b", "none", 0, 80.0, 1.0)];
        let r = analysed(two.clone(), &ReportSettings::default());
        assert!(r.statistics.unwrap().clean.is_none() && r.comparisons.is_empty());
        assert!(r.notes[0].contains("none is named `clean`"), "{:?}", r.notes);
        let named = [two, vec![run("clean", "none", 0, 81.0, 1.0)]].concat();
        assert_eq!(
            analysed(named, &ReportSettings::default()).statistics.unwrap().clean.as_deref(),
            Some("clean")
        );
    }
}
