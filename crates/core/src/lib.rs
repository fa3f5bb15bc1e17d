//! Shared foundations of corruptencoder: one seeded RNG per item, progress hooks that
//! libraries call instead of printing, and crash-safe output (atomic files and staged
//! output folders).
//!
//! ```
//! use corruptencoder_core::{item_rng, uniform};
//! let mut a = item_rng(7, 0, 3);
//! let mut b = item_rng(7, 0, 3);
//! assert_eq!(uniform(&mut a, 0.0, 1.0), uniform(&mut b, 0.0, 1.0));
//! ```
#![deny(missing_docs)]

mod error;
mod fs;
mod progress;
mod rng;
mod setting;

pub use error::{Error, IoError, Result, SettingError};
pub use fs::{OutputDir, remove_stale, sha256_hex, write_atomic};
pub use progress::{NoProgress, Progress};
pub use rng::{Rng, item_rng, uniform, uniform_int};
pub use setting::set_number;
