//! i-CutMix as a defense (PatchSearch's `--icutmix --alpha 1.0`): pre-training mixes a box
//! of another image into every query view and asks for both images' keys in proportion
//! (`corruptencoder_train`'s `run/icutmix.rs`), so a trigger rarely stays with its object.
use corruptencoder_train::{ICutMixConfig, PretrainConfig};

use crate::base::Defense;

/// i-CutMix with its settings.
#[derive(Debug, Clone)]
pub struct ICutMix {
    config: ICutMixConfig,
}

impl ICutMix {
    /// The defense with `config`.
    pub fn new(config: ICutMixConfig) -> Self {
        Self { config }
    }
}

impl Defense for ICutMix {
    fn name(&self) -> &'static str {
        "i-cutmix"
    }

    fn adjust_pretraining(&self, config: &mut PretrainConfig) {
        config.icutmix = Some(self.config.clone());
    }
}
