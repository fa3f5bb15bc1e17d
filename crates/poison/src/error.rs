use std::path::PathBuf;

use corruptencoder_core::{IoError, SettingError};

/// Errors of the poison generators.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input data (images, masks, folders).
    #[error(transparent)]
    Data(#[from] corruptencoder_data::Error),
    /// Output folder or file problems.
    #[error(transparent)]
    Output(#[from] corruptencoder_core::Error),
    /// The trigger does not fit into the free part of a poisoned image.
    #[error(
        "the {trigger_w}x{trigger_h} trigger does not fit the {free_w}x{free_h} free part of \
         poison {index} (reference {reference}); use a smaller `trigger_size` or a larger \
         `area_ratio`"
    )]
    TriggerDoesNotFit {
        /// Poison index.
        index: usize,
        /// Reference used.
        reference: String,
        /// Trigger width.
        trigger_w: u32,
        /// Trigger height.
        trigger_h: u32,
        /// Free part's width.
        free_w: u32,
        /// Free part's height.
        free_h: u32,
    },
    /// No background images were found.
    #[error("no background images in {path}")]
    NoBackgrounds {
        /// The folder searched.
        path: PathBuf,
    },
    /// A setting is out of its valid range (the error names its key and value).
    #[error(transparent)]
    Setting(#[from] SettingError),
    /// An attack was given no source for one of its inputs.
    #[error("attack `{attack}` needs `{input}` (a folder or file), and none was given")]
    MissingInput {
        /// The attack.
        attack: &'static str,
        /// The input's field name.
        input: &'static str,
    },
    /// Geometry the layout theory cannot handle.
    #[error(transparent)]
    Layout(#[from] corruptencoder_theory::LayoutError),
    /// Reading a file list or writing an output file failed (the error names the path).
    #[error(transparent)]
    Io(#[from] IoError),
    /// The budget asks for more target-class images than there are.
    #[error(
        "{requested} poisons requested but only {available} target-class images are available \
         in {from}; lower the budget or add images"
    )]
    NotEnoughTargets {
        /// Poisons asked for.
        requested: usize,
        /// Target-class images found.
        available: usize,
        /// Where they were looked for.
        from: String,
    },
    /// A test image is smaller than the crop it must yield.
    #[error(
        "{source_image} is {width}x{height} after resizing, smaller than the {crop}x{crop} crop"
    )]
    ImageTooSmall {
        /// The test image.
        source_image: String,
        /// Its width.
        width: u32,
        /// Its height.
        height: u32,
        /// The crop side.
        crop: u32,
    },
    /// A patch trigger is larger than the image it goes on.
    #[error(
        "the {trigger_w}x{trigger_h} trigger is larger than {image} ({width}x{height}); use a \
         smaller `{key}`"
    )]
    TriggerTooLarge {
        /// What the image is (poison index and source, or test image).
        image: String,
        /// Its width.
        width: u32,
        /// Its height.
        height: u32,
        /// Trigger width.
        trigger_w: u32,
        /// Trigger height.
        trigger_h: u32,
        /// The setting that sizes the trigger.
        key: &'static str,
    },
}

/// Result with the poison [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
