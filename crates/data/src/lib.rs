//! Images, masks, reference objects and dataset formats.
//!
//! Every loader names the file and the problem when input is bad, and guards against
//! decompression bombs with a pixel limit.
//!
//! ```no_run
//! use corruptencoder_data::{ImageLimits, load_references};
//! let refs = load_references("kit/references/hunting-dog".as_ref(), &ImageLimits::default())?;
//! println!("{} references", refs.references.len());
//! # Ok::<(), corruptencoder_data::Error>(())
//! ```
#![deny(missing_docs)]

mod error;
mod image_io;
mod labelme;
mod mask;
mod reference;

pub use error::{Error, Result};
pub use image_io::{ImageLimits, list_images, load_rgb, load_rgba, png_bytes};
pub use mask::{Mask, PixelBox};
pub use reference::{MaskSource, Reference, ReferenceSet, load_references};
mod synthetic;
pub use synthetic::{
    LabelledImages, SYNTHETIC_LIST, SyntheticConfig, SyntheticSample, SyntheticSet, SyntheticSplit,
    WrittenSplit, write_references,
};
