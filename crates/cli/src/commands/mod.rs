//! One file per subcommand; this module only lists them.
use std::process::ExitCode;

use clap::Subcommand;

use crate::reporters::Ui;

mod poison;
mod pretrain;

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Build a poisoned pre-training set (CorruptEncoder and baselines).
    #[command(subcommand)]
    Poison(poison::PoisonCommand),
    /// Contrastive pre-training (MoCo-v2, SimCLR, BYOL) with checkpoints and resume.
    Pretrain(Box<pretrain::PretrainArgs>),
}

pub(crate) fn run(command: Command, ui: &Ui) -> anyhow::Result<ExitCode> {
    match command {
        Command::Poison(cmd) => poison::run(cmd, ui),
        Command::Pretrain(args) => pretrain::run(*args, ui),
    }
}
