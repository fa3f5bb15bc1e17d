//! One file per subcommand; this module only lists them.
use std::process::ExitCode;

use clap::Subcommand;

use crate::reporters::Ui;

mod eval;
mod experiment;
mod export;
mod poison;
mod pretrain;
mod rescore;
mod testset;
mod theory;
mod world;

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
    /// Score an encoder downstream: linear probe or kNN, CA/BA, ASR, per-class accuracy.
    Eval(Box<eval::EvalArgs>),
    /// Write an encoder for PyTorch (torchvision key names, strict=True) and print the
    /// Python lines that load it.
    Export(export::ExportArgs),
    /// Run an experiment file: arms, seeds, a sweep; poison, pre-train, evaluate, report.
    Experiment(experiment::ExperimentArgs),
    /// Score every saved encoder of an experiment folder again, without training: other
    /// test-trigger sizes, target classes and probe seeds; writes rescore.json and rescore.md.
    Rescore(rescore::RescoreArgs),
    /// The embedded CPU demo: clean, CorruptEncoder, SSL-Backdoor and CorruptEncoder under
    /// localized cropping on generated data; prints the table and writes the report.
    Demo(experiment::DemoArgs),
    /// Draw a world of real labelled images (e.g. Fashion-MNIST) for experiment files:
    /// pre-training list, downstream folders, references cut by brightness, scenes.
    World(Box<world::WorldArgs>),
}

/// A flag value read by the library type's own serde name (`--arch small-cnn`,
/// `--crops localized`), so the CLI keeps no copy of the library's enums.
pub(crate) fn by_name<T: serde::de::DeserializeOwned>(value: &str) -> Result<T, String> {
    T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(value))
        .map_err(|e| e.to_string())
}

pub(crate) fn run(command: Command, ui: &Ui) -> anyhow::Result<ExitCode> {
    match command {
        Command::Poison(cmd) => poison::run(cmd, ui),
        Command::Testset(args) => testset::run(args, ui),
        Command::Theory(args) => theory::run(args, ui),
        Command::Pretrain(args) => pretrain::run(*args, ui),
        Command::Eval(args) => eval::run(*args, ui),
        Command::Export(args) => export::run(args),
        Command::Experiment(args) => experiment::run_file(args, ui),
        Command::Demo(args) => experiment::run_demo(args, ui),
        Command::Rescore(args) => rescore::run(args, ui),
        Command::World(args) => world::run(*args, ui),
    }
}
