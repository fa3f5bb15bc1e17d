//! What every stage of a PatchSearch run reads.
use corruptencoder_core::Progress;

use super::images::{Network, Pictures};
use super::settings::{PatchSearchConfig, Sizes};

/// The settings, the images, the network and the run's seed and progress.
pub(crate) struct Context<'a> {
    pub(crate) config: &'a PatchSearchConfig,
    pub(crate) pictures: &'a dyn Pictures,
    pub(crate) network: &'a Network<'a>,
    /// The settings' pixel sizes at the network's input side.
    pub(crate) sizes: Sizes,
    pub(crate) seed: u64,
    pub(crate) progress: &'a dyn Progress,
}
