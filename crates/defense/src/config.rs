//! The defense registry: [`DefenseConfig`], one serde-tagged variant per defense carrying
//! its settings; its `match`es are the only place that names each defense.
use serde::{Deserialize, Serialize};

use corruptencoder_core::SettingError;
use corruptencoder_train::{CleanClipConfig, ICutMixConfig};

use crate::base::Defense;
use crate::cleanclip::CleanClip;
use crate::decree::DecreeConfig;
use crate::decree_check::DecreeCheck;
use crate::detect::{Dao, EmbeddingDetectorConfig, KDistance};
use crate::detector_filter::DetectorFilter;
use crate::icutmix::ICutMix;
use crate::localized_cropping::{LocalizedCropping, LocalizedCroppingConfig};
use crate::patch_search::{PatchSearch, PatchSearchConfig};

/// The defense and its settings, tagged by `kind` in TOML
/// (`defense = { kind = "localized-cropping" }`). A new defense is one file implementing
/// [`Defense`] plus one variant here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DefenseConfig {
    /// Localized cropping (method.md section 6): both views from one small region.
    LocalizedCropping(LocalizedCroppingConfig),
    /// i-CutMix during pre-training (`defense = { kind = "i-cutmix", alpha = 1.0 }`):
    /// query views mixed box-wise across the batch, with mixed targets.
    ICutmix(ICutMixConfig),
    /// Pre-training-set filtering by the distance to the k-th neighbour in the poisoned
    /// encoder's embedding space (`defense = { kind = "k-distance", k = 16 }`).
    KDistance(EmbeddingDetectorConfig),
    /// Pre-training-set filtering by DAO, the local density ratio weighted by the
    /// neighbours' intrinsic dimensionality (Huang et al., ICLR 2025).
    Dao(EmbeddingDetectorConfig),
    /// Pre-training-set filtering by PatchSearch (Tejankar et al., CVPR 2023): candidate
    /// trigger patches found by the poisoned encoder's saliency, scored by pasting, and a
    /// poison classifier trained on the top ones (`defense = { kind = "patch-search" }`).
    PatchSearch(PatchSearchConfig),
    /// Encoder-level detection by DECREE's trigger inversion (Feng et al., CCS 2023): the
    /// arm's encoder (the same attack's undefended one when it has finished) is inspected,
    /// not changed (`defense = { kind = "decree" }`).
    Decree(DecreeConfig),
    /// CleanCLIP (Bansal et al., ICCV 2023) after image-text pre-training: the arm's CLIP
    /// model (the same attack's undefended one when it has finished) fine-tuned on clean
    /// pairs with CLIP's loss plus in-modal losses (`defense = { kind = "cleanclip" }`).
    Cleanclip(CleanClipConfig),
}

impl DefenseConfig {
    /// Every defense with its default settings, in the order help texts list them.
    pub fn all() -> Vec<Self> {
        vec![
            Self::LocalizedCropping(LocalizedCroppingConfig::default()),
            Self::ICutmix(ICutMixConfig::default()),
            Self::KDistance(EmbeddingDetectorConfig::default()),
            Self::Dao(EmbeddingDetectorConfig::default()),
            Self::PatchSearch(PatchSearchConfig::default()),
            Self::Decree(DecreeConfig::default()),
            Self::Cleanclip(CleanClipConfig::default()),
        ]
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
            Self::ICutmix(_) => "i-cutmix",
            Self::KDistance(_) => "k-distance",
            Self::Dao(_) => "dao",
            Self::PatchSearch(_) => "patch-search",
            Self::Decree(_) => "decree",
            Self::Cleanclip(_) => "cleanclip",
        }
    }

    /// The settings as the report states them, in one line.
    pub fn describe(&self) -> String {
        match self {
            Self::LocalizedCropping(c) => c.describe(),
            Self::ICutmix(c) => format!(
                "i-CutMix: a box of another image in every query view, lam ~ Beta({0}, {0})",
                c.alpha
            ),
            Self::KDistance(c) => format!("k-distance filtering: {}", c.describe()),
            Self::Dao(c) => format!("DAO filtering: {}", c.describe()),
            Self::PatchSearch(c) => format!("PatchSearch filtering: {}", c.describe()),
            Self::Decree(c) => format!(
                "DECREE trigger inversion on {} clean images, flagged below PL1 {}",
                c.shadow_images, c.pl1_threshold
            ),
            Self::Cleanclip(c) => c.describe(),
        }
    }

    /// Checks the settings; the error names the offending key.
    pub fn validate(&self) -> Result<(), SettingError> {
        match self {
            Self::LocalizedCropping(_) => Ok(()),
            Self::ICutmix(c) => c.validate(),
            Self::KDistance(c) | Self::Dao(c) => c.validate(),
            Self::PatchSearch(c) => c.validate(),
            Self::Decree(c) => c.validate(),
            Self::Cleanclip(c) => c.validate(),
        }
    }

    /// The defense.
    pub fn build(&self) -> Box<dyn Defense> {
        match self {
            Self::LocalizedCropping(c) => Box::new(LocalizedCropping::new(c.clone())),
            Self::ICutmix(c) => Box::new(ICutMix::new(c.clone())),
            Self::KDistance(c) => {
                Box::new(DetectorFilter::new("k-distance", Box::new(KDistance::new(c.clone()))))
            }
            Self::Dao(c) => Box::new(DetectorFilter::new("dao", Box::new(Dao::new(c.clone())))),
            Self::PatchSearch(c) => {
                Box::new(DetectorFilter::new("patch-search", Box::new(PatchSearch::new(c.clone()))))
            }
            Self::Decree(c) => Box::new(DecreeCheck::new(c.clone())),
            Self::Cleanclip(c) => Box::new(CleanClip::new(*c)),
        }
    }

    /// Whether the defense works on image-text (CLIP) models only.
    pub fn needs_image_text(&self) -> bool {
        matches!(self, Self::Cleanclip(_))
    }
}
