//! Target-class images the baselines poison, and the poisoning budget.
use std::path::PathBuf;
use std::sync::Arc;

use corruptencoder_core::item_rng;
use corruptencoder_data::{Dataset, ImageLimits, class_label, load_rgb, samples_of_class};
use image::RgbImage;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// RNG stream used to choose which target-class images are poisoned.
pub const SELECT_STREAM: u64 = 3;

/// How many poisons to make: a count, or a ratio of the clean pre-training list (SPEC
/// section 2: 650 / ~130k = 0.5%).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Budget {
    /// A fixed number of poisons.
    Count(usize),
    /// Poisons / clean images.
    Ratio(f64),
}

impl Default for Budget {
    fn default() -> Self {
        Self::Count(650)
    }
}

impl std::str::FromStr for Budget {
    type Err = String;
    /// `650` is a count; `0.005` or `0.5%` a ratio.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || format!("`{s}` is neither a count (650) nor a ratio (0.005 or 0.5%)");
        if let Some(pct) = s.strip_suffix('%') {
            return pct.trim().parse::<f64>().map(|p| Self::Ratio(p / 100.0)).map_err(|_| bad());
        }
        if let Ok(n) = s.parse::<usize>() {
            return Ok(Self::Count(n));
        }
        s.parse::<f64>().map(Self::Ratio).map_err(|_| bad())
    }
}

impl Budget {
    /// The number of poisons; a ratio needs the clean list's length and rounds to nearest.
    pub fn resolve(&self, clean_len: Option<usize>) -> Result<usize> {
        match *self {
            Self::Count(n) => Ok(n),
            Self::Ratio(r) if !(r.is_finite() && r > 0.0) => Err(Error::InvalidOption {
                name: "--budget",
                problem: format!("ratio {r} must be positive"),
            }),
            Self::Ratio(r) => match clean_len {
                Some(n) => Ok((r * n as f64).round() as usize),
                None => Err(Error::InvalidOption {
                    name: "--budget",
                    problem: "a ratio needs --clean-list to count the clean images".into(),
                }),
            },
        }
    }
}

#[derive(Debug, Clone)]
enum Origin {
    File(PathBuf),
    Sample(usize),
}

/// Target-class images, from a plain list of files or from one class of a labelled
/// [`Dataset`]. Loaded lazily, one at a time.
#[derive(Debug, Clone)]
pub struct TargetImages {
    dataset: Option<Arc<dyn Dataset>>,
    items: Vec<Origin>,
    from: String,
}

impl TargetImages {
    /// Every file of `paths` is a target-class image; `from` describes them in messages.
    pub fn from_files(paths: Vec<PathBuf>, from: impl Into<String>) -> Self {
        Self {
            dataset: None,
            items: paths.into_iter().map(Origin::File).collect(),
            from: from.into(),
        }
    }

    /// The samples of `class` (a class name, or a label) in `dataset`.
    pub fn from_dataset(dataset: Arc<dyn Dataset>, class: &str) -> Result<Self> {
        let label = class_label(dataset.as_ref(), class)?;
        let items =
            samples_of_class(dataset.as_ref(), label).into_iter().map(Origin::Sample).collect();
        let from = format!("class `{class}` of {}", dataset.path().display());
        Ok(Self { dataset: Some(dataset), items, from })
    }

    /// A random subset of `n` images (seeded), in random order. Asking for more images
    /// than there are is an error, since these attacks poison distinct images.
    pub fn choose(mut self, n: usize, seed: u64) -> Result<Self> {
        if n > self.items.len() || self.items.is_empty() {
            return Err(Error::NotEnoughTargets {
                requested: n,
                available: self.items.len(),
                from: self.from,
            });
        }
        self.items.shuffle(&mut item_rng(seed, SELECT_STREAM, 0));
        self.items.truncate(n);
        Ok(self)
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Loads image `i`.
    pub fn load(&self, i: usize, limits: &ImageLimits) -> Result<RgbImage> {
        Ok(match &self.items[i] {
            Origin::File(p) => load_rgb(p, limits)?,
            Origin::Sample(k) => {
                self.dataset.as_ref().expect("samples have a dataset").load(*k, limits)?
            }
        })
    }

    /// Where image `i` comes from (for the manifest).
    pub fn name(&self, i: usize) -> String {
        match &self.items[i] {
            Origin::File(p) => {
                p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
            }
            Origin::Sample(k) => self.dataset.as_ref().expect("samples have a dataset").source(*k),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_parses_counts_ratios_and_percent() {
        assert_eq!("650".parse::<Budget>().unwrap(), Budget::Count(650));
        assert_eq!("0.005".parse::<Budget>().unwrap(), Budget::Ratio(0.005));
        assert_eq!("0.5%".parse::<Budget>().unwrap(), Budget::Ratio(0.005));
        assert!("lots".parse::<Budget>().is_err());
        assert_eq!(Budget::Ratio(0.005).resolve(Some(130_000)).unwrap(), 650);
        assert!(Budget::Ratio(0.005).resolve(None).is_err());
    }

    #[test]
    fn choosing_more_than_available_names_the_source() {
        let t = TargetImages::from_files(vec!["a.png".into(), "b.png".into()], "folder x");
        let err = t.clone().choose(3, 0).unwrap_err();
        assert!(
            err.to_string().contains("3 poisons") && err.to_string().contains("folder x"),
            "{err}"
        );
        let a = t.clone().choose(2, 5).unwrap();
        let b = t.choose(2, 5).unwrap();
        assert_eq!(
            (0..2).map(|i| a.name(i)).collect::<Vec<_>>(),
            (0..2).map(|i| b.name(i)).collect::<Vec<_>>()
        );
    }
}
