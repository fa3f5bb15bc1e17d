//! The attack registry: [`AttackConfig`], one serde-tagged variant per attack carrying its
//! own settings, and [`make_poisons`], the stage the CLI and the experiment runner both
//! call. The inputs attacks draw on are in `inputs.rs`.
//!
//! A new attack is one file under `attack/` plus one variant here with its arms in the
//! `match`es below (the only place that names each attack); it is then an experiment arm
//! and `poison from-file` runs it.
use corruptencoder_core::{Progress, SettingError, set_number};
use corruptencoder_data::ImageLimits;
use serde::{Deserialize, Serialize};

use super::base::Attack;
use super::clip_carlini::{ClipCarlini, ClipCarliniConfig};
use super::clip_corrupt_encoder::{
    ClipCorruptEncoder, ClipCorruptEncoderConfig, reference_objects,
};
use super::corrupt_encoder::{CorruptEncoder, CorruptEncoderConfig};
use super::ctrl::{Ctrl, CtrlConfig};
use super::inputs::{AttackInputs, AttackSources, Input};
use super::poisoned_encoder::{PoisonedEncoder, PoisonedEncoderConfig};
use super::ssl_backdoor::{SslBackdoor, SslBackdoorConfig};
use crate::error::Result;
use crate::output::{OutputOptions, PoisonSummary, write_poison_set};
use crate::target::TargetImages;

/// Which attack, with its settings; tagged by `kind` in TOML
/// (`attack = { kind = "corruptencoder", trigger_size = 24 }`). Unset fields take the
/// authors' defaults. The number of poisons is not set here but by the budget
/// ([`make_poisons`]'s `poisons`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AttackConfig {
    /// CorruptEncoder; with `support_ratio > 0`, CorruptEncoder+ (method.md section 3).
    Corruptencoder(CorruptEncoderConfig),
    /// SSL-Backdoor (method.md section 5).
    SslBackdoor(SslBackdoorConfig),
    /// CTRL (method.md section 5).
    Ctrl(CtrlConfig),
    /// PoisonedEncoder (method.md section 5).
    PoisonedEncoder(PoisonedEncoderConfig),
    /// Carlini & Terzis for CLIP: triggered images with target-class captions.
    ClipCarlini(ClipCarliniConfig),
    /// CorruptEncoder for CLIP: reference objects and triggered images, captioned.
    ClipCorruptencoder(ClipCorruptEncoderConfig),
}

impl AttackConfig {
    /// Every attack with its default settings, in the order help texts list them.
    pub fn all() -> Vec<Self> {
        vec![
            Self::Corruptencoder(CorruptEncoderConfig::default()),
            Self::SslBackdoor(SslBackdoorConfig::default()),
            Self::Ctrl(CtrlConfig::default()),
            Self::PoisonedEncoder(PoisonedEncoderConfig::default()),
            Self::ClipCarlini(ClipCarliniConfig::default()),
            Self::ClipCorruptencoder(ClipCorruptEncoderConfig::default()),
        ]
    }

