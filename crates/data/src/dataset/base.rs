//! The [`Dataset`] trait shared by every format, class lookup, and the error helpers the
//! formats use. Knows no format: `open` picks among them.
use std::path::Path;

use image::RgbImage;

use corruptencoder_core::IoError;

use crate::error::{Error, Result};
use crate::image_io::ImageLimits;

/// A labelled image dataset: samples `0..len()`, each with an integer label and an image
/// loaded on demand (lazy paths) or held in memory (binary formats).
///
/// Implementations are `Send + Sync` so poisons and test sets can be made in parallel.
pub trait Dataset: Send + Sync + std::fmt::Debug {
    /// Number of samples.
    fn len(&self) -> usize;
    /// Whether there is no sample.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Label of sample `i` (`-1` marks a poison in the authors' file lists).
    fn label(&self, i: usize) -> i64;
    /// The image of sample `i` as 8-bit RGB (grey formats are expanded).
    fn load(&self, i: usize, limits: &ImageLimits) -> Result<RgbImage>;
    /// Class names in label order, where the format stores them.
    fn class_names(&self) -> Option<&[String]>;
    /// Where sample `i` comes from: a file path, or `file#index` for binary formats.
    fn source(&self, i: usize) -> String;
    /// The path the dataset was opened from (for messages).
    fn path(&self) -> &Path;
    /// The caption of sample `i`, for image-caption formats; `None` elsewhere.
    fn caption(&self, _i: usize) -> Option<&str> {
        None
    }
}

/// Resolves a class given by name (matched against [`Dataset::class_names`]) or by index
/// (a plain integer) to its label; a clear error lists the known classes otherwise.
pub fn class_label(ds: &dyn Dataset, class: &str) -> Result<i64> {
    let names = ds.class_names();
    if let Some(i) = names.and_then(|n| n.iter().position(|c| c == class)) {
        return Ok(i as i64);
    }
    let max_label = (0..ds.len()).map(|i| ds.label(i)).max().unwrap_or(-1);
    if let Ok(label) = class.parse::<i64>()
        && (0..=max_label).contains(&label)
    {
        return Ok(label);
    }
    let known = match names {
        Some(n) if n.len() > 12 => format!("{}, ... ({} classes)", n[..12].join(", "), n.len()),
        Some(n) => n.join(", "),
        None => format!("labels 0..={max_label}"),
    };
    Err(Error::UnknownClass { path: ds.path().to_path_buf(), class: class.to_owned(), known })
}

/// The samples of class `label`, in dataset order.
pub fn samples_of_class(ds: &dyn Dataset, label: i64) -> Vec<usize> {
    (0..ds.len()).filter(|&i| ds.label(i) == label).collect()
}

pub(crate) fn read_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io(IoError::new("read", path.to_path_buf(), source))
}

pub(crate) fn write_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io(IoError::new("write", path.to_path_buf(), source))
}
