//! The experiment file (`experiment.toml`): data, attack inputs, pre-training, evaluation,
//! arms, seeds and an optional sweep. Unset fields take the authors' defaults (SPEC) where
//! SPEC has one.
use std::path::{Path, PathBuf};

use corruptencoder_data::SyntheticConfig;
use corruptencoder_eval::EvalConfig;
use corruptencoder_poison::{AreaRatio, TestImageFormat};
use corruptencoder_train::{EvalTransform, PretrainConfig};
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
    /// The triggered test set (SPEC 7).
    #[serde(default)]
    pub testset: TestsetSettings,
    /// Downstream evaluation (SPEC 7).
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
}

/// Attack inputs shared by the arms (SPEC 3 and 5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttackSettings {
    /// Target class: its index in the downstream label order (sorted class folders).
    pub target: usize,
    /// Reference objects used (SPEC 3: 3 per target class for the headline numbers).
    pub references: usize,
    /// Poisons / clean pre-training images (SPEC 2: 0.5%).
    pub poison_ratio: f64,
    /// Trigger side in the poisons, pixels (SPEC 3: 40).
    pub trigger_size: u32,
    /// Poison width / object width, or `optimal` (SPEC 3: 2).
    pub area_ratio: AreaRatio,
    /// Largest poison side (SPEC 3: 800).
    pub max_size: u32,
    /// Share of support images in CorruptEncoder+ arms (SPEC 3: 0.2).
    pub support_ratio: f64,
}

impl Default for AttackSettings {
    fn default() -> Self {
        Self {
            target: 0,
            references: 3,
            poison_ratio: 0.005,
            trigger_size: 40,
            area_ratio: AreaRatio::default(),
            max_size: 800,
            support_ratio: 0.2,
        }
    }
}

/// How the triggered test set is made (SPEC 7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TestsetSettings {
    /// Trigger side on test images (SPEC 7: 40 at 224 px).
    pub trigger_size: u32,
    /// Band of the trigger position (SPEC 7: 0.25).
    pub band: f64,
    /// Image format (SPEC 7: JPEG quality 75).
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
    /// Test transform of every downstream image (SPEC 7: Resize 256, CenterCrop 224).
    pub transform: EvalTransform,
    /// Images per forward pass when extracting features.
    pub batch_size: usize,
    /// The classifier and its settings.
    pub classifier: EvalConfig,
}

impl Default for EvalSettings {
    fn default() -> Self {
        Self {
            transform: EvalTransform::default(),
            batch_size: 256,
            classifier: EvalConfig::default(),
        }
    }
}

/// The attacks an arm can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttackKind {
    /// No poisons: the clean reference.
    None,
    /// CorruptEncoder (SPEC 3).
    Corruptencoder,
    /// CorruptEncoder+ (support images, SPEC 3).
    CorruptencoderPlus,
    /// SSL-Backdoor (SPEC 5).
    SslBackdoor,
    /// CTRL (SPEC 5).
    Ctrl,
    /// PoisonedEncoder (SPEC 5).
    PoisonedEncoder,
}

impl AttackKind {
    /// The name used in files and tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Corruptencoder => "corruptencoder",
            Self::CorruptencoderPlus => "corruptencoder-plus",
            Self::SslBackdoor => "ssl-backdoor",
            Self::Ctrl => "ctrl",
            Self::PoisonedEncoder => "poisoned-encoder",
        }
    }
}

/// Defenses applied during pre-training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DefenseKind {
    /// Localized cropping (SPEC 6): both views from one small region.
    LocalizedCropping,
}

impl DefenseKind {
    /// The name used in tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::LocalizedCropping => "localized-cropping",
        }
    }
}

/// One arm: an attack (or none) and an optional defense.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmConfig {
    /// Unique name; also the arm's folder name.
    pub name: String,
    /// The attack.
    pub attack: AttackKind,
    /// The defense, if any.
    #[serde(default)]
    pub defense: Option<DefenseKind>,
}

/// The parameters a sweep can vary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SweepParameter {
    /// `attack.poison_ratio`.
    PoisonRatio,
    /// `attack.references`.
    References,
    /// `attack.trigger_size` (the poisons' trigger; the test trigger stays).
    TriggerSize,
    /// `attack.area_ratio`.
    AreaRatio,
}

impl SweepParameter {
    /// The name in files and tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::PoisonRatio => "poison_ratio",
            Self::References => "references",
            Self::TriggerSize => "trigger_size",
            Self::AreaRatio => "area_ratio",
        }
    }

    /// `attack` with this parameter set to `value`.
    pub fn apply(self, attack: &AttackSettings, value: f64) -> AttackSettings {
        let mut a = attack.clone();
        match self {
            Self::PoisonRatio => a.poison_ratio = value,
            Self::References => a.references = value as usize,
            Self::TriggerSize => a.trigger_size = value as u32,
            Self::AreaRatio => a.area_ratio = AreaRatio::Fixed(value),
        }
        a
    }
}

