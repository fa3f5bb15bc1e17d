//! The [`Dataset`] trait shared by every format, format detection, and class lookup.
use std::path::Path;

use image::RgbImage;

use super::cifar::CifarBinary;
use super::file_list::FileList;
use super::idx::Idx;
use super::image_folder::ImageFolder;
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
}

/// The formats [`open_dataset`] knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetFormat {
    /// A folder with one sub-folder per class (torchvision `ImageFolder`).
    ImageFolder,
    /// A text file of `path label` lines.
    FileList,
    /// CIFAR-10 binary batches (`1 label byte + 3072 pixel bytes` per record).
    Cifar10,
    /// CIFAR-100 binary (`coarse, fine label bytes + 3072 pixel bytes`).
    Cifar100,
    /// IDX files (MNIST, Fashion-MNIST), gzipped or not.
    Idx,
}

impl std::str::FromStr for DatasetFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(match s {
            "image-folder" => Self::ImageFolder,
            "file-list" => Self::FileList,
            "cifar10" => Self::Cifar10,
            "cifar100" => Self::Cifar100,
            "idx" => Self::Idx,
            _ => {
                return Err(format!(
                    "unknown dataset format `{s}` (image-folder, file-list, cifar10, cifar100, idx)"
                ));
            }
        })
    }
}

impl DatasetFormat {
    /// Guesses the format from the path alone: a folder is an image folder, `*.bin` is
    /// CIFAR (10 or 100 by record size and file name), a name containing `idx3-ubyte` is
    /// IDX, anything else a file list.
    pub fn detect(path: &Path) -> Result<Self> {
        if path.is_dir() {
            return Ok(Self::ImageFolder);
        }
        let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
        if name.ends_with(".bin") {
            let len = fs_err::metadata(path)
                .map_err(|source| Error::Read { path: path.to_path_buf(), source })?
                .len();
            return Ok(CifarBinary::detect_kind(&name, len));
        }
        if name.contains("idx3-ubyte") {
            return Ok(Self::Idx);
        }
        Ok(Self::FileList)
    }
}

/// Opens a dataset, detecting its format with [`DatasetFormat::detect`] unless `format`
/// is given. For IDX, `path` is the images file; the labels file is found beside it
/// (`-images-idx3-` replaced by `-labels-idx1-`, same compression).
pub fn open_dataset(path: &Path, format: Option<DatasetFormat>) -> Result<Box<dyn Dataset>> {
    let format = match format {
        Some(f) => f,
        None => DatasetFormat::detect(path)?,
    };
    log::debug!("opening {} as {format:?}", path.display());
    let ds: Box<dyn Dataset> = match format {
        DatasetFormat::ImageFolder => Box::new(ImageFolder::open(path)?),
        DatasetFormat::FileList => Box::new(FileList::open(path)?),
        DatasetFormat::Cifar10 => Box::new(CifarBinary::open(path, false)?),
        DatasetFormat::Cifar100 => Box::new(CifarBinary::open(path, true)?),
        DatasetFormat::Idx => Box::new(Idx::open(path, &Idx::labels_path_for(path)?)?),
    };
    if ds.is_empty() {
        return Err(Error::EmptyDataset { path: path.to_path_buf() });
    }
    Ok(ds)
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
    move |source| Error::Read { path: path.to_path_buf(), source }
}

pub(crate) fn write_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Write { path: path.to_path_buf(), source }
}
