//! One file per subcommand; this module only lists them.
use std::process::ExitCode;

use clap::Subcommand;

use crate::reporters::Ui;

mod poison;
mod poison_baselines;
mod pretrain;
mod testset;
mod theory;

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Build a poisoned pre-training set (CorruptEncoder and baselines).
    #[command(subcommand)]
    Poison(poison::PoisonCommand),
    /// Build the triggered twin of a labelled downstream test set (SPEC section 7).
    Testset(testset::TestsetArgs),
    /// Layout calculator: crop probabilities over background sizes and trigger positions,
    /// the optimum, and a heatmap (SPEC section 4).
    Theory(theory::TheoryArgs),
    /// Contrastive pre-training (MoCo-v2, SimCLR, BYOL) with checkpoints and resume.
    Pretrain(Box<pretrain::PretrainArgs>),
}

pub(crate) fn run(command: Command, ui: &Ui) -> anyhow::Result<ExitCode> {
    match command {
        Command::Poison(cmd) => poison::run(cmd, ui),
        Command::Testset(args) => testset::run(args, ui),
        Command::Theory(args) => theory::run(args, ui),
        Command::Pretrain(args) => pretrain::run(*args, ui),
    }
}
