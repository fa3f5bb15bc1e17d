//! The experiment file (`experiment.toml`): data, attack inputs, pre-training, evaluation,
//! arms, seeds and an optional sweep. Unset fields take the authors' defaults
//! (docs/method.md) where the paper has one.
use std::path::{Path, PathBuf};

use corruptencoder_core::IoError;
use corruptencoder_data::SyntheticConfig;
use corruptencoder_defense::DefenseConfig;
use corruptencoder_eval::ClassifierConfig;
use corruptencoder_poison::{AttackConfig, AttackSources, TestImageFormat, TriggerSource};
use corruptencoder_report::ReportSettings;
use corruptencoder_train::{EvalTransform, ExtractOptions, PretrainConfig, ZERO_SHOT_TEMPLATES};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A whole experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Title of the report.
    #[serde(default = "default_name")]
    pub name: String,
    /// One run per seed and arm; several seeds give mean ± std.
    #[serde(default = "default_seeds")]
    pub seeds: Vec<u64>,
    /// Where the images come from.
    pub data: DataConfig,
    /// Target class, references, trigger and budget shared by the attack arms.
    #[serde(default)]
    pub attack: AttackSettings,
    /// The triggered test set (method.md section 7).
    #[serde(default)]
    pub testset: TestsetSettings,
    /// Downstream evaluation (method.md section 7).
    #[serde(default)]
    pub eval: EvalSettings,
    /// Pre-training, shared by every arm; the seed is replaced by the run's seed.
    #[serde(default)]
    pub pretrain: PretrainConfig,
    /// One parameter swept over values, for every attack arm.
    #[serde(default)]
    pub sweep: Option<SweepConfig>,
    /// The arms.
    pub arms: Vec<ArmConfig>,
    /// How the report compares arms (`[report]`); report-only, so it is left out of which
    /// experiment a folder holds, and out of the file when at its defaults.
    #[serde(default, skip_serializing_if = "ReportSettings::is_default")]
    pub report: ReportSettings,
}

fn default_name() -> String {
    "experiment".into()
}

fn default_seeds() -> Vec<u64> {
    vec![0]
}

/// Where the pre-training and downstream images come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "kebab-case")]
pub enum DataConfig {
    /// The embedded procedural image world, written into the experiment folder.
    Synthetic(SyntheticData),
    /// Real data at paths the user gives.
    Files(FileData),
}

/// Sizes of the embedded image world.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyntheticData {
    /// Classes, image side, reference side and seed of the world.
    pub world: SyntheticConfig,
    /// Clean pre-training images.
    pub pretrain: usize,
    /// Downstream training images.
    pub downstream_train: usize,
    /// Downstream test images.
    pub downstream_test: usize,
    /// Background photos for CorruptEncoder (used in turn).
    pub backgrounds: usize,
    /// Background size, width x height (4:3 like most photos).
    pub background_size: (u32, u32),
}

impl Default for SyntheticData {
    fn default() -> Self {
        Self {
            world: SyntheticConfig { size: 32, ..Default::default() },
            pretrain: 3000,
            downstream_train: 2000,
            downstream_test: 1000,
            backgrounds: 100,
            background_size: (256, 192),
        }
    }
}

/// Real data: datasets in any format `open_dataset` reads, and the attack's inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileData {
    /// Clean pre-training set: a `path label` list (the authors' format) or an ImageFolder.
    pub pretrain: PathBuf,
    /// Labelled downstream training set.
    pub downstream_train: PathBuf,
    /// Labelled downstream test set.
    pub downstream_test: PathBuf,
    /// Reference objects of the target class (any layout `load_references` reads).
    #[serde(default)]
    pub references: Option<PathBuf>,
    /// Background photos (CorruptEncoder).
    #[serde(default)]
    pub backgrounds: Option<PathBuf>,
    /// Support images (CorruptEncoder+).
    #[serde(default)]
    pub supports: Option<PathBuf>,
    /// Target-class images the baselines poison (SSL-Backdoor, CTRL, PoisonedEncoder).
    #[serde(default)]
    pub target_images: Option<PathBuf>,
    /// The trigger image.
    pub trigger: PathBuf,
    /// Class names for zero-shot prompts, one per line in label order (image-text arms);
    /// the downstream folder names by default (ImageNet's `n02116738` would make poor
    /// prompts).
    #[serde(default)]
    pub class_names: Option<PathBuf>,
}

