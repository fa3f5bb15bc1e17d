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

mod dataset;
mod error;
mod image_io;
mod labelled_world;
mod labelme;
mod mask;
mod reference;
mod resize;
mod tokenizer;

pub use dataset::{
    CaptionedImages, CifarBinary, CifarRecord, Dataset, DatasetFormat, FileList, Idx, ImageFolder,
    class_label, list_entry, open_dataset, samples_of_class, write_caption_csv, write_cifar,
    write_file_list, write_idx,
};
pub use error::{Error, Result};
pub use image_io::{ImageLimits, list_images, load_rgb, load_rgba, png_bytes};
pub use labelled_world::{LabelledWorld, LabelledWorldConfig, class_sizes, write_labelled_world};
pub use mask::{Mask, PixelBox};
pub use reference::{MaskSource, Reference, ReferenceSet, load_references};
pub use resize::{Filter, center_crop, resize_gray, resize_rgb, resize_shorter};
pub use tokenizer::{EOT, Encoded, PAD, SOT, Tokenizer, UNK, words};
mod synthetic;
pub use synthetic::{
    LabelledImages, SYNTHETIC_CAPTION_TEMPLATES, SYNTHETIC_CAPTIONS, SYNTHETIC_LIST,
    SyntheticConfig, SyntheticSample, SyntheticSet, SyntheticSplit, SyntheticWorld, WrittenSplit,
    write_references,
};
