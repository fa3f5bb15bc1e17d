use corruptencoder_augment::Crops;
use corruptencoder_train::PretrainConfig;
use serde::{Deserialize, Serialize};

use crate::base::Defense;

/// Settings of localized cropping; the region and view sizes are the view recipe's
/// (`augment::LocalizedCrop`, method.md section 6), so there is nothing to set yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalizedCroppingConfig {}

impl LocalizedCroppingConfig {
    /// The report's line.
    pub fn describe(&self) -> String {
        "localized cropping: the second view drawn from a region around the first".into()
    }
}

/// Localized cropping (method.md section 6): the two views of an image come from one small region,
/// so a view pair rarely holds both the reference object and the trigger.
#[derive(Debug, Clone)]
pub struct LocalizedCropping {
    _config: LocalizedCroppingConfig,
}

impl LocalizedCropping {
    /// The defense with `config`.
    pub fn new(config: LocalizedCroppingConfig) -> Self {
        Self { _config: config }
    }
}

impl Defense for LocalizedCropping {
    fn name(&self) -> &'static str {
        "localized-cropping"
    }

    fn adjust_pretraining(&self, config: &mut PretrainConfig) {
        config.views.crops = Crops::Localized;
    }
}

#[cfg(test)]
mod tests {
    use crate::DefenseConfig;

    #[test]
    fn the_tag_round_trips_and_switches_the_crops() {
        let c: DefenseConfig = toml::from_str("kind = \"localized-cropping\"").unwrap();
        assert_eq!(c.name(), "localized-cropping");
        let d = c.build();
        let mut p = corruptencoder_train::PretrainConfig::default();
        assert_eq!(p.views.crops, corruptencoder_augment::Crops::Standard);
        d.adjust_pretraining(&mut p);
        assert_eq!(p.views.crops, corruptencoder_augment::Crops::Localized);
        let list = std::path::Path::new("list.txt");
        assert!(d.filter_pretraining_set(list, list).unwrap().is_none());
    }
}
