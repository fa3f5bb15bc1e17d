//! Writing the synthetic set to disk: ImageFolder trees with a `path label` list,
//! references with mask files, and background folders. Every file goes through a
//! temporary name and a rename.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use corruptencoder_core::{Progress, write_atomic};
use image::{GrayImage, RgbImage};
use rayon::prelude::*;

use super::set::{SyntheticSet, SyntheticSplit};
use crate::dataset::csv_field;
use crate::error::{Error, Result};
use crate::image_io::png_bytes;
use crate::reference::Reference;

/// Name of the file list written beside an ImageFolder tree.
pub const SYNTHETIC_LIST: &str = "list.txt";
/// Name of the `image,caption` CSV written beside it (image-text pre-training).
pub const SYNTHETIC_CAPTIONS: &str = "captions.csv";

/// What [`SyntheticSet::write_split`] wrote.
#[derive(Debug, Clone)]
pub struct WrittenSplit {
    /// The folder holding one sub-folder per class.
    pub root: PathBuf,
    /// The `path label` file list (the authors' format, in index order), its paths relative
    /// to the list's folder so the tree stays valid when moved (an experiment folder is
    /// built under a staging name and renamed).
    pub list: PathBuf,
    /// The `image,caption` CSV of the same images in the same order.
    pub captions: PathBuf,
    /// Images written.
    pub count: usize,
}

impl SyntheticSet {
    /// Writes images `0..count` of `split` as `root/<class name>/<index>.png` (ImageFolder
    /// layout: sorted folder names give class order) plus `root/list.txt` and
    /// `root/captions.csv` ([`SyntheticSet::caption`]). Images are
    /// generated and written in parallel, never all held in memory.
    pub fn write_split(
        &self,
        split: SyntheticSplit,
        count: usize,
        root: &Path,
        progress: &dyn Progress,
    ) -> Result<WrittenSplit> {
        let root = std::path::absolute(root).map_err(io("resolve", root))?;
        let names = self.class_names();
        for name in &names {
            create_dir(&root.join(name))?;
        }
        progress.start(split.name(), count as u64);
        let paths = (0..count)
            .into_par_iter()
            .map(|i| {
                let sample = self.sample(split, i);
                let path = root.join(&names[sample.label]).join(format!("{i:06}.png"));
                write_png(&path, &sample.image)?;
                progress.advance(1);
                Ok((path, sample.label, self.caption(split, i, &sample)))
            })
            .collect::<Result<Vec<_>>>()?;
        progress.finish();
        let (mut text, mut csv) = (String::new(), String::from("image,caption\n"));
        for (path, label, caption) in &paths {
            let path = path.strip_prefix(&root).unwrap_or(path);
            // Infallible: writing to a String.
            let _ = writeln!(text, "{} {label}", path.display());
            let image = csv_field(&path.display().to_string());
            let _ = writeln!(csv, "{image},{}", csv_field(caption));
        }
        let list = root.join(SYNTHETIC_LIST);
        write_file(&list, text.as_bytes())?;
        let captions = root.join(SYNTHETIC_CAPTIONS);
        write_file(&captions, csv.as_bytes())?;
        Ok(WrittenSplit { root, list, captions, count })
    }

    /// Writes backgrounds `0..count` of `width x height` as `<dir>/bg-<index>.png`; returns
    /// the paths in index order, as the CorruptEncoder generator takes them.
    pub fn write_backgrounds(
        &self,
        count: usize,
        width: u32,
        height: u32,
        dir: &Path,
    ) -> Result<Vec<PathBuf>> {
        create_dir(dir)?;
        (0..count)
            .into_par_iter()
            .map(|i| {
                let path = dir.join(format!("bg-{i:05}.png"));
                write_png(&path, &self.background(i, width, height))?;
                Ok(path)
            })
            .collect()
    }
}

/// Writes each reference as `<dir>/<name>.png` with its mask as `<name>.mask.png`, the
/// layout [`crate::load_references`] reads back with [`crate::MaskSource::MaskImage`].
pub fn write_references(references: &[Reference], dir: &Path) -> Result<Vec<PathBuf>> {
    create_dir(dir)?;
    references
        .par_iter()
        .map(|r| {
            let path = dir.join(format!("{}.png", r.name));
            write_png(&path, &r.image)?;
            write_mask(&dir.join(format!("{}.mask.png", r.name)), &r.mask.0)?;
            Ok(path)
        })
        .collect()
}

fn create_dir(dir: &Path) -> Result<()> {
    fs_err::create_dir_all(dir).map_err(io("create", dir))
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let at = corruptencoder_core::IoError::at(action, path);
    move |source| Error::Io(at(source))
}

fn write_png(path: &Path, image: &RgbImage) -> Result<()> {
    write_file(path, &png_bytes(image))
}

fn write_mask(path: &Path, mask: &GrayImage) -> Result<()> {
    use image::ImageEncoder;
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    let mut bytes = Vec::new();
    PngEncoder::new_with_quality(&mut bytes, CompressionType::Fast, FilterType::Adaptive)
        .write_image(mask.as_raw(), mask.width(), mask.height(), image::ExtendedColorType::L8)
        .expect("encoding to memory cannot fail");
    write_file(path, &bytes)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(write_atomic(path, bytes)?)
}