/// Attack settings shared by the arms (method.md sections 2 and 3); each arm's own settings are in
/// its
/// `attack` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttackSettings {
    /// Target class: its index in the downstream label order (sorted class folders).
    pub target: usize,
    /// Reference objects used (method.md section 3: 3 per target class for the headline numbers).
    pub references: usize,
    /// Poisons / clean pre-training images (method.md section 2: 0.5%).
    pub poison_ratio: f64,
    /// Seed the poisons are drawn from in every run, instead of the run's seed (which still
    /// draws the initial weights, the views and the probe): fixing it tells the poisons'
    /// share of the seed-to-seed spread from training's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poison_seed: Option<u64>,
}

impl Default for AttackSettings {
    fn default() -> Self {
        Self { target: 0, references: 3, poison_ratio: 0.005, poison_seed: None }
    }
}

/// How the triggered test set is made (method.md section 7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TestsetSettings {
    /// Trigger side on test images (method.md section 7: 40 at 224 px).
    pub trigger_size: u32,
    /// Band of the trigger position (method.md section 7: 0.25).
    pub band: f64,
    /// Image format (method.md section 7: JPEG quality 75).
    pub format: TestImageFormat,
}

impl Default for TestsetSettings {
    fn default() -> Self {
        Self { trigger_size: 40, band: 0.25, format: TestImageFormat::Jpeg }
    }
}

/// Downstream evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalSettings {
    /// Test transform of every downstream image (method.md section 7: Resize 256,
    /// CenterCrop 224).
    pub transform: EvalTransform,
    /// Images per forward pass when extracting features.
    pub batch_size: usize,
    /// The classifier and its settings (`kind = "linear"` or `"knn"`).
    pub classifier: ClassifierConfig,
    /// Zero-shot prompt templates with `{class}`, for image-text (CLIP) arms; a class's
    /// prompt embeddings are averaged.
    pub zero_shot_templates: Vec<String>,
}

impl Default for EvalSettings {
    fn default() -> Self {
        Self {
            transform: EvalTransform::default(),
            batch_size: ExtractOptions::DEFAULT_BATCH,
            classifier: ClassifierConfig::default(),
            zero_shot_templates: ZERO_SHOT_TEMPLATES.map(String::from).to_vec(),
        }
    }
}

/// One arm: an attack (none for the clean reference) and an optional defense.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmConfig {
    /// Unique name; also the arm's folder name.
    pub name: String,
    /// The attack and its settings (`attack = { kind = "corruptencoder", ... }`); absent for
    /// the clean arm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attack: Option<AttackConfig>,
    /// The defense, if any (`defense = { kind = "localized-cropping" }`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defense: Option<DefenseConfig>,
}

impl ArmConfig {
    /// The attack's name in tables (`none` for a clean arm).
    pub fn attack_name(&self) -> &'static str {
        self.attack.as_ref().map_or("none", AttackConfig::name)
    }
}

/// One parameter swept over values, for every attack arm: `poison_ratio` or `references`
/// (shared settings), or any setting of the arms' attacks (`trigger_size`, `area_ratio`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepConfig {
    /// The parameter.
    pub parameter: String,
    /// Its values.
    pub values: Vec<f64>,
}

impl ExperimentConfig {
    /// Reads and checks an experiment file; relative data paths resolve against its folder.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = fs_err::read_to_string(path).map_err(IoError::at("read", path))?;
        let mut config: Self = toml::from_str(&text)
            .map_err(|source| Error::Parse { path: path.to_path_buf(), source })?;
        if let DataConfig::Files(f) = &mut config.data {
            let base = path.parent().unwrap_or(Path::new(""));
            for p in
                [&mut f.pretrain, &mut f.downstream_train, &mut f.downstream_test, &mut f.trigger]
            {
                *p = base.join(&*p);
            }
            for p in [
                &mut f.references,
                &mut f.backgrounds,
                &mut f.supports,
                &mut f.target_images,
                &mut f.class_names,
            ]
            .into_iter()
            .flatten()
            {
                *p = base.join(&*p);
            }
        }
        config.validate().map_err(|source| Error::Invalid { path: path.to_path_buf(), source })?;
        Ok(config)
    }

    /// The TOML text of this experiment.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("experiment configuration serialises to TOML")
    }
}

/// A sweep point: the swept value, the shared settings and the arm's attack there.
pub type SweepValue = (Option<f64>, AttackSettings, AttackConfig);

impl FileData {
    /// The attack inputs as paths.
    pub fn sources(&self) -> AttackSources {
        AttackSources {
            references: self.references.clone(),
            backgrounds: self.backgrounds.clone(),
            supports: self.supports.clone(),
            target_images: self.target_images.clone(),
            trigger: Some(TriggerSource::File(self.trigger.clone())),
        }
    }
}
