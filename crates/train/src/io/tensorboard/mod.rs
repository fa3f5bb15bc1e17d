//! TensorBoard event files, written beside `log.jsonl` when `pretrain.tensorboard` is on.
//!
//! The format is TensorFlow's: a file of TFRecord records (`record.rs`: length, masked
//! CRC32C of the length, data, masked CRC32C of the data), each an `Event` protocol buffer
//! (`event.rs`) holding either the file version or a `Summary` of scalar values. Only the few
//! fields scalars need are encoded, by hand: the crates that write these files pull in
//! old protobuf stacks (see `docs/experiments.md`), and five fields do not need a
//! code generator. `event_log.rs` writes the run's file and reads it back.
mod event;
mod event_log;
mod record;

pub(crate) use event_log::EventLog;

/// What is wrong with a damaged record or event; the reader wraps it in the error that
/// names the file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Damage(String);

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Damage {
    fn from(what: &str) -> Self {
        Self(what.to_owned())
    }
}

impl From<String> for Damage {
    fn from(what: String) -> Self {
        Self(what)
    }
}
pub use event_log::{EVENTS_FILE, Scalar, read_scalars};
