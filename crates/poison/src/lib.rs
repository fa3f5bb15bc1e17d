//! Poisoning attacks against contrastive learning: CorruptEncoder (CVPR 2024), its
//! CorruptEncoder+ variant, and the baselines, behind one [`Attack`] trait and one output
//! folder format. The layout theory that says where object and trigger should go is the
//! `corruptencoder-theory` crate; [`Layout`] and [`LayoutError`] are re-exported from it.
//!
//! ```no_run
//! use corruptencoder_core::NoProgress;
//! use corruptencoder_data::{ImageLimits, list_images, load_references};
//! use corruptencoder_poison::*;
//! let limits = ImageLimits::default();
//! let refs = load_references("refs".as_ref(), &limits)?.references;
//! let trigger = TriggerSource::White.load(40, &limits)?;
//! let attack = CorruptEncoder::new(
//!     CorruptEncoderConfig::default(), &refs, list_images("bgs".as_ref())?, vec![], trigger, limits,
//! )?;
//! let opts = OutputOptions {
//!     out: "poisons".into(), force: false, seed: 0, clean_list: None,
//!     config_toml: String::new(), preview_count: 8, list_root: None,
//! };
//! write_poison_set(&attack, &opts, &NoProgress)?;
//! # Ok::<(), corruptencoder_poison::Error>(())
//! ```
#![deny(missing_docs)]

mod attack;
mod captions;
mod error;
mod output;
mod preview;
mod target;
mod testset;
mod trigger;

pub use attack::{
    AreaRatio, Attack, AttackConfig, AttackInputs, AttackSources, BuiltAttack, ClipCarlini,
    ClipCarliniConfig, ClipCorruptEncoder, ClipCorruptEncoderConfig, CorruptEncoder,
    CorruptEncoderConfig, Ctrl, CtrlConfig, Input, Layout, Layouts, PoisonItem, PoisonKind,
    PoisonedEncoder, PoisonedEncoderConfig, SslBackdoor, SslBackdoorConfig, TriggerPlacement,
    make_poisons, reference_objects, resized_object_size,
};
pub use captions::CaptionTemplates;
// The theory's error, wrapped by ours (`Error::Layout`); `Layout` comes through `attack`.
pub use corruptencoder_theory::LayoutError;
pub use error::{Error, Result};
pub use output::{
    ManifestRecord, OutputOptions, POISON_STREAM, PoisonSummary, read_clean_list, write_poison_set,
};
pub use preview::contact_sheet;
pub use target::{Budget, DEFAULT_POISONS, MAX_POISONS, SELECT_STREAM, TargetImages};
pub use testset::{
    TESTSET_STREAM, TestImageFormat, TestRecord, TestSetConfig, TestSetOptions, TestSetSummary,
    TestTrigger, center_crop, resize_center_crop, resize_shorter, trigger_test_image,
    write_test_set,
};
pub use trigger::{BlockDct, FrequencyTrigger, TriggerSource, paste, rgb_to_yuv, yuv_to_rgb};
