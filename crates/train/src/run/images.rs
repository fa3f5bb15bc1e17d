//! The images of a pre-training run: every image decoded once to find unreadable ones, and
//! kept decoded in memory while a byte budget lasts.
use corruptencoder_data::{Dataset, ImageLimits};
use image::RgbImage;
use rayon::prelude::*;

use crate::error::Result;

/// Images decoded at once while the store is opened: enough to keep every thread busy,
/// few enough that images past the cache budget are dropped before the next chunk.
const OPEN_CHUNK: usize = 256;

/// The usable images of a dataset: decoded in memory while a byte budget lasts, else
/// re-read per use.
pub(crate) struct ImageStore {
    dataset: Box<dyn Dataset>,
    /// Dataset indices of the images that decoded.
    usable: Vec<usize>,
    cached: Vec<Option<RgbImage>>,
    limits: ImageLimits,
}

impl ImageStore {
    /// Decodes every image once (in parallel) to find unreadable ones. Those are skipped
    /// with a warning, or fail the run when `strict`. Returns the store and the skip count.
    pub(crate) fn open(
        dataset: Box<dyn Dataset>,
        strict: bool,
        cache_bytes: u64,
    ) -> Result<(Self, usize)> {
        let limits = ImageLimits::default();
        let (mut usable, mut cached, mut skipped, mut budget) =
            (Vec::new(), Vec::new(), 0, cache_bytes);
        let indices: Vec<usize> = (0..dataset.len()).collect();
        for chunk in indices.chunks(OPEN_CHUNK) {
            let decoded: Vec<_> = chunk.par_iter().map(|&i| dataset.load(i, &limits)).collect();
            for (&i, image) in chunk.iter().zip(decoded) {
                match image {
                    Ok(img) => {
                        let size = img.as_raw().len() as u64;
                        let keep = size <= budget;
                        budget = budget.saturating_sub(if keep { size } else { 0 });
                        cached.push(keep.then_some(img));
                        usable.push(i);
                    }
                    Err(e) if strict => return Err(e.into()),
                    Err(e) => {
                        log::warn!("skipping {}: {}", dataset.source(i), error_chain(&e));
                        skipped += 1;
                    }
                }
            }
        }
        Ok((Self { dataset, usable, cached, limits }, skipped))
    }

    pub(crate) fn len(&self) -> usize {
        self.usable.len()
    }

    /// The caption of usable image `index`, for image-caption datasets.
    pub(crate) fn caption(&self, index: usize) -> Option<&str> {
        self.dataset.caption(self.usable[index])
    }

    /// Where usable image `index` comes from (for messages).
    pub(crate) fn source(&self, index: usize) -> String {
        self.dataset.source(self.usable[index])
    }

    /// The dataset the images come from (for messages).
    pub(crate) fn dataset_path(&self) -> &std::path::Path {
        self.dataset.path()
    }

    pub(crate) fn with_image<T>(&self, index: usize, f: impl FnOnce(&RgbImage) -> T) -> Result<T> {
        match &self.cached[index] {
            Some(img) => Ok(f(img)),
            None => Ok(f(&self.dataset.load(self.usable[index], &self.limits)?)),
        }
    }
}

/// `error: cause: cause` on one line, for the skip warning.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text += &format!(": {s}");
        source = s.source();
    }
    text
}
