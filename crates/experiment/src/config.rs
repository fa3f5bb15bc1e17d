//! The experiment file (`experiment.toml`): data, attack inputs, pre-training, evaluation,
//! arms, seeds and an optional sweep. Unset fields take the authors' defaults (SPEC) where
//! SPEC has one.
use std::path::{Path, PathBuf};

use corruptencoder_data::SyntheticConfig;
use corruptencoder_defense::DefenseConfig;
use corruptencoder_eval::ClassifierConfig;
use corruptencoder_poison::{AttackConfig, AttackSources, TestImageFormat, TriggerSource};
use corruptencoder_report::ReportSettings;
use corruptencoder_train::{EvalTransform, MethodConfig, PretrainConfig, ZERO_SHOT_TEMPLATES};
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

/// Attack settings shared by the arms (SPEC 2 and 3); each arm's own settings are in its
/// `attack` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttackSettings {
    /// Target class: its index in the downstream label order (sorted class folders).
    pub target: usize,
    /// Reference objects used (SPEC 3: 3 per target class for the headline numbers).
    pub references: usize,
    /// Poisons / clean pre-training images (SPEC 2: 0.5%).
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
            batch_size: 256,
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

impl SweepConfig {
    /// The shared settings and the arm's attack with the parameter set to `value`.
    pub fn apply(
        &self,
        shared: &AttackSettings,
        attack: &AttackConfig,
        value: f64,
    ) -> std::result::Result<(AttackSettings, AttackConfig), String> {
        let (mut shared, mut attack) = (shared.clone(), attack.clone());
        match self.parameter.as_str() {
            "poison_ratio" => shared.poison_ratio = value,
            "references" => shared.references = value as usize,
            field => attack.set_field(field, value)?,
        }
        Ok((shared, attack))
    }
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
        if self.sweep.as_ref().is_some_and(|s| s.values.is_empty()) {
            return Err("sweep has no values".into());
        }
        for arm in &self.arms {
            let ok = !arm.name.is_empty()
                && arm.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !ok {
                return Err(format!("arm name `{}`: use letters, digits, - and _", arm.name));
            }
            if arm.name == corruptencoder_report::RANDOM_ENCODER {
                return Err(format!(
                    "arm name `{}` is the baseline's, added to every report",
                    arm.name
                ));
            }
            self.validate_arm(arm)?;
        }
        self.validate_data()?;
        self.report.validate(&self.arms.iter().map(|a| a.name.as_str()).collect::<Vec<_>>())?;
        self.eval.classifier.validate().map_err(|e| format!("eval.classifier: {e}"))?;
        let templates = &self.eval.zero_shot_templates;
        if templates.is_empty() || templates.iter().any(|t| !t.contains("{class}")) {
            return Err("eval.zero_shot_templates: give at least one, each with `{class}`".into());
        }
        self.pretrain.validate().map_err(|e| e.to_string())
    }

    fn validate_arm(&self, arm: &ArmConfig) -> std::result::Result<(), String> {
        let Some(attack) = &arm.attack else { return Ok(()) };
        let in_arm = |e: String| format!("arm `{}`: {e}", arm.name);
        if matches!(self.pretrain.method, MethodConfig::Clip(_)) && !attack.is_image_text() {
            return Err(in_arm(format!(
                "{} makes images without captions; CLIP pre-training takes the image-text \
                 attacks (clip-carlini, clip-corruptencoder)",
                attack.name()
            )));
        }
        for (_, shared, attack) in self.sweep_points(attack).map_err(in_arm)? {
            attack.validate().map_err(|e| in_arm(e.to_string()))?;
            if !(shared.poison_ratio.is_finite() && shared.poison_ratio > 0.0) {
                return Err(format!("poison_ratio {} must be positive", shared.poison_ratio));
            }
            if shared.references == 0 {
                return Err("attack.references must be at least 1".into());
            }
        }
        if let DataConfig::Files(f) = &self.data {
            attack
                .check_sources(&f.sources())
                .map_err(|e| in_arm(format!("{e} (set it under [data])")))?;
        }
        Ok(())
    }

    fn validate_data(&self) -> std::result::Result<(), String> {
        let DataConfig::Synthetic(s) = &self.data else { return Ok(()) };
        let (t, size) = (&self.eval.transform, s.world.size);
        // The SPEC 7 default (256 -> 224) is for photos; it would blow up small images.
        if t.resize > size || t.crop > size {
            return Err(format!(
                "eval.transform (resize {}, crop {}) does not fit the {size} px synthetic \
                 images: set transform = {{ resize = 0, crop = {size} }}",
                t.resize, t.crop
            ));
        }
        if self.attack.target >= s.world.classes {
            return Err(format!(
                "attack.target {} is not one of the {} synthetic classes",
                self.attack.target, s.world.classes
            ));
        }
        if matches!(self.pretrain.method, MethodConfig::Clip(_)) {
            // The attacks' captions must name the target as the clean captions and the
            // zero-shot prompts do, or the poisons teach nothing about it.
            let names = corruptencoder_data::SyntheticSet::new(s.world.clone())
                .map_err(|e| e.to_string())?
                .class_names();
            let target = &names[self.attack.target];
            for arm in &self.arms {
                let class = match &arm.attack {
                    Some(AttackConfig::ClipCarlini(c)) => &c.class_name,
                    Some(AttackConfig::ClipCorruptencoder(c)) => &c.class_name,
                    _ => continue,
                };
                if class != target {
                    return Err(format!(
                        "arm `{}`: class_name `{class}` is not the target's name in the \
                         synthetic captions; set class_name = \"{target}\"",
                        arm.name
                    ));
                }
            }
        }
        Ok(())
    }

    /// The sweep points of an attack arm: the swept value (`None`: no sweep), the shared
    /// settings and the arm's attack at that value.
    pub fn sweep_points(
        &self,
        attack: &AttackConfig,
    ) -> std::result::Result<Vec<SweepValue>, String> {
        match &self.sweep {
            None => Ok(vec![(None, self.attack.clone(), attack.clone())]),
            Some(s) => s
                .values
                .iter()
                .map(|&v| s.apply(&self.attack, attack, v).map(|(a, c)| (Some(v), a, c)))
                .collect(),
        }
    }

    /// The largest value of a shared setting over the sweep (`references`, `poison_ratio`).
    pub(crate) fn max_shared(&self, get: impl Fn(&AttackSettings) -> f64) -> f64 {
        let mut best = get(&self.attack);
        if let Some(s) = &self.sweep {
            for &v in &s.values {
                let mut a = self.attack.clone();
                match s.parameter.as_str() {
                    "poison_ratio" => a.poison_ratio = v,
                    "references" => a.references = v as usize,
                    _ => {}
                }
                best = best.max(get(&a));
            }
        }
        best
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