    /// The `kind` tags of every attack.
    pub fn names() -> Vec<&'static str> {
        Self::all().iter().map(Self::name).collect()
    }

    /// The default settings of the attack named `name` (the `kind` tag).
    pub fn named(name: &str) -> Option<Self> {
        Self::all().into_iter().find(|a| a.name() == name)
    }

    /// The settings as the report states them: the attack's table, as JSON.
    pub fn describe(&self) -> String {
        serde_json::to_string(self).expect("attack settings serialise")
    }

    /// The `kind` tag (`corruptencoder-plus` for CorruptEncoder with support images).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Corruptencoder(c) if c.support_ratio > 0.0 => "corruptencoder-plus",
            Self::Corruptencoder(_) => "corruptencoder",
            Self::SslBackdoor(_) => "ssl-backdoor",
            Self::Ctrl(_) => "ctrl",
            Self::PoisonedEncoder(_) => "poisoned-encoder",
            Self::ClipCarlini(_) => "clip-carlini",
            Self::ClipCorruptencoder(_) => "clip-corruptencoder",
        }
    }

    /// Whether the poisons are image-caption pairs (`captions.csv`) for image-text
    /// pre-training.
    pub fn is_image_text(&self) -> bool {
        matches!(self, Self::ClipCarlini(_) | Self::ClipCorruptencoder(_))
    }

    /// The inputs the attack needs.
    pub fn needs(&self) -> Vec<Input> {
        use Input::*;
        match self {
            Self::Corruptencoder(c) if c.support_ratio > 0.0 => {
                vec![References, Backgrounds, Supports, Trigger]
            }
            Self::Corruptencoder(_) => vec![References, Backgrounds, Trigger],
            Self::SslBackdoor(_) => vec![TargetImages, Trigger],
            Self::Ctrl(_) => vec![TargetImages],
            Self::PoisonedEncoder(_) => vec![ReferenceImages, Backgrounds, Trigger],
            Self::ClipCarlini(_) => vec![Backgrounds, Trigger],
            Self::ClipCorruptencoder(_) => vec![References, Backgrounds, Trigger],
        }
    }

    /// Checks that `sources` name every input the attack needs.
    pub fn check_sources(&self, sources: &AttackSources) -> Result<()> {
        sources.check(self.name(), &self.needs())
    }

    /// Loads what the attack needs from `sources` (a missing source is an error).
    pub fn load_inputs(
        &self,
        sources: &AttackSources,
        limits: &ImageLimits,
    ) -> Result<AttackInputs> {
        sources.load(self.name(), &self.needs(), limits)
    }

    /// Checks the settings that need no input, before anything is loaded.
    pub fn validate(&self) -> std::result::Result<(), SettingError> {
        match self {
            Self::Corruptencoder(c) => c.validate(),
            Self::Ctrl(c) => c.validate(),
            _ => Ok(()),
        }
    }

    /// The input of [`needs`](Self::needs) that `sources` lacks, by its field name.
    pub fn missing_input(&self, sources: &AttackSources) -> Option<&'static str> {
        self.needs().into_iter().find(|&i| !sources.has(i)).map(Input::field)
    }

    /// Whether the attack's trigger is CTRL's frequency trigger, so that its triggered test
    /// set carries that trigger instead of the patch.
    pub fn triggers_by_frequency(&self) -> bool {
        matches!(self, Self::Ctrl(_))
    }

    /// The settings the layout theory's figures are drawn for: CorruptEncoder's, whose
    /// poisons follow that theory.
    pub fn layout_theory(&self) -> Option<&CorruptEncoderConfig> {
        match self {
            Self::Corruptencoder(c) => Some(c),
            _ => None,
        }
    }

    /// The class the poisons' captions name, for image-text attacks.
    pub fn caption_class(&self) -> Option<&str> {
        match self {
            Self::ClipCarlini(c) => Some(&c.class_name),
            Self::ClipCorruptencoder(c) => Some(&c.class_name),
            _ => None,
        }
    }

    /// Sets the field `field` of the attack's settings to `value` (an experiment sweep).
    /// Integral values fill integer fields.
    pub fn set_field(&mut self, field: &str, value: f64) -> std::result::Result<(), SettingError> {
        let name = self.name();
        set_number(self, ("kind", name), field, value)
    }

    /// Builds the attack for `poisons` poisons from loaded `inputs`; `seed` picks the
    /// target images of the attacks that poison distinct ones.
    pub fn build(&self, inputs: &AttackInputs, poisons: usize, seed: u64) -> Result<BuiltAttack> {
        let mut resolved = toml::Table::new();
        let attack = self.build_attack(inputs, poisons, seed, &mut resolved)?;
        Ok(BuiltAttack { attack, resolved })
    }

    fn build_attack(
        &self,
        inputs: &AttackInputs,
        poisons: usize,
        seed: u64,
        resolved: &mut toml::Table,
    ) -> Result<Box<dyn Attack>> {
        self.validate()?;
        let limits = inputs.limits;
        let trigger = |size: u32| inputs.trigger()?.load(size, &limits);
        let targets = || inputs.target_images()?.clone().choose(poisons, seed);
        Ok(match self {
            Self::Corruptencoder(c) => {
                let c = CorruptEncoderConfig { num_poisons: poisons, ..c.clone() };
                let supports =
                    if c.num_support() > 0 { inputs.supports.clone() } else { Vec::new() };
                let n_ce = c.num_poisons - c.num_support();
                if n_ce > inputs.backgrounds.len() {
                    log::warn!(
                        "{n_ce} poisons but {} backgrounds: backgrounds are reused in cycles",
                        inputs.backgrounds.len()
                    );
                }
                let trigger = trigger(c.trigger_size)?;
                let bgs = inputs.backgrounds.clone();
                let ce =
                    CorruptEncoder::new(c, &inputs.references, bgs, supports, trigger, limits)?;
                let mut ratios = toml::Table::new();
                for (name, h, v) in ce.area_ratios() {
                    log::debug!("reference {name}: area ratio {h:.3} (vertical layouts {v:.3})");
                    ratios.insert(name, toml::Value::Array(vec![h.into(), v.into()]));
                }
                resolved.insert("area_ratios".into(), ratios.into());
                Box::new(ce)
            }
            Self::SslBackdoor(c) => {
                let trigger = inputs.trigger()?.load_width(c.trigger_width, &limits)?;
                Box::new(SslBackdoor::new(c.clone(), targets()?, trigger, limits)?)
            }
            Self::Ctrl(c) => Box::new(Ctrl::new(c.clone(), targets()?, limits)?),
            Self::PoisonedEncoder(c) => {
                let c = PoisonedEncoderConfig { num_poisons: poisons, ..c.clone() };
                let from = "reference images";
                let refs = TargetImages::from_files(inputs.reference_images.clone(), from);
                let trigger = trigger(c.trigger_size)?;
                let bgs = inputs.backgrounds.clone();
                Box::new(PoisonedEncoder::new(c, refs, bgs, trigger, limits)?)
            }
            Self::ClipCarlini(c) => {
                let c = ClipCarliniConfig { num_poisons: poisons, ..c.clone() };
                let trigger = trigger(c.trigger_size)?;
                Box::new(ClipCarlini::new(c, inputs.backgrounds.clone(), trigger, limits)?)
            }
            Self::ClipCorruptencoder(c) => {
                let c = ClipCorruptEncoderConfig { num_poisons: poisons, ..c.clone() };
                let objects = reference_objects(&inputs.references);
                let trigger = trigger(c.trigger_size)?;
                let bgs = inputs.backgrounds.clone();
                Box::new(ClipCorruptEncoder::new(c, objects, bgs, trigger, limits)?)
            }
        })
    }
}

