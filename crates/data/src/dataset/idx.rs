//! IDX files (MNIST, Fashion-MNIST): an images file and a labels file, gzipped or not.
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use image::{GrayImage, RgbImage};

use super::base::{Dataset, read_err, write_err};
use crate::error::{Error, Result};
use crate::image_io::ImageLimits;

/// Largest decompressed IDX file accepted, so a small gzip bomb cannot exhaust memory
/// (MNIST's training images are 47 MB).
const MAX_IDX_BYTES: u64 = 1 << 31;
const UBYTE: u8 = 0x08;

/// An IDX dataset in memory: `n x rows x cols` unsigned-byte images and `n` labels.
/// Images are grey and expanded to RGB on load. IDX stores no class names.
#[derive(Debug, Clone)]
pub struct Idx {
    path: PathBuf,
    rows: u32,
    cols: u32,
    pixels: Vec<u8>,
    labels: Vec<u8>,
}

/// Reads a whole file, gunzipping it when it starts with the gzip magic.
fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let raw = fs_err::read(path).map_err(read_err(path))?;
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(raw);
    }
    let mut out = Vec::new();
    GzDecoder::new(&raw[..])
        .take(MAX_IDX_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(read_err(path))?;
    if out.len() as u64 > MAX_IDX_BYTES {
        return Err(Error::TooLarge {
            path: path.to_path_buf(),
            width: 0,
            height: 0,
            limit: MAX_IDX_BYTES,
        });
    }
    Ok(out)
}

/// Parses an unsigned-byte IDX header with `ndims` dimensions; returns the dims and data.
fn parse(path: &Path, bytes: &[u8], ndims: usize) -> Result<(Vec<u32>, Vec<u8>)> {
    let bad = |problem: String| Error::Truncated { path: path.to_path_buf(), problem };
    let head = 4 + 4 * ndims;
    if bytes.len() < head {
        return Err(bad(format!("{} bytes is shorter than an IDX header", bytes.len())));
    }
    if bytes[0] != 0 || bytes[1] != 0 || bytes[2] != UBYTE || usize::from(bytes[3]) != ndims {
        return Err(bad(format!(
            "magic {:02x?} is not an unsigned-byte IDX file with {ndims} dimensions",
            &bytes[..4]
        )));
    }
    let dims: Vec<u32> = (0..ndims)
        .map(|d| u32::from_be_bytes(bytes[4 + 4 * d..8 + 4 * d].try_into().expect("4 bytes")))
        .collect();
    let have = (bytes.len() - head) as u64;
    // Three u32 dimensions can multiply past u64: a hostile header is an error, not an
    // overflow.
    let want = dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(u64::from(d)));
    match want {
        Some(want) if want == have => {}
        Some(want) => {
            return Err(bad(format!(
                "header {dims:?} declares {want} data bytes, file holds {have}"
            )));
        }
        None => {
            return Err(bad(format!(
                "header {dims:?} declares more data bytes than any file holds; file holds {have}"
            )));
        }
    }
    Ok((dims, bytes[head..].to_vec()))
}

impl Idx {
    /// Reads an images file (3 dimensions) and its labels file (1 dimension).
    pub fn open(images: &Path, labels: &Path) -> Result<Self> {
        let (dims, pixels) = parse(images, &read_maybe_gz(images)?, 3)?;
        let (ldims, labels_data) = parse(labels, &read_maybe_gz(labels)?, 1)?;
        if ldims[0] != dims[0] {
            return Err(Error::Invalid {
                path: labels.to_path_buf(),
                problem: format!(
                    "{} labels for {} images in {}",
                    ldims[0],
                    dims[0],
                    images.display()
                ),
            });
        }
        if dims[0] > 0 && (dims[1] == 0 || dims[2] == 0) {
            return Err(Error::Invalid {
                path: images.to_path_buf(),
                problem: format!("images of {}x{} pixels (rows x columns)", dims[1], dims[2]),
            });
        }
        Ok(Self {
            path: images.to_path_buf(),
            rows: dims[1],
            cols: dims[2],
            pixels,
            labels: labels_data,
        })
    }

    /// The labels file beside an images file: `train-images-idx3-ubyte[.gz]` gives
    /// `train-labels-idx1-ubyte[.gz]`.
    pub fn labels_path_for(images: &Path) -> Result<PathBuf> {
        let name = images.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let labels = name.replacen("images-idx3", "labels-idx1", 1);
        if labels == name {
            return Err(Error::Invalid {
                path: images.to_path_buf(),
                problem: "cannot derive the labels file name (expected `*-images-idx3-ubyte[.gz]`)"
                    .into(),
            });
        }
        Ok(images.with_file_name(labels))
    }
}

fn write_idx_file(path: &Path, dims: &[u32], data: &[u8], gzip: bool) -> Result<()> {
    let mut bytes = vec![0, 0, UBYTE, dims.len() as u8];
    for d in dims {
        bytes.extend(d.to_be_bytes());
    }
    bytes.extend_from_slice(data);
    if gzip {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(&bytes)
            .and_then(|_| enc.finish())
            .map_err(write_err(path))
            .map(|b| bytes = b)?;
    }
    fs_err::write(path, bytes).map_err(write_err(path))
}

/// Writes grey images (all the same size) and their labels as an IDX images file and an
/// IDX labels file, gzipped when `gzip`.
pub fn write_idx(
    images_path: &Path,
    labels_path: &Path,
    items: &[(GrayImage, u8)],
    gzip: bool,
) -> Result<()> {
    let (cols, rows) = items.first().map_or((0, 0), |(img, _)| img.dimensions());
    let mut data = Vec::with_capacity(items.len() * (rows * cols) as usize);
    for (i, (img, _)) in items.iter().enumerate() {
        if img.dimensions() != (cols, rows) {
            return Err(Error::Invalid {
                path: images_path.to_path_buf(),
                problem: format!("image {i} is {:?}, the first is {cols}x{rows}", img.dimensions()),
            });
        }
        data.extend_from_slice(img.as_raw());
    }
    write_idx_file(images_path, &[items.len() as u32, rows, cols], &data, gzip)?;
    let labels: Vec<u8> = items.iter().map(|(_, l)| *l).collect();
    write_idx_file(labels_path, &[items.len() as u32], &labels, gzip)
}

impl Dataset for Idx {
    fn len(&self) -> usize {
        self.labels.len()
    }
    fn label(&self, i: usize) -> i64 {
        i64::from(self.labels[i])
    }
    fn load(&self, i: usize, limits: &ImageLimits) -> Result<RgbImage> {
        // The header may declare one huge image; its grey bytes are in memory already, but
        // the RGB copy would triple them.
        let n = u64::from(self.rows) * u64::from(self.cols);
        if n > limits.max_pixels {
            return Err(Error::TooLarge {
                path: self.path.clone(),
                width: self.cols,
                height: self.rows,
                limit: limits.max_pixels,
            });
        }
        let n = n as usize;
        let grey =
            GrayImage::from_raw(self.cols, self.rows, self.pixels[i * n..(i + 1) * n].to_vec())
                .expect("size checked on open");
        Ok(image::DynamicImage::ImageLuma8(grey).into_rgb8())
    }
    fn class_names(&self) -> Option<&[String]> {
        None
    }
    fn source(&self, i: usize) -> String {
        format!("{}#{i}", self.path.display())
    }
    fn path(&self) -> &Path {
        &self.path
    }
}
