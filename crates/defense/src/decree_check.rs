//! DECREE as a defense arm: it changes nothing of pre-training and hands the pipeline its
//! settings for the inspection after it.
use crate::base::Defense;
use crate::decree::DecreeConfig;

/// Encoder inspection by DECREE.
pub(crate) struct DecreeCheck {
    config: DecreeConfig,
}

impl DecreeCheck {
    pub(crate) fn new(config: DecreeConfig) -> Self {
        Self { config }
    }
}

impl Defense for DecreeCheck {
    fn name(&self) -> &'static str {
        "decree"
    }

    fn inverts_trigger(&self) -> Option<&DecreeConfig> {
        Some(&self.config)
    }
}
