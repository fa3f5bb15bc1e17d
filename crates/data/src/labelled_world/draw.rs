//! Which training and test images each part of the world takes.
use rand::seq::SliceRandom;

use corruptencoder_core::item_rng;

use super::LabelledWorldConfig;
use crate::dataset::Dataset;
use crate::error::{Error, Result};

/// RNG streams of the world's draws (one per split, so a size change in one leaves the
/// others' images where they were).
const TRAIN_ORDER: u64 = 0x3f1d_0001;
const TEST_ORDER: u64 = 0x3f1d_0002;

/// The indices each part of the world takes, all disjoint within the training split.
pub(super) struct Draw {
    pub(super) pretrain: Vec<usize>,
    pub(super) train: Vec<usize>,
    pub(super) test: Vec<usize>,
    pub(super) references: Vec<usize>,
    pub(super) supports: Vec<usize>,
    pub(super) targets: Vec<usize>,
    /// Unused non-target training images: the scenes' tiles.
    pub(super) others: Vec<usize>,
}

impl Draw {
    pub(super) fn new(
        train: &dyn Dataset,
        test: &dyn Dataset,
        c: &LabelledWorldConfig,
    ) -> Result<Self> {
        let mut order: Vec<usize> = (0..train.len()).collect();
        order.shuffle(&mut item_rng(c.seed, TRAIN_ORDER, 0));
        let (pretrain, rest) = order.split_at(c.pretrain);
        let (downstream, rest) = rest.split_at(c.downstream_train);
        let target = c.target as i64;
        let (mut targets, others): (Vec<usize>, Vec<usize>) =
            rest.iter().partition(|&&i| train.label(i) == target);
        let need = c.references + c.supports + c.target_images;
        if targets.len() < need {
            return Err(Error::Invalid {
                path: train.path().to_path_buf(),
                problem: format!(
                    "{} unused images of class {target} left after the pre-training and \
                     downstream draws; references + supports + target_images need {need}",
                    targets.len()
                ),
            });
        }
        let rest_targets = targets.split_off(c.references);
        let (supports, rest_targets) = rest_targets.split_at(c.supports);
        let mut test_order: Vec<usize> = (0..test.len()).collect();
        test_order.shuffle(&mut item_rng(c.seed, TEST_ORDER, 0));
        test_order.truncate(c.downstream_test);
        Ok(Self {
            pretrain: pretrain.to_vec(),
            train: downstream.to_vec(),
            test: test_order,
            references: targets,
            supports: supports.to_vec(),
            targets: rest_targets[..c.target_images].to_vec(),
            others,
        })
    }
}

/// The number of classes: the dataset's names, else one past the largest label.
pub(super) fn class_count(ds: &dyn Dataset) -> usize {
    match ds.class_names() {
        Some(names) => names.len(),
        None => (0..ds.len()).map(|i| ds.label(i).max(0) as usize + 1).max().unwrap_or(0),
    }
}
