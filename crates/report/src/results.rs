//! The `results.json` schema: one [`RunResult`] per (arm, sweep value, seed), and the
//! mean and spread over seeds.
use serde::{Deserialize, Serialize};

use crate::comparison::{Comparison, SeedCount, Statistics};
use crate::stats::Stat;

/// Everything an experiment measured, with the settings that produced it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Results {
    /// Experiment name.
    pub name: String,
    /// Version of the tool that ran it.
    pub tool_version: String,
    /// Settings stated next to the numbers (data, encoder, method, epochs, ratio, trigger).
    pub settings: Vec<Setting>,
    /// One entry per finished run.
    pub runs: Vec<RunResult>,
    /// Runs grouped by arm and sweep value.
    pub summary: Vec<ArmSummary>,
    /// How intervals, threshold counts and comparisons were made (absent in results
    /// written before they were kept).
    pub statistics: Option<Statistics>,
    /// Per-seed paired differences against the clean arm and the named arm.
    pub comparisons: Vec<Comparison>,
    /// Images beside the report (paths relative to it).
    pub figures: Vec<Figure>,
    /// Free-form remarks (e.g. what is not comparable to the paper).
    pub notes: Vec<String>,
}

/// One named setting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setting {
    /// What it is.
    pub key: String,
    /// Its value as text.
    pub value: String,
}

impl Setting {
    /// A setting from anything printable.
    pub fn new(key: impl Into<String>, value: impl std::fmt::Display) -> Self {
        Self { key: key.into(), value: value.to_string() }
    }
}

/// An image file shown in the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure {
    /// PNG file, relative to the report folder.
    pub file: String,
    /// What it shows.
    pub caption: String,
}

/// The value of the swept parameter in one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// The parameter's name (`poison_ratio`, `references`, `trigger_size`, `area_ratio`).
    pub parameter: String,
    /// Its value.
    pub value: f64,
}

impl std::fmt::Display for SweepPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.parameter, self.value)
    }
}

/// The arm name of the random-encoder baseline: the encoder every arm of a seed starts
/// from (same architecture, seeded initial weights, no training), scored by the same probe.
pub const RANDOM_ENCODER: &str = "random-encoder";

/// One pre-training run and its downstream scores. Percentages are 0..100.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunResult {
    /// Arm name.
    pub arm: String,
    /// Attack (`none` for the clean arm).
    pub attack: String,
    /// Defense applied during pre-training, if any.
    pub defense: Option<String>,
    /// The swept parameter's value, when the experiment sweeps one.
    pub sweep: Option<SweepPoint>,
    /// Seed of poisons, pre-training and probe.
    pub seed: u64,
    /// Poisoned images added to the pre-training set.
    pub poisons: usize,
    /// Clean pre-training images.
    pub clean_images: usize,
    /// `poisons / clean_images` (method.md section 2).
    pub poison_ratio: f64,
    /// Top-1 accuracy on the clean test set: CA for a clean encoder, BA for a poisoned one.
    pub accuracy: f64,
    /// Attack success rate on the triggered test set, target class left out (method.md section 2).
    pub asr: f64,
    /// Triggered non-target images classified as the target.
    pub asr_hits: u64,
    /// Triggered non-target images (the ASR denominator).
    pub asr_eligible: u64,
    /// Target-patch ASR: the same probe's ASR when a patch of the target class's own object
    /// sits where the trigger goes. It measures how far a target-looking patch of the
    /// trigger's size moves this encoder's predictions; it bounds nothing (a backdoor can
    /// exceed it). Files that name it `ceiling` are read too.
    #[serde(alias = "ceiling")]
    pub target_patch_asr: Option<f64>,
    /// Top-1 accuracy per class on the clean test set, in percent.
    pub per_class_accuracy: Vec<f64>,
    /// Row-major confusion matrix of the clean test set (truth x prediction).
    pub confusion: Vec<u64>,
    /// Mean pre-training loss per epoch.
    pub epoch_loss: Vec<f64>,
    /// The training monitor's measurements (kNN CA/BA and ASR over epochs), if it ran.
    pub monitor: Vec<MonitorPoint>,
    /// CA/BA minus the random encoder's CA for the same seed, in points: what pre-training
    /// added (`None` for the baseline itself or when it is missing).
    pub gain: Option<f64>,
    /// Wall-clock seconds of poisoning, pre-training and evaluation.
    pub seconds: f64,
    /// Zero-shot scores, for image-text (CLIP) encoders; `accuracy` and `asr` above are
    /// then the linear probe's on the image tower.
    pub zero_shot: Option<ZeroShotScores>,
    /// The code and machine that made this run (absent in runs made before it was kept).
    pub provenance: Option<Provenance>,
    /// For arms whose defense filters the pre-training set with a poison detector: how
    /// well it found the poisons before the encoder above was trained on what it kept.
    pub detection: Option<DetectionScores>,
    /// For arms inspected by DECREE: its verdict on the encoder above.
    pub decree: Option<DecreeScores>,
}

