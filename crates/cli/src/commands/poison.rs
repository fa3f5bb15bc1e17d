//! `corruptencoder poison <attack>`.
use std::process::ExitCode;

use clap::Subcommand;

use crate::reporters::Ui;

/// The attacks that build poisoned sets.
#[derive(Debug, Subcommand)]
pub(crate) enum PoisonCommand {
    /// CorruptEncoder / CorruptEncoder+ (SPEC section 3).
    Corruptencoder,
}

pub(crate) fn run(_cmd: PoisonCommand, _ui: &Ui) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet implemented")
}
