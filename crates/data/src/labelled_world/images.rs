//! The world's images: loading and writing in parallel, reference objects cut by
//! brightness, scenes of the dataset's own images, and fitting to the world's size.
use std::path::PathBuf;

use corruptencoder_core::{Progress, item_rng};
use image::{GrayImage, Luma, Rgb, RgbImage, imageops};
use rand::seq::IndexedRandom;
use rayon::prelude::*;

use super::LabelledWorldConfig;
use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::image_io::ImageLimits;
use crate::mask::Mask;
use crate::reference::{MaskSource, Reference};
use crate::resize::{Filter, resize_gray, resize_rgb};

/// The RNG stream of the scenes' tiles.
const SCENE_STREAM: u64 = 0x3f1d_0003;

/// Loads `indices` of `set` in parallel and hands each (position, label, image) to `write`.
pub(super) fn write_images<T: Send>(
    set: &dyn Dataset,
    indices: &[usize],
    limits: &ImageLimits,
    progress: &dyn Progress,
    write: impl Fn(usize, i64, RgbImage) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    indices
        .par_iter()
        .enumerate()
        .map(|(k, &i)| {
            progress.check_cancelled()?;
            let out = write(k, set.label(i), set.load(i, limits)?);
            progress.advance(1);
            out
        })
        .collect()
}

/// Reference `k`: training image `i` enlarged, with the mask of its bright pixels.
pub(super) fn reference(
    set: &dyn Dataset,
    i: usize,
    k: usize,
    c: &LabelledWorldConfig,
    limits: &ImageLimits,
) -> Result<Reference> {
    let img = set.load(i, limits)?;
    let (w, h) = img.dimensions();
    let mask = GrayImage::from_fn(w, h, |x, y| {
        let bright = img.get_pixel(x, y).0.into_iter().max().unwrap_or(0) > c.mask_threshold;
        Luma([if bright { 255 } else { 0 }])
    });
    let s = c.reference_scale;
    let mask = Mask(resize_gray(&mask, w * s, h * s, Filter::Nearest));
    let object_box = mask.largest_component_box().ok_or_else(|| Error::Invalid {
        path: set.path().to_path_buf(),
        problem: format!(
            "{}: no pixel brighter than mask_threshold = {}",
            set.source(i),
            c.mask_threshold
        ),
    })?;
    Ok(Reference {
        name: format!("ref-{k:02}"),
        path: PathBuf::from(set.source(i)),
        source: MaskSource::MaskImage,
        image: resize_rgb(&img, w * s, h * s, Filter::Bicubic),
        mask,
        object_box,
    })
}

/// Scene `k`: a grid of the dataset's own non-target images, each tile enlarged to the
/// scene's height / 3 (three rows, as many columns as fit, the right edge cropped).
pub(super) fn scene(
    set: &dyn Dataset,
    others: &[usize],
    c: &LabelledWorldConfig,
    k: usize,
    limits: &ImageLimits,
) -> Result<RgbImage> {
    let (w, h) = c.scene_size;
    let tile = (h / 3).max(1);
    let mut canvas = RgbImage::new(w, h);
    let mut rng = item_rng(c.seed, SCENE_STREAM, k as u64);
    let (cols, rows) = (w.div_ceil(tile), h.div_ceil(tile));
    for r in 0..rows {
        for col in 0..cols {
            let i = *others.choose(&mut rng).ok_or_else(|| Error::Invalid {
                path: set.path().to_path_buf(),
                problem: "no unused non-target image left for the scenes".into(),
            })?;
            let img = resize_rgb(&set.load(i, limits)?, tile, tile, Filter::Bicubic);
            imageops::overlay(&mut canvas, &img, (col * tile) as i64, (r * tile) as i64);
        }
    }
    Ok(canvas)
}

/// `img` at `size x size`: padded around with its top-left pixel's colour when smaller,
/// resized when larger.
pub(super) fn fit_to(img: RgbImage, size: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    if w > size || h > size {
        return resize_rgb(&img, size, size, Filter::Bicubic);
    }
    if (w, h) == (size, size) {
        return img;
    }
    let mut canvas = RgbImage::from_pixel(size, size, *img.get_pixel(0, 0));
    imageops::overlay(&mut canvas, &img, i64::from((size - w) / 2), i64::from((size - h) / 2));
    canvas
}

/// The colour seen most often (ties to the smallest), black when there is none.
pub(super) fn most_frequent(colours: impl Iterator<Item = Rgb<u8>>) -> Rgb<u8> {
    let mut counts = std::collections::BTreeMap::new();
    for c in colours {
        *counts.entry(c.0).or_insert(0usize) += 1;
    }
    let best = counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)));
    Rgb(best.map_or([0, 0, 0], |(c, _)| *c))
}

/// A class name as a folder name: lower case, runs of other characters as one `-`.
pub(super) fn folder_name(name: &str) -> String {
    let mut s = String::new();
    for ch in name.trim().chars() {
        if ch.is_ascii_alphanumeric() {
            s.push(ch.to_ascii_lowercase());
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    s.trim_matches('-').to_string()
}