/// DECREE's verdict on a run's encoder.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DecreeScores {
    /// The encoder inspected, relative to the experiment folder.
    pub encoder: String,
    /// Whether its inverted trigger's PL1-norm fell under the threshold.
    pub backdoored: bool,
    /// The PL1-norm: the share of the image the smallest collapsing mask covers (`None`:
    /// no mask collapsed the embeddings).
    pub pl1: Option<f64>,
    /// The threshold.
    pub pl1_threshold: f64,
    /// Optimisation steps taken.
    pub steps: usize,
    /// Mean pairwise cosine similarity of the stamped images at the last step.
    pub last_similarity: f64,
}

/// A poison detector's result on a run's pre-training set, scored against the known
/// poison list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DetectionScores {
    /// The encoder whose embeddings were scored, relative to the experiment folder.
    pub encoder: String,
    /// Images scored.
    pub images: usize,
    /// Poisons among them.
    pub poisons: usize,
    /// Images flagged and left out of pre-training.
    pub flagged: usize,
    /// Poisons among the flagged images.
    pub flagged_poisons: usize,
    /// Share of the flagged images that are poisons (`None`: nothing flagged).
    pub precision: Option<f64>,
    /// Share of the poisons flagged (`None`: no poisons).
    pub recall: Option<f64>,
    /// Area under the ROC curve of the scores against the poison list (`None`: one class
    /// is empty).
    pub auroc: Option<f64>,
}

impl RunResult {
    /// The training monitor's kNN ASR at its last measurement, which is taken after the
    /// last epoch: the trained encoder's.
    pub fn knn_asr(&self) -> Option<f64> {
        self.monitor.last()?.asr
    }
}

/// Which code on which machine made a run. Poisons are the same on any machine; trained
/// numbers are the same only for the same commit on the same CPU kind, because the CPU
/// backend's float sums follow the vector width it detects (AVX-512 sums 16 lanes at a time
/// where AVX2 sums 8) and its matrix products block by the CPU's cache sizes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Provenance {
    /// The source commit the binary was built from (`-dirty` with uncommitted changes), or
    /// `unknown` outside a git checkout.
    pub commit: String,
    /// The CPU's model name.
    pub cpu: String,
    /// The widest vector instruction set the CPU offers the kernels (`avx512f`, `avx2+fma`,
    /// `sse4.1`, `neon`, ...).
    pub simd: String,
    /// Worker threads of the process.
    pub threads: usize,
}

impl std::fmt::Display for Provenance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "commit {}, {} ({}), {} threads", self.commit, self.cpu, self.simd, self.threads)
    }
}

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

/// Zero-shot classification of an image-text encoder, with the ASR counted both ways the
/// authors count it. Percentages are 0..100.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ZeroShotScores {
    /// Top-1 zero-shot accuracy on the clean test set (CA or BA).
    pub accuracy: f64,
    /// ASR over every triggered test image, target class included (the authors' CLIP
    /// script).
    pub asr_all: f64,
    /// Triggered images classified as the target.
    pub asr_all_hits: u64,
    /// Triggered images (the denominator of `asr_all`).
    pub asr_all_total: u64,
    /// ASR with target-class images left out (the image-only script, method.md section 2).
    pub asr_non_target: f64,
    /// Triggered non-target images classified as the target.
    pub asr_non_target_hits: u64,
    /// Triggered non-target images (the denominator of `asr_non_target`).
    pub asr_non_target_eligible: u64,
}

