use std::path::Path;

use corruptencoder_augment::ViewRecipe;
use corruptencoder_core::{IoError, SettingError};
use serde::{Deserialize, Serialize};

use crate::encoder::EncoderConfig;
use crate::error::{Error, Result};
use crate::method::MethodConfig;
use crate::optim::OptimConfig;
use crate::run::icutmix::ICutMixConfig;
use crate::run::monitor::MonitorConfig;

/// Everything that decides a pre-training run; written as `config.toml` beside the outputs
/// (the `[pretrain]` table of an experiment file). Defaults: method.md section 6.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PretrainConfig {
    /// Seed of every random stream: weights, queue, data order, views.
    pub seed: u64,
    /// Epochs (method.md section 6: 200).
    pub epochs: usize,
    /// Images per step; each yields two views (method.md section 6: 256).
    pub batch_size: usize,
    /// Fail on the first unreadable image instead of skipping it.
    pub strict: bool,
    /// Batches prepared ahead of the training step.
    pub prefetch: usize,
    /// Decoded images kept in memory, in MiB; beyond it images are re-read each epoch.
    pub cache_mib: u64,
    /// Also write a TensorBoard event file (`events.out.tfevents.corruptencoder`) of the
    /// loss, learning rate and monitor beside `log.jsonl`. Off by default and then left out
    /// of written configurations, so existing experiment files keep their exact text.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tensorboard: bool,
    /// Optimizer and schedule.
    pub optim: OptimConfig,
    /// Encoder.
    pub encoder: EncoderConfig,
    /// Views (size, crops standard/localized, augmentations).
    pub views: ViewRecipe,
    /// The training monitor (kNN CA and ASR every few epochs); off by default.
    pub monitor: MonitorConfig,
    /// i-CutMix on the first views (a defense, `run/icutmix.rs`); off by default and then
    /// left out of written configurations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icutmix: Option<ICutMixConfig>,
    /// Method and its settings (kept last: TOML tables follow plain values).
    pub method: MethodConfig,
}

impl Default for PretrainConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            epochs: 200,
            batch_size: 256,
            strict: false,
            prefetch: 2,
            cache_mib: 2048,
            tensorboard: false,
            optim: OptimConfig::default(),
            encoder: EncoderConfig::default(),
            views: ViewRecipe::default(),
            monitor: MonitorConfig::default(),
            icutmix: None,
            method: MethodConfig::default(),
        }
    }
}

impl PretrainConfig {
    /// Checks values that would otherwise fail deep inside training.
    pub fn validate(&self) -> std::result::Result<(), SettingError> {
        let fail = |key, value: &dyn std::fmt::Display, problem| {
            Err(SettingError::new(key, value, problem))
        };
        if self.epochs == 0 {
            return fail("epochs", &0, "must be at least 1");
        }
        if self.batch_size < 2 {
            let problem = "must be at least 2: batch norm and contrastive losses need pairs";
            return fail("batch_size", &self.batch_size, problem);
        }
        if self.views.size == 0 {
            return fail("views.size", &0, "must be at least 1");
        }
        if self.encoder.width == 0 {
            return fail("encoder.width", &0, "must be at least 1");
        }
        if !(self.optim.lr.is_finite() && self.optim.lr > 0.0) {
            return fail("optim.lr", &self.optim.lr, "must be positive");
        }
        if let Some(mix) = &self.icutmix {
            mix.validate().map_err(|e| e.within("icutmix"))?;
            if self.method.is_image_text() {
                let problem = "does not take i-CutMix (`icutmix`), which mixes the views of \
                               image-only contrastive methods";
                return fail("method.name", &self.method.name(), problem);
            }
        }
        self.method.validate(self.batch_size).map_err(|e| e.within("method"))
    }

