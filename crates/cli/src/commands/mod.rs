//! One file per subcommand; this module only lists them.
use std::process::ExitCode;

use clap::Subcommand;

use crate::reporters::Ui;

mod poison;
mod theory;

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Build a poisoned pre-training set (CorruptEncoder and baselines).
    #[command(subcommand)]
    Poison(poison::PoisonCommand),
    /// Layout calculator: crop probabilities over background sizes and trigger positions,
    /// the optimum, and a heatmap (SPEC section 4).
    Theory(theory::TheoryArgs),
}

pub(crate) fn run(command: Command, ui: &Ui) -> anyhow::Result<ExitCode> {
    match command {
        Command::Poison(cmd) => poison::run(cmd, ui),
        Command::Theory(args) => theory::run(args, ui),
    }
}
