use std::borrow::Cow;

use corruptencoder_core::Rng;
use corruptencoder_data::PixelBox;
use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::error::Result;

pub use corruptencoder_theory::Layout;

/// What kind of image a poison is, as the manifest records it: each attack names its own
/// kinds (`corruptencoder` and `support` for CorruptEncoder+, `ssl-backdoor`, `ctrl`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PoisonKind(Cow<'static, str>);

impl PoisonKind {
    /// The kind named `name`.
    pub const fn new(name: &'static str) -> Self {
        Self(Cow::Borrowed(name))
    }

    /// Its name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One poisoned image with what the manifest records about it.
#[derive(Debug, Clone)]
pub struct PoisonItem {
    /// The image.
    pub image: RgbImage,
    /// Its kind.
    pub kind: PoisonKind,
    /// Name of the reference (or target-class image) used, if any.
    pub reference: Option<String>,
    /// File name of the background used, if any.
    pub background: Option<String>,
    /// Layout of object and trigger, if any.
    pub layout: Option<Layout>,
    /// The pasted object's box in output pixels.
    pub object_box: Option<PixelBox>,
    /// The trigger's box in output pixels.
    pub trigger_box: Option<PixelBox>,
    /// Caption, for image-text (CLIP) attacks.
    pub caption: Option<String>,
}

/// A poisoning attack: makes poison `index` from the RNG it is given.
///
/// Implementations hold their loaded inputs; all randomness comes from `rng`, which the
/// caller derives from (seed, index), so poisons can be made in any order or in parallel
/// with identical results.
pub trait Attack: Send + Sync {
    /// Short name, as on the command line (`corruptencoder`, `ssl-backdoor`, ...).
    fn name(&self) -> &'static str;
    /// How many poisons the attack makes.
    fn len(&self) -> usize;
    /// Whether the attack makes no poison at all.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Makes poison `index` (`index < len()`).
    fn poison(&self, index: usize, rng: &mut Rng) -> Result<PoisonItem>;
}
