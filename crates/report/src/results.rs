//! The `results.json` schema: one [`RunResult`] per (arm, sweep value, seed), each arm's
//! mean and spread over seeds ([`ArmSummary`]), and the paired comparisons between arms.
use serde::{Deserialize, Serialize};

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
    /// For CleanCLIP arms: the zero-shot scores before and after fine-tuning.
    pub cleanclip: Option<crate::cleanclip::CleanClipScores>,
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
        let unit = if self.threads == 1 { "thread" } else { "threads" };
        write!(f, "commit {}, {} ({}), {} {unit}", self.commit, self.cpu, self.simd, self.threads)
    }
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

/// How the report's statistics were made, stated in results.json.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Statistics {
    /// How each interval is computed.
    pub interval: String,
    /// The ASR threshold of [`crate::ArmSummary::asr_passing`], in percent.
    pub asr_threshold: f64,
    /// The clean arm (no attack, no defense) the comparisons are taken against, if any.
    pub clean: Option<String>,
    /// The named arm they are also taken against (`[report] compare`), if any.
    pub compare: Option<String>,
}

/// How many seeds of an arm reached an ASR threshold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SeedCount {
    /// The threshold in percent.
    pub threshold: f64,
    /// Seeds whose ASR is at or above it.
    pub passing: usize,
    /// Seeds.
    pub seeds: usize,
}

impl std::fmt::Display for SeedCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} of {}", self.passing, self.seeds)
    }
}

/// One measure's per-seed differences, arm minus baseline, in percentage points.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Paired {
    /// The seeds both arms ran, in run order.
    pub seeds: Vec<u64>,
    /// The difference at each of those seeds.
    pub differences: Vec<f64>,
    /// Mean, sd and interval of the differences.
    pub stat: Stat,
}

impl Paired {
    /// The differences `pairs` (seed, difference), or `None` without any.
    pub(crate) fn of(pairs: &[(u64, f64)]) -> Option<Self> {
        if pairs.is_empty() {
            return None;
        }
        let differences: Vec<f64> = pairs.iter().map(|p| p.1).collect();
        Some(Self {
            seeds: pairs.iter().map(|p| p.0).collect(),
            stat: Stat::of(&differences),
            differences,
        })
    }

    /// `+1.0, -2.5, +3.0`: the differences seed by seed.
    pub fn per_seed(&self) -> String {
        self.differences.iter().map(|d| format!("{d:+.1}")).collect::<Vec<_>>().join(", ")
    }
}

/// An arm (at one sweep value) against a baseline arm, seed by seed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Comparison {
    /// The arm.
    pub arm: String,
    /// Its sweep value, if any; the baseline is paired at the same value when it has one.
    pub sweep: Option<SweepPoint>,
    /// The baseline arm.
    pub against: String,
    /// ASR differences.
    pub asr: Paired,
    /// CA/BA differences.
    pub accuracy: Paired,
    /// Differences of the training monitor's last kNN ASR, where both runs have it.
    pub knn_asr: Option<Paired>,
}

impl Comparison {
    /// `arm` or `arm (parameter=value)`.
    pub fn label(&self) -> String {
        match &self.sweep {
            Some(s) => format!("{} ({s})", self.arm),
            None => self.arm.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_provenance_names_its_thread_count_in_the_right_number() {
        let mut p = Provenance {
            commit: "3cd96c4f85b9".into(),
            cpu: "AMD EPYC (family 25 model 1)".into(),
            simd: "avx2+fma".into(),
            threads: 1,
        };
        assert_eq!(
            p.to_string(),
            "commit 3cd96c4f85b9, AMD EPYC (family 25 model 1) (avx2+fma), 1 thread"
        );
        p.threads = 2;
        assert!(p.to_string().ends_with("(avx2+fma), 2 threads"), "{p}");
    }
}
