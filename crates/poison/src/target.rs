//! Target-class images the baselines poison, and the poisoning budget.
use std::path::PathBuf;
use std::sync::Arc;

use corruptencoder_core::{SettingError, item_rng};
use corruptencoder_data::{Dataset, ImageLimits, class_label, load_rgb, samples_of_class};
use image::RgbImage;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// RNG stream used to choose which target-class images are poisoned.
pub const SELECT_STREAM: u64 = 3;

/// How many poisons to make: a count, or a ratio of the clean pre-training list (method.md
/// section 2: 650 / ~130k = 0.5%).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Budget {
    /// A fixed number of poisons.
    Count(usize),
    /// Poisons / clean images.
    Ratio(f64),
}

/// The paper's number of poisons: 0.5 % of ImageNet100-A (method.md section 2).
pub const DEFAULT_POISONS: usize = 650;

impl Default for Budget {
    fn default() -> Self {
        Self::Count(DEFAULT_POISONS)
    }
}

impl std::str::FromStr for Budget {
    type Err = SettingError;
    /// `650` is a count; `0.005` or `0.5%` a ratio.
    fn from_str(s: &str) -> std::result::Result<Self, SettingError> {
        let problem = "neither a count (650) nor a ratio (0.005 or 0.5%)";
        let bad = || SettingError::new("num_poisons", s, problem);
        if let Some(pct) = s.strip_suffix('%') {
            return pct.trim().parse::<f64>().map(|p| Self::Ratio(p / 100.0)).map_err(|_| bad());
        }
        if let Ok(n) = s.parse::<usize>() {
            return Ok(Self::Count(n));
        }
        s.parse::<f64>().map(Self::Ratio).map_err(|_| bad())
    }
}

impl std::fmt::Display for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Count(n) => write!(f, "{n}"),
            Self::Ratio(r) => write!(f, "{r}"),
        }
    }
}

/// The most poisons one run makes: far above any study (the paper's 650), low enough that
/// a slip such as `1e12` fails at once instead of writing files for days.
pub const MAX_POISONS: usize = 10_000_000;

impl Budget {
    /// The number of poisons; a ratio needs the clean list's length and rounds to nearest.
    /// Errors (naming `num_poisons`) for no poison at all, a ratio above 1, more poisons
    /// than clean images when the clean list is known, or more than [`MAX_POISONS`].
    pub fn resolve(&self, clean_len: Option<usize>) -> Result<usize> {
        let bad = |problem: String| Err(SettingError::new("num_poisons", self, problem).into());
        let n = match *self {
            Self::Count(0) => return bad("0 poisons would write an empty set".into()),
            Self::Count(n) => n,
            Self::Ratio(r) if !(r.is_finite() && r > 0.0 && r <= 1.0) => {
                return bad(format!(
                    "ratio {r} must be above 0 and at most 1 (poisons per clean image)"
                ));
            }
            Self::Ratio(r) => match clean_len {
                Some(len) => match (r * len as f64).round() as usize {
                    0 => {
                        return bad(format!(
                            "ratio {r} of the {len} clean images rounds to 0 poisons"
                        ));
                    }
                    n => n,
                },
                None => return bad("a ratio needs `clean_list` to count the clean images".into()),
            },
        };
        if let Some(len) = clean_len
            && n > len
        {
            return bad(format!("{n} poisons are more than the {len} images of `clean_list`"));
        }
        if n > MAX_POISONS {
            return bad(format!("{n} is more than the {MAX_POISONS} poisons one run can make"));
        }
        Ok(n)
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
    fn budgets_out_of_range_are_errors_naming_the_setting() {
        let err = |b: &str, clean: Option<usize>| {
            let e = b.parse::<Budget>().unwrap().resolve(clean).unwrap_err().to_string();
            assert!(e.starts_with("num_poisons = "), "{e}");
            e
        };
        assert!(err("0", None).contains("empty"));
        assert!(err("1.5", Some(10)).contains("at most 1"));
        assert!(err("1e12", Some(10)).contains("at most 1"));
        assert!(err("nan", Some(10)).contains("ratio"));
        assert!(err("11", Some(10)).contains("10 images"));
        assert!(err("0.01", Some(10)).contains("rounds to 0"));
        assert!(err("10000001", None).contains("10000000"));
        assert_eq!(Budget::Count(10).resolve(Some(10)).unwrap(), 10);
        assert_eq!(Budget::Ratio(1.0).resolve(Some(10)).unwrap(), 10);
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
