//! The view pipeline: decoded images in, batches of normalised view pairs out, built on
//! rayon's threads ahead of the training step through a bounded channel.
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use corruptencoder_augment::ViewRecipe;
use corruptencoder_core::item_rng;
use corruptencoder_data::{Dataset, ImageLimits};
use image::RgbImage;
use rand::seq::SliceRandom;
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

/// A batch of `n` view pairs, planar `[n, 3, size, size]` each.
pub(crate) struct Batch {
    pub(crate) n: usize,
    pub(crate) views1: Vec<f32>,
    pub(crate) views2: Vec<f32>,
}

/// Where each random stream comes from, so any (epoch, image) is reproducible alone:
/// epoch `e`'s order from `item_rng(seed, 2e, 0)`, image `i`'s views in epoch `e` from
/// `item_rng(seed, 2e + 1, i)`.
pub(crate) fn epoch_order(seed: u64, epoch: usize, n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut item_rng(seed, 2 * epoch as u64, 0));
    order
}

/// Builds the views of `indices` for `epoch` in parallel.
pub(crate) fn make_batch(
    store: &ImageStore,
    recipe: &ViewRecipe,
    seed: u64,
    epoch: usize,
    indices: &[usize],
) -> Result<Batch> {
    let views: Vec<_> = indices
        .par_iter()
        .map(|&i| {
            let mut rng = item_rng(seed, 2 * epoch as u64 + 1, i as u64);
            store.with_image(i, |img| recipe.views(img, &mut rng))
        })
        .collect::<Result<_>>()?;
    let mut batch = Batch { n: indices.len(), views1: Vec::new(), views2: Vec::new() };
    for [a, b] in views {
        batch.views1.extend_from_slice(&a.data);
        batch.views2.extend_from_slice(&b.data);
    }
    Ok(batch)
}

/// Steps `start..end` of a run with `steps_per_epoch` full batches of `batch_size`.
pub(crate) struct Schedule {
    pub(crate) seed: u64,
    pub(crate) batch_size: usize,
    pub(crate) steps_per_epoch: u64,
    pub(crate) start: u64,
    pub(crate) end: u64,
}

/// Runs the producer on a scoped thread: batches arrive in step order, at most `depth`
/// ahead of the consumer. A failed batch ends the stream with its error.
pub(crate) fn spawn_loader<'s>(
    scope: &'s std::thread::Scope<'s, '_>,
    store: &'s ImageStore,
    recipe: &'s ViewRecipe,
    schedule: Schedule,
    depth: usize,
) -> Receiver<Result<Batch>> {
    let (tx, rx) = sync_channel(depth.max(1));
    scope.spawn(move || produce(store, recipe, schedule, tx));
    rx
}

fn produce(store: &ImageStore, recipe: &ViewRecipe, s: Schedule, tx: SyncSender<Result<Batch>>) {
    let mut order: Option<(usize, Vec<usize>)> = None;
    for step in s.start..s.end {
        let epoch = (step / s.steps_per_epoch) as usize;
        if order.as_ref().is_none_or(|(e, _)| *e != epoch) {
            order = Some((epoch, epoch_order(s.seed, epoch, store.len())));
        }
        let within = (step % s.steps_per_epoch) as usize;
        let indices = &order.as_ref().expect("set above").1
            [within * s.batch_size..(within + 1) * s.batch_size];
        let batch = make_batch(store, recipe, s.seed, epoch, indices);
        let failed = batch.is_err();
        // A closed receiver means training stopped; nothing more to do.
        if tx.send(batch).is_err() || failed {
            return;
        }
    }
}
