//! CIFAR-10 / CIFAR-100 binary files (the "binary version" from the CIFAR site).
use std::path::{Path, PathBuf};

use image::RgbImage;

use super::base::{Dataset, read_err, write_err};
use crate::error::{Error, Result};
use crate::image_io::ImageLimits;

const SIDE: u32 = 32;
const PIXELS: usize = (SIDE * SIDE) as usize;

/// A CIFAR binary file held in memory. Each record is the label byte(s) then the image as
/// three 32x32 planes (R, G, B), row-major. CIFAR-100 records carry the coarse label then
/// the fine one; [`Dataset::label`] is the fine label.
///
/// Class names come from `batches.meta.txt` (CIFAR-10) or `fine_label_names.txt`
/// (CIFAR-100) beside the file, when present.
#[derive(Debug, Clone)]
pub struct CifarBinary {
    path: PathBuf,
    cifar100: bool,
    bytes: Vec<u8>,
    classes: Option<Vec<String>>,
}

/// One CIFAR record to write.
#[derive(Debug, Clone)]
pub struct CifarRecord {
    /// A 32x32 image.
    pub image: RgbImage,
    /// The label (the fine label for CIFAR-100).
    pub label: u8,
    /// The coarse label (CIFAR-100 only; ignored for CIFAR-10).
    pub coarse_label: u8,
}

impl CifarBinary {
    fn record_len(cifar100: bool) -> usize {
        3 * PIXELS + if cifar100 { 2 } else { 1 }
    }

    /// Whether a `.bin` file is CIFAR-100 rather than CIFAR-10, from its name and length: a
    /// length that only one record size divides decides; otherwise the official names
    /// (`data_batch_*`, `test_batch`) mean CIFAR-10 and anything else CIFAR-100.
    pub(crate) fn is_cifar100(name: &str, len: u64) -> bool {
        let (r10, r100) = (Self::record_len(false) as u64, Self::record_len(true) as u64);
        match (len.is_multiple_of(r10), len.is_multiple_of(r100)) {
            (true, false) => false,
            (false, true) => true,
            _ => !(name.starts_with("data_batch") || name.starts_with("test_batch")),
        }
    }

    /// Reads a CIFAR-10 (`cifar100 = false`) or CIFAR-100 binary file.
    pub fn open(path: &Path, cifar100: bool) -> Result<Self> {
        let bytes = fs_err::read(path).map_err(read_err(path))?;
        let rec = Self::record_len(cifar100);
        if bytes.len() % rec != 0 {
            return Err(Error::Truncated {
                path: path.to_path_buf(),
                problem: format!(
                    "{} bytes is not a whole number of {rec}-byte CIFAR-{} records",
                    bytes.len(),
                    if cifar100 { 100 } else { 10 }
                ),
            });
        }
        let names_file = if cifar100 { "fine_label_names.txt" } else { "batches.meta.txt" };
        let classes = path
            .parent()
            .map(|d| d.join(names_file))
            .filter(|p| p.is_file())
            .map(|p| -> Result<Vec<String>> {
                let text = fs_err::read_to_string(&p).map_err(read_err(&p))?;
                Ok(text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(String::from)
                    .collect())
            })
            .transpose()?;
        let ds = Self { path: path.to_path_buf(), cifar100, bytes, classes };
        if let Some(names) = &ds.classes {
            let max = (0..ds.len()).map(|i| ds.label(i)).max().unwrap_or(0);
            if max as usize >= names.len() {
                return Err(Error::Invalid {
                    path: path.to_path_buf(),
                    problem: format!("label {max} but only {} class names beside it", names.len()),
                });
            }
        }
        Ok(ds)
    }

    fn record(&self, i: usize) -> &[u8] {
        let rec = Self::record_len(self.cifar100);
        &self.bytes[i * rec..(i + 1) * rec]
    }

    /// The coarse label of sample `i` (CIFAR-100 only).
    pub fn coarse_label(&self, i: usize) -> Option<u8> {
        self.cifar100.then(|| self.record(i)[0])
    }
}

/// Writes `records` as a CIFAR-10 (`cifar100 = false`) or CIFAR-100 binary file. Every image
/// must be 32x32.
pub fn write_cifar(path: &Path, cifar100: bool, records: &[CifarRecord]) -> Result<()> {
    let mut out = Vec::with_capacity(records.len() * CifarBinary::record_len(cifar100));
    for (i, r) in records.iter().enumerate() {
        if r.image.dimensions() != (SIDE, SIDE) {
            return Err(Error::Invalid {
                path: path.to_path_buf(),
                problem: format!(
                    "record {i} is {}x{}; CIFAR images are 32x32",
                    r.image.width(),
                    r.image.height()
                ),
            });
        }
        if cifar100 {
            out.push(r.coarse_label);
        }
        out.push(r.label);
        for c in 0..3 {
            out.extend(r.image.pixels().map(|p| p.0[c]));
        }
    }
    fs_err::write(path, out).map_err(write_err(path))
}

impl Dataset for CifarBinary {
    fn len(&self) -> usize {
        self.bytes.len() / Self::record_len(self.cifar100)
    }
    fn label(&self, i: usize) -> i64 {
        i64::from(self.record(i)[usize::from(self.cifar100)])
    }
    fn load(&self, i: usize, _limits: &ImageLimits) -> Result<RgbImage> {
        let planes = &self.record(i)[1 + usize::from(self.cifar100)..];
        Ok(RgbImage::from_fn(SIDE, SIDE, |x, y| {
            let k = (y * SIDE + x) as usize;
            image::Rgb([planes[k], planes[PIXELS + k], planes[2 * PIXELS + k]])
        }))
    }
    fn class_names(&self) -> Option<&[String]> {
        self.classes.as_deref()
    }
    fn source(&self, i: usize) -> String {
        format!("{}#{i}", self.path.display())
    }
    fn path(&self) -> &Path {
        &self.path
    }
}
