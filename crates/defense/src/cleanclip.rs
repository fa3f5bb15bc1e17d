//! CleanCLIP as a defense arm (Bansal et al., ICCV 2023): pre-training runs as it is, and
//! the pipeline then fine-tunes the image-text model on clean pairs
//! (`corruptencoder_train::finetune_cleanclip`) and scores it before and after.
use corruptencoder_train::CleanClipConfig;

use crate::base::Defense;

/// CleanCLIP fine-tuning with its settings.
#[derive(Debug, Clone)]
pub struct CleanClip {
    config: CleanClipConfig,
}

impl CleanClip {
    /// The defense with `config`.
    pub fn new(config: CleanClipConfig) -> Self {
        Self { config }
    }
}

impl Defense for CleanClip {
    fn name(&self) -> &'static str {
        "cleanclip"
    }

    fn finetunes_clip(&self) -> Option<&CleanClipConfig> {
        Some(&self.config)
    }
}

#[cfg(test)]
mod tests {
    use crate::DefenseConfig;

    #[test]
    fn the_arm_reads_its_settings_by_key_with_the_references_defaults() {
        let c: DefenseConfig = toml::from_str("kind = \"cleanclip\"\nlr = 4e-5").unwrap();
        assert_eq!(c.name(), "cleanclip");
        assert!(c.validate().is_ok() && c.needs_image_text());
        let defense = c.build();
        let settings = defense.finetunes_clip().expect("the hook hands its settings over");
        assert_eq!((settings.lr, settings.epochs, settings.batch_size), (4e-5, 10, 64));
        assert!(defense.detector().is_none() && defense.inverts_trigger().is_none());
        assert!(c.describe().contains("10 epochs of 64"), "{}", c.describe());
        let bad: DefenseConfig =
            toml::from_str("kind = \"cleanclip\"\nwarmup_steps = 5\nlr = -1").unwrap();
        assert_eq!(bad.validate().unwrap_err().to_string(), "lr = -1: must be positive");
        let eda: DefenseConfig =
            toml::from_str("kind = \"cleanclip\"\neda = { swap = 3 }").unwrap();
        assert!(eda.validate().unwrap_err().to_string().starts_with("eda.swap = 3: "));
        assert!(toml::from_str::<DefenseConfig>("kind = \"cleanclip\"\nlambda = 1").is_err());
        let others = DefenseConfig::all().into_iter().filter(|d| d.needs_image_text()).count();
        assert_eq!(others, 1);
    }
}
