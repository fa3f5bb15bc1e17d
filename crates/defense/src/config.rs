//! The defense registry: [`DefenseConfig`], one serde-tagged variant per defense carrying
//! its settings; its `match`es are the only place that names each defense.
use serde::{Deserialize, Serialize};

use crate::base::Defense;
use crate::localized_cropping::{LocalizedCropping, LocalizedCroppingConfig};

/// The defense and its settings, tagged by `kind` in TOML
/// (`defense = { kind = "localized-cropping" }`). A new defense is one file implementing
/// [`Defense`] plus one variant here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DefenseConfig {
    /// Localized cropping (method.md section 6): both views from one small region.
    LocalizedCropping(LocalizedCroppingConfig),
}

impl DefenseConfig {
    /// Every defense with its default settings, in the order help texts list them.
    pub fn all() -> Vec<Self> {
        vec![Self::LocalizedCropping(LocalizedCroppingConfig::default())]
    }

    /// The `kind` tags of every defense.
    pub fn names() -> Vec<&'static str> {
        Self::all().iter().map(Self::name).collect()
    }

    /// The default settings of the defense named `name` (the `kind` tag).
    pub fn named(name: &str) -> Option<Self> {
        Self::all().into_iter().find(|d| d.name() == name)
    }

    /// The `kind` tag.
    pub fn name(&self) -> &'static str {
        match self {
            Self::LocalizedCropping(_) => "localized-cropping",
        }
    }

    /// The settings as the report states them, in one line.
    pub fn describe(&self) -> String {
        match self {
            Self::LocalizedCropping(c) => c.describe(),
        }
    }

    /// The defense.
    pub fn build(&self) -> Box<dyn Defense> {
        match self {
            Self::LocalizedCropping(c) => Box::new(LocalizedCropping::new(c.clone())),
        }
    }
}
