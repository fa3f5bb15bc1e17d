//! The experiment file's `[report]` table.
use corruptencoder_core::SettingError;
use serde::{Deserialize, Serialize};

/// The experiment file's `[report]` table: settings of the report alone. They change no
/// run, so an experiment folder is reused whatever they say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportSettings {
    /// An arm every other arm is also compared against, seed by seed (e.g.
    /// `compare = "ssl-backdoor"`); the clean arm is always compared against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compare: Option<String>,
    /// ASR in percent that counts as a formed backdoor: the report counts the seeds at or
    /// above it per arm.
    pub asr_threshold: f64,
}

impl Default for ReportSettings {
    fn default() -> Self {
        Self { compare: None, asr_threshold: 50.0 }
    }
}

impl ReportSettings {
    /// Whether every setting is at its default (the experiment file then needs no table).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// Checks the settings against the experiment's arm names.
    pub fn validate(&self, arms: &[&str]) -> Result<(), SettingError> {
        if !(0.0..=100.0).contains(&self.asr_threshold) {
            let problem = "must be a percentage in 0..=100";
            return Err(SettingError::new("asr_threshold", self.asr_threshold, problem));
        }
        match &self.compare {
            Some(name) if !arms.contains(&name.as_str()) => Err(SettingError::new(
                "compare",
                format!("\"{name}\""),
                format!("not an arm (arms: {})", arms.join(", ")),
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_settings_check_the_threshold_and_the_named_arm() {
        let arms = ["clean", "ce"];
        assert!(ReportSettings::default().validate(&arms).is_ok());
        let bad = ReportSettings { compare: Some("ssl".into()), ..Default::default() };
        let err = bad.validate(&arms).unwrap_err().within("report").to_string();
        assert!(err.contains("report.compare = \"ssl\"") && err.contains("clean, ce"), "{err}");
        let bad = ReportSettings { asr_threshold: 150.0, ..Default::default() };
        assert_eq!(bad.validate(&arms).unwrap_err().key, "asr_threshold");
        assert!(ReportSettings::default().is_default());
    }
}
