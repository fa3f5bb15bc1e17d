//! The checks of an experiment file that would otherwise fail deep inside a run; each
//! error names the setting by its key in the file.
use corruptencoder_core::SettingError;
use corruptencoder_poison::AttackConfig;

use crate::config::{ArmConfig, DataConfig, ExperimentConfig};
use crate::error::Invalid;

impl ExperimentConfig {
    /// Checks what would otherwise fail deep inside a run.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.arms.is_empty() {
            return Err(SettingError::new("arms", "[]", "give at least one [[arms]] table").into());
        }
        if self.seeds.is_empty() {
            return Err(SettingError::new("seeds", "[]", "give at least one seed").into());
        }
        let mut names: Vec<&str> = self.arms.iter().map(|a| a.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(SettingError::new("arms.name", w[0], "two arms have this name").into());
        }
        if self.sweep.as_ref().is_some_and(|s| s.values.is_empty()) {
            return Err(SettingError::new("sweep.values", "[]", "give at least one value").into());
        }
        for arm in &self.arms {
            arm_name(&arm.name)?;
            self.validate_arm(arm).map_err(Invalid::in_arm(&arm.name))?;
        }
        self.validate_data()?;
        let names: Vec<&str> = self.arms.iter().map(|a| a.name.as_str()).collect();
        self.report.validate(&names).map_err(|e| e.within("report"))?;
        self.eval.classifier.validate().map_err(|e| e.within("eval.classifier"))?;
        let templates = &self.eval.zero_shot_templates;
        if templates.is_empty() || templates.iter().any(|t| !t.contains("{class}")) {
            let problem = "give at least one, each with `{class}`";
            let value = format!("{templates:?}");
            return Err(SettingError::new("eval.zero_shot_templates", value, problem).into());
        }
        Ok(self.pretrain.validate().map_err(|e| e.within("pretrain"))?)
    }

    /// The arm's attack at every sweep point, and whether the data gives its inputs.
    fn validate_arm(&self, arm: &ArmConfig) -> Result<(), SettingError> {
        if let Some(defense) = &arm.defense {
            defense.validate().map_err(|e| e.within("defense"))?;
            let method = &self.pretrain.method;
            if defense.needs_image_text() && !method.is_image_text() {
                let problem = format!(
                    "does not take defense `{}`, which fine-tunes an image-text (clip) model",
                    defense.name()
                );
                return Err(SettingError::new("pretrain.method.name", method.name(), problem));
            }
            // What the defense makes of pre-training must still be a valid pre-training.
            let mut adjusted = self.pretrain.clone();
            defense.build().adjust_pretraining(&mut adjusted);
            adjusted.validate().map_err(|e| e.within("pretrain"))?;
        }
        let Some(attack) = &arm.attack else { return Ok(()) };
        if self.pretrain.method.is_image_text() && !attack.is_image_text() {
            let problem = "makes images without captions; image-text pre-training takes the \
                           image-text attacks";
            return Err(SettingError::new("attack.kind", attack.name(), problem));
        }
        for (_, shared, attack) in self.sweep_points(attack)? {
            attack.validate().map_err(|e| e.within("attack"))?;
            if !(shared.poison_ratio.is_finite() && shared.poison_ratio > 0.0) {
                let ratio = shared.poison_ratio;
                return Err(SettingError::new("attack.poison_ratio", ratio, "must be positive"));
            }
            if shared.references == 0 {
                return Err(SettingError::new("attack.references", 0, "must be at least 1"));
            }
        }
        if let DataConfig::Files(f) = &self.data
            && let Some(input) = attack.missing_input(&f.sources())
        {
            let problem = format!("attack `{}` needs it", attack.name());
            return Err(SettingError::new(format!("data.{input}"), "(unset)", problem));
        }
        Ok(())
    }

    fn validate_data(&self) -> Result<(), Invalid> {
        let DataConfig::Synthetic(s) = &self.data else { return Ok(()) };
        let (t, size) = (&self.eval.transform, s.world.size);
        // The photo transform of method.md section 7 (256 -> 224) would blow up small images.
        if t.resize > size || t.crop > size {
            let problem = format!(
                "does not fit the {size} px synthetic images: set transform = \
                 {{ resize = 0, crop = {size} }}"
            );
            let value = format!("{{ resize = {}, crop = {} }}", t.resize, t.crop);
            return Err(SettingError::new("eval.transform", value, problem).into());
        }
        if self.attack.target >= s.world.classes {
            let problem = format!("is not one of the {} synthetic classes", s.world.classes);
            return Err(SettingError::new("attack.target", self.attack.target, problem).into());
        }
        if self.pretrain.method.is_image_text() {
            // The attacks' captions must name the target as the clean captions and the
            // zero-shot prompts do, or the poisons teach nothing about it.
            let names = corruptencoder_data::SyntheticSet::new(s.world.clone())?.class_names();
            let target = &names[self.attack.target];
            for arm in &self.arms {
                let class = arm.attack.as_ref().and_then(AttackConfig::caption_class);
                if let Some(class) = class.filter(|c| c != target) {
                    let problem = format!(
                        "is not the target's name in the synthetic captions; set class_name = \
                         \"{target}\""
                    );
                    let e = SettingError::new("attack.class_name", class, problem);
                    return Err(Invalid::in_arm(&arm.name)(e));
                }
            }
        }
        Ok(())
    }
}

/// An arm's name becomes a folder name and a table row.
fn arm_name(name: &str) -> Result<(), SettingError> {
    let ok =
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        return Err(SettingError::new("arms.name", name, "use letters, digits, - and _"));
    }
    if name == corruptencoder_report::RANDOM_ENCODER {
        let problem = "is the baseline's name, added to every report";
        return Err(SettingError::new("arms.name", name, problem));
    }
    Ok(())
}