    /// The TOML text of this configuration.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("configuration serialises to TOML")
    }

    /// Reads a configuration a user wrote (or handed over): a setting left out takes its
    /// default.
    pub fn from_toml_file(path: &Path) -> Result<Self> {
        let text = fs_err::read_to_string(path).map_err(IoError::at("read configuration", path))?;
        toml::from_str(&text)
            .map_err(|source| Error::ParseConfig { path: path.to_path_buf(), source })
    }

    /// Reads the configuration a run folder recorded ([`PretrainConfig::to_toml`] of its
    /// run, by this version or an earlier one): a setting added since reads as what the run
    /// used ([`MethodConfig::upgrade_stored`]), not as today's default.
    pub fn from_stored_toml_file(path: &Path) -> Result<Self> {
        let text = fs_err::read_to_string(path).map_err(IoError::at("read configuration", path))?;
        let parse_error = |source| Error::ParseConfig { path: path.to_path_buf(), source };
        let mut table: toml::Table = toml::from_str(&text).map_err(parse_error)?;
        MethodConfig::upgrade_stored(&mut table);
        toml::Value::Table(table).try_into().map_err(parse_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method::{MocoV2Config, SimclrConfig};

    #[test]
    fn toml_round_trips_and_defaults_are_spec_values() {
        let mut c = PretrainConfig::default();
        assert_eq!((c.optim.lr, c.batch_size, c.epochs), (0.06, 256, 200));
        let MethodConfig::MocoV2(m) = &c.method else { panic!("default is MoCo-v2") };
        assert_eq!((m.queue_size, m.momentum, m.temperature), (65536, 0.999, 0.2));
        c.method = MethodConfig::Simclr(SimclrConfig::default());
        let back: PretrainConfig = toml::from_str(&c.to_toml()).unwrap();
        assert_eq!(back, c);
        assert!(c.to_toml().contains("name = \"simclr\""));
    }

    #[test]
    fn tensorboard_is_written_only_when_on() {
        let mut c = PretrainConfig::default();
        assert!(!c.to_toml().contains("tensorboard"));
        c.tensorboard = true;
        let text = c.to_toml();
        assert!(text.contains("tensorboard = true"), "{text}");
        assert_eq!(toml::from_str::<PretrainConfig>(&text).unwrap(), c);
    }

    #[test]
    fn stored_configs_read_moco_tables_without_split_bn_as_passes_at_any_depth() {
        let text = r#"
            [method]
            name = "moco-v2"

            [[arms]]
            name = "moco-v2"

            [arms.pretrain.method]
            name = "moco-v2"

            [[arms]]
            name = "named"

            [arms.pretrain.method]
            name = "moco-v2"
            split_bn = "batch-norm"
        "#;
        let mut table: toml::Table = toml::from_str(text).unwrap();
        MethodConfig::upgrade_stored(&mut table);
        fn split(t: &toml::Table) -> Option<&str> {
            t.get("split_bn").and_then(toml::Value::as_str)
        }
        assert_eq!(split(table["method"].as_table().unwrap()), Some("passes"));
        let arms = table["arms"].as_array().unwrap();
        let arm = |i: usize| arms[i].as_table().unwrap();
        let method = |i: usize| arm(i)["pretrain"]["method"].as_table().unwrap();
        assert_eq!(split(arm(0)), None, "an arm named like the method is no method table");
        assert_eq!((split(method(0)), split(method(1))), (Some("passes"), Some("batch-norm")));
    }

    #[test]
    fn a_run_folders_config_reads_as_run_and_a_users_file_takes_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let config = PretrainConfig::default();
        let path = dir.path().join("config.toml");
        fs_err::write(&path, config.to_toml()).unwrap();
        assert_eq!(PretrainConfig::from_stored_toml_file(&path).unwrap(), config);
        assert_eq!(PretrainConfig::from_toml_file(&path).unwrap(), config);
        // The same file as written before `split_bn` existed.
        let old = config.to_toml().replace("split_bn = \"batch-norm\"\n", "");
        assert_ne!(old, config.to_toml());
        fs_err::write(&path, old).unwrap();
        assert_eq!(PretrainConfig::from_toml_file(&path).unwrap(), config);
        let stored = PretrainConfig::from_stored_toml_file(&path).unwrap();
        let MethodConfig::MocoV2(m) = stored.method else { panic!("MoCo-v2") };
        assert_eq!(m.split_bn, crate::method::SplitBn::Passes);
        fs_err::write(&path, "epochs = [").unwrap();
        let err = PretrainConfig::from_stored_toml_file(&path).unwrap_err().to_string();
        assert!(err.contains("config.toml"), "{err}");
    }

    #[test]
    fn validation_names_the_problem() {
        let c = PretrainConfig {
            batch_size: 100,
            method: MethodConfig::MocoV2(MocoV2Config::default()),
            ..Default::default()
        };
        let err = c.validate().unwrap_err().to_string();
        assert!(
            err.starts_with("method.queue_size = 65536: ")
                && err.contains("multiple of the batch size 100"),
            "{err}"
        );
    }
}
