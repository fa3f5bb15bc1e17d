//! The options of CorruptEncoder (method.md section 3): counts, sizes, margins, the area ratio
//! (fixed or the layout theory's optimum) and the layouts drawn from.
use corruptencoder_augment::{CropPolicy, LocalizedCrop};
use corruptencoder_core::SettingError;
use serde::{Deserialize, Serialize};

use crate::target::{DEFAULT_POISONS, MAX_POISONS};

/// Which layouts the generator draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layouts {
    /// Object left or right, as the released code (default).
    #[default]
    Horizontal,
    /// Also object at the top or bottom, as the paper's analysis covers.
    All,
}

/// Where the trigger goes in the free part of a poison (the background beside the object).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TriggerPlacement {
    /// Uniform in the centre area of the free part, inside the trigger margins, as the
    /// released code (default; method.md section 3, step 7).
    #[default]
    Centred,
    /// Against the object: the trigger's near edge touches the object's box along the
    /// layout axis, centred across it. The layout theory's optimum for square views
    /// (`corruptencoder_theory::optimal_square_layout`): a view that holds the whole
    /// trigger then reaches furthest into the object, so more view pairs hold object and
    /// trigger (0.70 vs 0.39 in the theory crate's Monte Carlo for the centred rule).
    /// Our own option, not the authors'.
    AgainstObject,
}

/// Background-to-object size ratio along the layout's long axis.
///
/// In TOML: a number, or `"optimal"` for the layout theory's optimum per reference under
/// standard crops, or `"optimal-localized"` under localized cropping (method.md section 4).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AreaRatio {
    /// A fixed ratio (the authors' default is 2).
    Fixed(f64),
    /// The ratio that maximises the poisoned-pair probability under `crops`, computed per
    /// reference object by [`corruptencoder_theory::optimal_area_ratio`].
    Optimal {
        /// The crop policy the optimum is computed for.
        crops: CropPolicy,
    },
}

impl Default for AreaRatio {
    fn default() -> Self {
        Self::Fixed(2.0)
    }
}

impl std::str::FromStr for AreaRatio {
    type Err = SettingError;
    fn from_str(s: &str) -> std::result::Result<Self, SettingError> {
        match s {
            "optimal" => Ok(Self::Optimal { crops: CropPolicy::default() }),
            "optimal-localized" => {
                Ok(Self::Optimal { crops: CropPolicy::Localized(LocalizedCrop::default()) })
            }
            _ => s.parse::<f64>().map(Self::Fixed).map_err(|_| {
                SettingError::new("area_ratio", s, "not a number, `optimal` or `optimal-localized`")
            }),
        }
    }
}

impl Serialize for AreaRatio {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Self::Fixed(r) => ser.serialize_f64(*r),
            Self::Optimal { crops: CropPolicy::Standard(_) } => ser.serialize_str("optimal"),
            Self::Optimal { crops: CropPolicy::Localized(_) } => {
                ser.serialize_str("optimal-localized")
            }
        }
    }
}

impl<'de> Deserialize<'de> for AreaRatio {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f64),
            Name(String),
        }
        match Raw::deserialize(de)? {
            Raw::Number(r) => Ok(Self::Fixed(r)),
            Raw::Name(n) => n.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// Options of the CorruptEncoder generator. Defaults are the authors' (method.md section 3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorruptEncoderConfig {
    /// Number of poisoned images N (650).
    /// Set by the budget (the command line's count or ratio, an experiment's
    /// `poison_ratio`), so not a setting in files.
    #[serde(skip)]
    pub num_poisons: usize,
    /// Trigger side in pixels (40).
    pub trigger_size: u32,
    /// Poison width / object width (2).
    pub area_ratio: AreaRatio,
    /// Largest poison side; objects are at most half of it (800).
    pub max_size: u32,
    /// Band at the edge the object is placed in, as a fraction of the poison (0.05).
    pub object_marginal: f64,
    /// Margins of the trigger area: half along the layout axis, all across it (0.25).
    pub trigger_marginal: f64,
    /// Fraction of poisons that are CorruptEncoder+ support images (0; 0.2 gives CE+).
    pub support_ratio: f64,
    /// Layouts drawn from.
    pub layouts: Layouts,
    /// Where the trigger goes in the free part (default: the authors' centred rule).
    pub trigger_placement: TriggerPlacement,
}

impl Default for CorruptEncoderConfig {
    fn default() -> Self {
        Self {
            num_poisons: DEFAULT_POISONS,
            trigger_size: 40,
            area_ratio: AreaRatio::default(),
            max_size: 800,
            object_marginal: 0.05,
            trigger_marginal: 0.25,
            support_ratio: 0.0,
            layouts: Layouts::Horizontal,
            trigger_placement: TriggerPlacement::Centred,
        }
    }
}

impl CorruptEncoderConfig {
    /// Checks ranges before any work starts.
    pub fn validate(&self) -> std::result::Result<(), SettingError> {
        let bad = |key, value: &dyn std::fmt::Display, problem: &str| {
            Err(SettingError::new(key, value, problem))
        };
        if let AreaRatio::Fixed(r) = self.area_ratio
            && !(r.is_finite() && r > 1.0)
        {
            return bad("area_ratio", &r, "must be a number above 1");
        }
        if self.trigger_size == 0 {
            return bad("trigger_size", &0, "must be at least 1");
        }
        if self.max_size < 2 {
            return bad("max_size", &self.max_size, "must be at least 2");
        }
        if !(0.0..0.5).contains(&self.object_marginal) {
            return bad("object_marginal", &self.object_marginal, "must be in [0, 0.5)");
        }
        if !(0.0..1.0).contains(&self.trigger_marginal) {
            return bad("trigger_marginal", &self.trigger_marginal, "must be in [0, 1)");
        }
        if !(0.0..=1.0).contains(&self.support_ratio) {
            return bad("support_ratio", &self.support_ratio, "must be in [0, 1]");
        }
        if self.num_poisons > MAX_POISONS {
            let problem = format!("must be at most {MAX_POISONS}");
            return bad("num_poisons", &self.num_poisons, &problem);
        }
        Ok(())
    }

    /// Number of support images among the N poisons (the last ones).
    pub fn num_support(&self) -> usize {
        (self.num_poisons as f64 * self.support_ratio) as usize
    }
}