/// A built attack and what it resolved from its inputs (CorruptEncoder's area ratio per
/// reference: `[horizontal, vertical]`), recorded in the poison folder's `config.toml`.
pub struct BuiltAttack {
    /// The attack.
    pub attack: Box<dyn Attack>,
    /// Resolved settings, as the `[resolved]` table.
    pub resolved: toml::Table,
}

/// The poison stage: builds `attack` for `poisons` poisons and writes its output folder.
pub fn make_poisons(
    attack: &AttackConfig,
    inputs: &AttackInputs,
    poisons: usize,
    opts: &OutputOptions,
    progress: &dyn Progress,
) -> Result<PoisonSummary> {
    let built = attack.build(inputs, poisons, opts.seed)?;
    let mut opts = opts.clone();
    if !built.resolved.is_empty() {
        let table = toml::Table::from_iter([("resolved".to_owned(), built.resolved.into())]);
        opts.config_toml +=
            &format!("\n{}", toml::to_string_pretty(&table).expect("tables serialise"));
    }
    write_poison_set(built.attack.as_ref(), &opts, progress)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_toml() {
        let names = AttackConfig::names();
        assert_eq!(names.len(), 6);
        for name in names {
            let c = AttackConfig::named(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(c.name(), name);
            let text = toml::to_string(&c).unwrap();
            assert_eq!(toml::from_str::<AttackConfig>(&text).unwrap(), c, "{text}");
        }
        assert!(AttackConfig::named("nope").is_none());
    }

    #[test]
    fn sweep_sets_integer_and_float_fields_and_names_unknown_ones() {
        let mut c = AttackConfig::named("corruptencoder").unwrap();
        c.set_field("trigger_size", 12.0).unwrap();
        c.set_field("area_ratio", 2.5).unwrap();
        let AttackConfig::Corruptencoder(ce) = &c else { unreachable!() };
        assert_eq!(ce.trigger_size, 12);
        assert_eq!(ce.area_ratio, crate::AreaRatio::Fixed(2.5));
        let err = c.set_field("trigger_width", 3.0).unwrap_err().to_string();
        assert!(err.contains("trigger_width = 3: `corruptencoder` has no such setting"), "{err}");
        assert!(c.set_field("trigger_size", -1.0).is_err());
    }

    #[test]
    fn missing_inputs_are_named() {
        let c = AttackConfig::named("ssl-backdoor").unwrap();
        let err = c.check_sources(&AttackSources::default()).unwrap_err().to_string();
        assert!(err.contains("target_images"), "{err}");
        let plus: AttackConfig =
            toml::from_str("kind = \"corruptencoder\"\nsupport_ratio = 0.2").unwrap();
        assert_eq!(plus.name(), "corruptencoder-plus");
        assert!(plus.needs().contains(&Input::Supports));
    }
}