/// One measurement of the training monitor: the encoder after `epoch` epochs (`step`
/// optimizer steps), scored with a kNN classifier. Percentages are 0..100.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MonitorPoint {
    /// Epochs done (0: the initial encoder).
    pub epoch: usize,
    /// Optimizer steps done.
    pub step: u64,
    /// kNN accuracy on the clean test set.
    pub knn_accuracy: f64,
    /// kNN ASR on the triggered test set.
    pub asr: Option<f64>,
    /// kNN ASR on the target-patch set (a target-object patch where the trigger goes);
    /// the pre-training log names it `ceiling`.
    #[serde(alias = "ceiling")]
    pub target_patch_asr: Option<f64>,
}

/// The runs of one arm at one sweep value, over seeds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ArmSummary {
    /// Arm name.
    pub arm: String,
    /// Attack.
    pub attack: String,
    /// Defense, if any.
    pub defense: Option<String>,
    /// Sweep value, if any.
    pub sweep: Option<SweepPoint>,
    /// Number of seeds.
    pub seeds: usize,
    /// Poisons per run.
    pub poisons: usize,
    /// Poisoning ratio.
    pub poison_ratio: f64,
    /// CA or BA in percent.
    pub accuracy: Stat,
    /// ASR in percent.
    pub asr: Stat,
    /// Seeds whose ASR reached the report's threshold.
    pub asr_passing: Option<SeedCount>,
    /// The training monitor's kNN ASR at its last measurement (the trained encoder), over
    /// the seeds that have one.
    pub knn_asr: Option<Stat>,
    /// Zero-shot CA/BA, ASR over all triggered images and ASR with the target class left
    /// out, for image-text arms.
    pub zero_shot: Option<[Stat; 3]>,
    /// Target-patch ASR in percent ([`RunResult::target_patch_asr`]); files that name it
    /// `ceiling` are read too.
    #[serde(alias = "ceiling")]
    pub target_patch_asr: Option<Stat>,
    /// CA/BA gain over the random encoder of the same seed, in points.
    pub gain: Option<Stat>,
}

impl ArmSummary {
    /// `arm` or `arm (parameter=value)`.
    pub fn label(&self) -> String {
        match &self.sweep {
            Some(s) => format!("{} ({s})", self.arm),
            None => self.arm.clone(),
        }
    }
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

    #[test]
    fn results_written_before_the_statistics_and_the_target_patch_name_still_read() {
        let old = r#"{
            "name": "demo",
            "runs": [{"arm": "ce", "asr": 42.0, "ceiling": 61.0,
                      "monitor": [{"epoch": 1, "step": 3, "knn_accuracy": 50.0, "asr": 4.0, "ceiling": 7.0}]}],
            "summary": [{"arm": "ce", "attack": "corruptencoder", "defense": null, "sweep": null,
                         "seeds": 1, "poisons": 2, "poison_ratio": 0.01,
                         "accuracy": {"mean": 80.0, "std": 0.0}, "asr": {"mean": 42.0, "std": 0.0},
                         "zero_shot": null, "ceiling": {"mean": 61.0, "std": 0.0}, "gain": null}]
        }"#;
        let r: Results = serde_json::from_str(old).unwrap();
        assert_eq!(r.runs[0].target_patch_asr, Some(61.0));
        assert_eq!(r.runs[0].monitor[0].target_patch_asr, Some(7.0));
        assert_eq!(r.summary[0].target_patch_asr.map(|s| s.mean), Some(61.0));
        assert!(r.statistics.is_none() && r.comparisons.is_empty());
        assert!(r.summary[0].asr_passing.is_none() && r.summary[0].knn_asr.is_none());
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"target_patch_asr\"") && !json.contains("ceiling"), "{json}");
    }
}
