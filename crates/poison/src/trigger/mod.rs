//! Triggers, one module: the patch (a file or a white square, pasted opaquely, placed in a
//! band) and CTRL's frequency trigger (added in the DCT domain of the chroma planes).
mod frequency;
mod patch;

pub use frequency::{BlockDct, FrequencyTrigger, rgb_to_yuv, yuv_to_rgb};
pub(crate) use patch::band_position;
pub use patch::{TriggerSource, paste};
