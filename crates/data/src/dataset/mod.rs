//! Labelled datasets, one file per format, behind the [`Dataset`] trait.
mod base;
mod captions;
mod cifar;
mod file_list;
mod idx;
mod image_folder;
mod open;

pub use base::{Dataset, class_label, samples_of_class};
pub(crate) use captions::csv_field;
pub use captions::{CaptionedImages, write_caption_csv};
pub use cifar::{CifarBinary, CifarRecord, write_cifar};
pub use file_list::{FileList, list_entry, write_file_list};
pub use idx::{Idx, write_idx};
pub use image_folder::ImageFolder;
pub use open::{DatasetFormat, open_dataset};
