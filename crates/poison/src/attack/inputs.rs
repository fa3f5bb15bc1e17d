//! The inputs attacks draw on: [`AttackSources`] (paths, as an experiment file, a
//! poison file or the command line gives them) and [`AttackInputs`] (loaded).
use std::path::{Path, PathBuf};

use corruptencoder_core::SettingError;
use corruptencoder_data::{ImageLimits, Reference, list_images, load_references, load_rgb};
use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::target::TargetImages;
use crate::trigger::TriggerSource;

/// One kind of input an attack draws on; its name is the [`AttackSources`] field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// Reference objects with masks (`references`).
    References,
    /// Whole reference photos of the target class (`references`, the images only).
    ReferenceImages,
    /// Images that carry the trigger: backgrounds, or any images (`backgrounds`).
    Backgrounds,
    /// CorruptEncoder+ support images (`supports`).
    Supports,
    /// Target-class images to put the trigger on (`target_images`).
    TargetImages,
    /// The trigger patch (`trigger`).
    Trigger,
}

impl Input {
    /// The field of [`AttackSources`] (and of an experiment's `[data]`) that provides it.
    pub fn field(self) -> &'static str {
        match self {
            Self::References | Self::ReferenceImages => "references",
            Self::Backgrounds => "backgrounds",
            Self::Supports => "supports",
            Self::TargetImages => "target_images",
            Self::Trigger => "trigger",
        }
    }
}

/// Where an attack's inputs are, as paths (an experiment's `[data]`, a poison file's
/// `[inputs]`, the command line).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttackSources {
    /// Folder of reference objects with masks (any layout `load_references` reads); its
    /// images alone are PoisonedEncoder's reference photos.
    pub references: Option<PathBuf>,
    /// Folder of background images (or, for Carlini-Terzis, any images to trigger).
    pub backgrounds: Option<PathBuf>,
    /// Folder of CorruptEncoder+ support images.
    pub supports: Option<PathBuf>,
    /// Folder of target-class images (SSL-Backdoor, CTRL).
    pub target_images: Option<PathBuf>,
    /// The trigger image, or `white`.
    pub trigger: Option<TriggerSource>,
}

impl AttackSources {
    /// Whether a source for `input` is given.
    pub fn has(&self, input: Input) -> bool {
        match input {
            Input::References | Input::ReferenceImages => self.references.is_some(),
            Input::Backgrounds => self.backgrounds.is_some(),
            Input::Supports => self.supports.is_some(),
            Input::TargetImages => self.target_images.is_some(),
            Input::Trigger => self.trigger.is_some(),
        }
    }

    /// The first input of `needs` that has no source, as an error naming `attack` and the
    /// input's field.
    pub fn check(&self, attack: &'static str, needs: &[Input]) -> Result<()> {
        for &need in needs {
            if !self.has(need) {
                return Err(Error::MissingInput { attack, input: need.field() });
            }
        }
        Ok(())
    }

    /// Loads `needs` (and nothing else); a missing source is an error naming `attack`.
    pub fn load(
        &self,
        attack: &'static str,
        needs: &[Input],
        limits: &ImageLimits,
    ) -> Result<AttackInputs> {
        self.check(attack, needs)?;
        self.load_given(needs, limits)
    }

    /// Loads those of `needs` that have a source here, leaving the rest empty (for a
    /// caller that provides an input another way, such as target images from a dataset).
    pub fn load_given(&self, needs: &[Input], limits: &ImageLimits) -> Result<AttackInputs> {
        let mut inputs = AttackInputs::new(*limits);
        inputs.trigger = self.trigger.clone();
        for &need in needs {
            if !self.has(need) {
                continue;
            }
            match need {
                Input::References => {
                    let dir = self.references.as_deref().expect("checked");
                    let loaded = load_references(dir, limits)?;
                    loaded.warnings.iter().for_each(|w| log::warn!("{w}"));
                    inputs.references = loaded.references;
                }
                Input::ReferenceImages => {
                    inputs.reference_images =
                        reference_images(self.references.as_deref().expect("checked"))?;
                }
                Input::Backgrounds => {
                    let dir = self.backgrounds.as_deref().expect("checked");
                    inputs.backgrounds = list_images(dir)?;
                    if inputs.backgrounds.is_empty() {
                        let problem = "holds no images";
                        return Err(SettingError::new("backgrounds", dir.display(), problem).into());
                    }
                }
                Input::Supports => {
                    inputs.supports =
                        load_supports(self.supports.as_deref().expect("checked"), limits)?
                }
                Input::TargetImages => {
                    let dir = self.target_images.as_deref().expect("checked");
                    let files = list_images(dir)?;
                    inputs.target_images =
                        Some(TargetImages::from_files(files, dir.display().to_string()));
                }
                Input::Trigger => {}
            }
        }
        Ok(inputs)
    }
}

/// The images of a reference folder without their `.mask` companions.
fn reference_images(dir: &Path) -> Result<Vec<PathBuf>> {
    let is_mask =
        |p: &PathBuf| p.file_stem().and_then(|s| s.to_str()).is_some_and(|s| s.ends_with(".mask"));
    Ok(list_images(dir)?.into_iter().filter(|p| !is_mask(p)).collect())
}

/// Support images, named by file name (the manifest's `reference` field).
fn load_supports(dir: &Path, limits: &ImageLimits) -> Result<Vec<(String, RgbImage)>> {
    let files = list_images(dir)?;
    if files.is_empty() {
        return Err(SettingError::new("supports", dir.display(), "holds no images").into());
    }
    files
        .iter()
        .map(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            Ok((name, load_rgb(p, limits)?))
        })
        .collect()
}

/// An attack's inputs, loaded.
#[derive(Debug, Clone)]
pub struct AttackInputs {
    /// Reference objects with masks.
    pub references: Vec<Reference>,
    /// Whole reference photos.
    pub reference_images: Vec<PathBuf>,
    /// Backgrounds (or images to trigger), used in this order.
    pub backgrounds: Vec<PathBuf>,
    /// CorruptEncoder+ support images with their names.
    pub supports: Vec<(String, RgbImage)>,
    /// Target-class images, before the seeded choice.
    pub target_images: Option<TargetImages>,
    /// The trigger.
    pub trigger: Option<TriggerSource>,
    /// Image decoding limits.
    pub limits: ImageLimits,
}

impl AttackInputs {
    /// No inputs yet.
    pub fn new(limits: ImageLimits) -> Self {
        Self {
            references: Vec::new(),
            reference_images: Vec::new(),
            backgrounds: Vec::new(),
            supports: Vec::new(),
            target_images: None,
            trigger: None,
            limits,
        }
    }

    /// Keeps the first `n` references (an experiment's `references` setting).
    pub fn first_references(mut self, n: usize) -> Self {
        self.references.truncate(n);
        self.reference_images.truncate(n);
        self
    }

    pub(crate) fn trigger(&self) -> Result<&TriggerSource> {
        self.trigger.as_ref().ok_or(Error::MissingInput { attack: "attack", input: "trigger" })
    }

    pub(crate) fn target_images(&self) -> Result<&TargetImages> {
        self.target_images
            .as_ref()
            .ok_or(Error::MissingInput { attack: "attack", input: "target_images" })
    }
}