/// One parameter over several values. Clean arms do not depend on it and run once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepConfig {
    /// The parameter.
    pub parameter: SweepParameter,
    /// Its values.
    pub values: Vec<f64>,
}

impl ExperimentConfig {
    /// Reads and checks an experiment file; relative data paths resolve against its folder.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = fs_err::read_to_string(path).map_err(|source| Error::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        })?;
        let mut config: Self = toml::from_str(&text)
            .map_err(|source| Error::Parse { path: path.to_path_buf(), source })?;
        if let DataConfig::Files(f) = &mut config.data {
            let base = path.parent().unwrap_or(Path::new(""));
            for p in
                [&mut f.pretrain, &mut f.downstream_train, &mut f.downstream_test, &mut f.trigger]
            {
                *p = base.join(&*p);
            }
            for p in [&mut f.references, &mut f.backgrounds, &mut f.supports, &mut f.target_images]
                .into_iter()
                .flatten()
            {
                *p = base.join(&*p);
            }
        }
        config
            .validate()
            .map_err(|problem| Error::Invalid { path: path.to_path_buf(), problem })?;
        Ok(config)
    }

    /// The TOML text of this experiment.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("experiment configuration serialises to TOML")
    }

    /// Checks what would otherwise fail deep inside a run.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.arms.is_empty() {
            return Err("no [[arms]]".into());
        }
        if self.seeds.is_empty() {
            return Err("`seeds` is empty".into());
        }
        let mut names: Vec<&str> = self.arms.iter().map(|a| a.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("two arms are named `{}`", w[0]));
        }
        for arm in &self.arms {
            let ok = !arm.name.is_empty()
                && arm.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !ok {
                return Err(format!("arm name `{}`: use letters, digits, - and _", arm.name));
            }
        }
        let mut attacks = vec![self.attack.clone()];
        if let Some(s) = &self.sweep {
            if s.values.is_empty() {
                return Err("sweep has no values".into());
            }
            attacks = s.values.iter().map(|&v| s.parameter.apply(&self.attack, v)).collect();
        }
        for a in &attacks {
            if !(a.poison_ratio.is_finite() && a.poison_ratio > 0.0) {
                return Err(format!("poison_ratio {} must be positive", a.poison_ratio));
            }
            if a.references == 0 {
                return Err("attack.references must be at least 1".into());
            }
        }
        if let DataConfig::Files(f) = &self.data {
            for arm in &self.arms {
                let need = |what: &Option<PathBuf>, field: &str| match what {
                    Some(_) => Ok(()),
                    None => Err(format!("arm `{}` needs data.{field}", arm.name)),
                };
                match arm.attack {
                    AttackKind::Corruptencoder => {
                        need(&f.references, "references")?;
                        need(&f.backgrounds, "backgrounds")?;
                    }
                    AttackKind::CorruptencoderPlus => {
                        need(&f.references, "references")?;
                        need(&f.backgrounds, "backgrounds")?;
                        need(&f.supports, "supports")?;
                    }
                    AttackKind::SslBackdoor | AttackKind::Ctrl | AttackKind::PoisonedEncoder => {
                        need(&f.target_images, "target_images")?;
                    }
                    AttackKind::None => {}
                }
            }
        }
        if let DataConfig::Synthetic(s) = &self.data {
            let (t, size) = (&self.eval.transform, s.world.size);
            // The SPEC 7 default (256 -> 224) is for photos; it would blow up small images.
            if t.resize > size || t.crop > size {
                return Err(format!(
                    "eval.transform (resize {}, crop {}) does not fit the {size} px synthetic \
                     images: set transform = {{ resize = 0, crop = {size} }}",
                    t.resize, t.crop
                ));
            }
        }
        if let DataConfig::Synthetic(s) = &self.data
            && self.attack.target >= s.world.classes
        {
            return Err(format!(
                "attack.target {} is not one of the {} synthetic classes",
                self.attack.target, s.world.classes
            ));
        }
        self.pretrain.validate().map_err(|e| e.to_string())
    }

    /// The attack settings of every sweep point (`None`: no sweep).
    pub fn sweep_points(&self) -> Vec<(Option<f64>, AttackSettings)> {
        match &self.sweep {
            None => vec![(None, self.attack.clone())],
            Some(s) => {
                s.values.iter().map(|&v| (Some(v), s.parameter.apply(&self.attack, v))).collect()
            }
        }
    }
}
