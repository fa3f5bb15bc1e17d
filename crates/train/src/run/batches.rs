//! The batch producer: the images of each step in the epoch's seeded order, their views
//! built on rayon's threads ahead of the training step through a bounded channel.
//!
//! Every random stream is keyed so that any (epoch, image) is reproducible alone: epoch
//! `e`'s order comes from `item_rng(seed, 2e, 0)`, image `i`'s views in epoch `e` from
//! `item_rng(seed, 2e + 1, i)`.
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use corruptencoder_augment::{FloatImage, ViewRecipe};
use corruptencoder_core::{Rng, item_rng};
use image::RgbImage;
use rand::seq::SliceRandom;
use rayon::prelude::*;

use crate::error::Result;
use crate::run::images::ImageStore;

/// The views of one step's images.
pub(crate) struct Batch {
    /// The images' indices in the store, in batch order.
    pub(crate) rows: Vec<usize>,
    /// `views[k]` holds view `k` of every image, planar `[rows, 3, size, size]` flattened.
    pub(crate) views: Vec<Vec<f32>>,
    /// The side of every view.
    pub(crate) size: usize,
}

impl Batch {
    /// Images in the batch.
    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    /// The shape `[n, 3, size, size]` of each view's tensor.
    pub(crate) fn shape(&self) -> [usize; 4] {
        [self.rows.len(), 3, self.size, self.size]
    }
}

/// Epoch `epoch`'s order of `n` images.
pub(crate) fn epoch_order(seed: u64, epoch: usize, n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut item_rng(seed, 2 * epoch as u64, 0));
    order
}

/// What the producer draws of each image: a method's view recipe, or the views another
/// kind of training needs (CleanCLIP's clean and augmented pair).
pub(crate) trait ViewSource: Sync {
    /// Views per image.
    fn count(&self) -> usize;
    /// The side of every view.
    fn size(&self) -> u32;
    /// The `count` normalised views of `image`, every random choice from `rng`; `source`
    /// names the image in errors.
    fn draw(&self, image: &RgbImage, source: &str, rng: &mut Rng) -> Result<Vec<FloatImage>>;
}

/// A method's recipe: a pair ([`ViewRecipe::views`]) when `views` is 2, one view
/// ([`ViewRecipe::view`]) when it is 1.
pub(crate) struct RecipeViews<'a> {
    pub(crate) recipe: &'a ViewRecipe,
    pub(crate) views: usize,
}

impl ViewSource for RecipeViews<'_> {
    fn count(&self) -> usize {
        self.views
    }

    fn size(&self) -> u32 {
        self.recipe.size
    }

    fn draw(&self, image: &RgbImage, _source: &str, rng: &mut Rng) -> Result<Vec<FloatImage>> {
        Ok(match self.views {
            1 => vec![self.recipe.view(image, rng)],
            _ => self.recipe.views(image, rng).into(),
        })
    }
}

/// Builds the views of each image of `indices` for `epoch` from `source`, in parallel.
pub(crate) fn make_batch(
    store: &ImageStore,
    source: &dyn ViewSource,
    (seed, epoch): (u64, usize),
    indices: &[usize],
) -> Result<Batch> {
    let drawn: Vec<Vec<FloatImage>> = indices
        .par_iter()
        .map(|&i| {
            let mut rng = item_rng(seed, 2 * epoch as u64 + 1, i as u64);
            store.with_image(i, |img| source.draw(img, &store.source(i), &mut rng))?
        })
        .collect::<Result<_>>()?;
    let mut batch = Batch {
        rows: indices.to_vec(),
        views: vec![Vec::new(); source.count()],
        size: source.size() as usize,
    };
    for image_views in drawn {
        for (all, view) in batch.views.iter_mut().zip(image_views) {
            all.extend_from_slice(&view.data);
        }
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
    source: &'s dyn ViewSource,
    schedule: Schedule,
    depth: usize,
) -> Receiver<Result<Batch>> {
    let (tx, rx) = sync_channel(depth.max(1));
    scope.spawn(move || produce(store, source, schedule, tx));
    rx
}

fn produce(
    store: &ImageStore,
    source: &dyn ViewSource,
    s: Schedule,
    tx: SyncSender<Result<Batch>>,
) {
    let mut order: Option<(usize, Vec<usize>)> = None;
    for step in s.start..s.end {
        let epoch = (step / s.steps_per_epoch) as usize;
        if order.as_ref().is_none_or(|(e, _)| *e != epoch) {
            order = Some((epoch, epoch_order(s.seed, epoch, store.len())));
        }
        let within = (step % s.steps_per_epoch) as usize;
        let indices = &order.as_ref().expect("set above").1
            [within * s.batch_size..(within + 1) * s.batch_size];
        let batch = make_batch(store, source, (s.seed, epoch), indices);
        let failed = batch.is_err();
        // A closed receiver means training stopped; nothing more to do.
        if tx.send(batch).is_err() || failed {
            return;
        }
    }
}
