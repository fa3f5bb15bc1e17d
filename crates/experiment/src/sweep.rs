//! The sweep: one parameter set to each of its values, for every attack arm.
use corruptencoder_core::SettingError;
use corruptencoder_poison::AttackConfig;

use crate::config::{AttackSettings, ExperimentConfig, SweepConfig, SweepValue};

impl SweepConfig {
    /// The shared settings and the arm's attack with the parameter set to `value`; a
    /// parameter the attack has no setting for is an error naming `sweep.parameter`.
    pub fn apply(
        &self,
        shared: &AttackSettings,
        attack: &AttackConfig,
        value: f64,
    ) -> Result<(AttackSettings, AttackConfig), SettingError> {
        let (mut shared, mut attack) = (shared.clone(), attack.clone());
        match self.parameter.as_str() {
            "poison_ratio" => shared.poison_ratio = value,
            "references" => shared.references = value as usize,
            field => attack.set_field(field, value).map_err(|e| {
                let problem = format!("{}: {}", e.value, e.problem);
                SettingError::new("sweep.parameter", field, problem)
            })?,
        }
        Ok((shared, attack))
    }
}

impl ExperimentConfig {
    /// The sweep points of an attack arm: the swept value (`None`: no sweep), the shared
    /// settings and the arm's attack at that value.
    pub fn sweep_points(&self, attack: &AttackConfig) -> Result<Vec<SweepValue>, SettingError> {
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
