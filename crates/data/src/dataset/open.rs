//! Format detection and [`open_dataset`]: the one place that knows every format, so the
//! formats depend on `base` and nothing depends back on them.
use std::path::Path;

use corruptencoder_core::{IoError, SettingError};

use super::base::Dataset;
use super::captions::CaptionedImages;
use super::cifar::CifarBinary;
use super::file_list::FileList;
use super::idx::Idx;
use super::image_folder::ImageFolder;
use crate::error::{Error, Result};

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
    /// An `image,caption` CSV (image-text pre-training).
    CaptionCsv,
    /// A folder of images with a `.txt` caption beside each (image-text pre-training).
    CaptionFolder,
}

impl std::str::FromStr for DatasetFormat {
    type Err = SettingError;
    fn from_str(s: &str) -> std::result::Result<Self, SettingError> {
        Self::ALL.into_iter().find(|f| f.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|f| f.name()).collect();
            SettingError::new("format", s, format!("not a dataset format ({})", names.join(", ")))
        })
    }
}

impl DatasetFormat {
    /// Every format, in the order help texts list them.
    pub const ALL: [Self; 7] = [
        Self::ImageFolder,
        Self::FileList,
        Self::Cifar10,
        Self::Cifar100,
        Self::Idx,
        Self::CaptionCsv,
        Self::CaptionFolder,
    ];

    /// The format's name, as files and the command line write it.
    pub fn name(self) -> &'static str {
        match self {
            Self::ImageFolder => "image-folder",
            Self::FileList => "file-list",
            Self::Cifar10 => "cifar10",
            Self::Cifar100 => "cifar100",
            Self::Idx => "idx",
            Self::CaptionCsv => "caption-csv",
            Self::CaptionFolder => "caption-folder",
        }
    }

    /// Guesses the format from the path alone: a folder without sub-folders whose first
    /// image has a `.txt` beside it is a caption folder, any other folder an image folder,
    /// `*.csv` an image-caption CSV, `*.bin` CIFAR (10 or 100 by record size and file
    /// name), a name containing `idx3-ubyte` IDX, anything else a file list.
    pub fn detect(path: &Path) -> Result<Self> {
        if path.is_dir() {
            if CaptionedImages::is_caption_folder(path) {
                return Ok(Self::CaptionFolder);
            }
            return Ok(Self::ImageFolder);
        }
        let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
        if name.ends_with(".csv") {
            return Ok(Self::CaptionCsv);
        }
        if name.ends_with(".bin") {
            let len = fs_err::metadata(path)
                .map_err(|source| Error::Io(IoError::new("read", path.to_path_buf(), source)))?
                .len();
            return Ok(if CifarBinary::is_cifar100(&name, len) {
                Self::Cifar100
            } else {
                Self::Cifar10
            });
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
        DatasetFormat::CaptionCsv => Box::new(CaptionedImages::open_csv(path)?),
        DatasetFormat::CaptionFolder => Box::new(CaptionedImages::open_folder(path)?),
    };
    if ds.is_empty() {
        return Err(Error::EmptyDataset { path: path.to_path_buf() });
    }
    Ok(ds)
}
