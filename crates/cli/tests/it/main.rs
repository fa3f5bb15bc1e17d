//! End-to-end tests of the `corruptencoder` binary in temporary folders.
mod bad_input;
mod baselines;
mod defend;
mod experiment;
mod export;
#[cfg(unix)]
mod interrupt;
mod poison;
mod pretrain;
mod rescore;
mod shard;
mod theory;

use std::path::Path;
use std::process::{Command, Output};

/// `pretrain` of a width-4 small CNN with SimCLR on 16 px crops of `data_batch_1.bin`, batch
/// 8: the tests add epochs, seed and output.
pub(crate) const TINY_PRETRAIN: &[&str] = &[
    "-q",
    "pretrain",
    "--data",
    "data_batch_1.bin",
    "--method",
    "simclr",
    "--arch",
    "small-cnn",
    "--width",
    "4",
    "--image-size",
    "16",
    "--batch-size",
    "8",
];

#[path = "../../../../tests/kit.rs"]
mod kit;
pub(crate) use kit::kit;

/// Runs the binary with `args` in `dir`.
pub(crate) fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corruptencoder"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

/// Standard error as text.
pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
