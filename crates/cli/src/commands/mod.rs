//! One file per subcommand; this module only lists them.
use std::process::ExitCode;

use clap::Subcommand;

use crate::reporters::Ui;

mod defend;
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
    /// Build the triggered twin of a labelled downstream test set (docs/method.md section 7).
    #[command(after_help = defaults_help::<corruptencoder_poison::TestSetConfig>("docs/method.md section 7", &[]))]
    Testset(testset::TestsetArgs),
    /// Layout calculator: crop probabilities over background sizes and trigger positions,
    /// the optimum, and a heatmap (docs/method.md section 4).
    Theory(theory::TheoryArgs),
    /// Contrastive and image-text pre-training with checkpoints and resume.
    #[command(after_help = pretrain::defaults())]
    Pretrain(Box<pretrain::PretrainArgs>),
    /// Defenses on their own: score every image of a pre-training list with a poison
    /// detector (k-distance, DAO, PatchSearch) under an encoder and write the list without
    /// the flagged images, ask DECREE whether an encoder is backdoored, or fine-tune a CLIP
    /// model with CleanCLIP on clean pairs.
    #[command(after_help = defaults_help::<corruptencoder_train::CleanClipConfig>(
        "cleanclip's, docs/defenses.md",
        &[format!(
            "batch_size = {} for k-distance and dao",
            corruptencoder_train::ExtractOptions::DEFAULT_BATCH
        )],
    ))]
    Defend(Box<defend::DefendArgs>),
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

/// Lays a flag over a setting: the flag's value when it is given; otherwise the setting
/// keeps its value (the configuration's default, or a file's).
pub(crate) fn set<T>(setting: &mut T, flag: Option<T>) {
    if let Some(value) = flag {
        *setting = value;
    }
}

/// Warns when `encoder` sits in a pre-training run folder whose `config.toml` says it saw
/// views of another side than `crop`: the transform flags default to ImageNet's 224 px, so
/// an encoder of the demo's 32 px world would be shown every image enlarged seven times, at
/// about fifty times the compute, and scored on inputs it never saw.
pub(crate) fn warn_on_view_size(encoder: &std::path::Path, crop: u32) {
    let Some(config) = encoder.parent().map(|dir| dir.join("config.toml")) else { return };
    let Ok(trained) = corruptencoder_train::PretrainConfig::from_stored_toml_file(&config) else {
        return;
    };
    let size = trained.views.size;
    if size != crop {
        log::warn!(
            "{} was pre-trained on {size} px views ({}), and --crop {crop} shows it {crop} px \
             images; pass --resize 0 --crop {size} (or --resize {size} --crop {size}) to score \
             it as trained",
            encoder.display(),
            config.display()
        );
    }
}

/// The `--help` note on where unset options come from: the defaults of `T`, the library's
/// settings type (the one source of every default), one `key = value` a line, with
/// `extra` lines after them.
pub(crate) fn defaults_help<T: Default + serde::Serialize>(
    section: &str,
    extra: &[String],
) -> String {
    let table = toml::Table::try_from(T::default()).expect("settings serialise");
    let lines = table.iter().filter(|(_, v)| !v.is_table()).map(|(k, v)| format!("  {k} = {v}"));
    let lines: Vec<String> = lines.chain(extra.iter().map(|l| format!("  {l}"))).collect();
    format!(
        "Unset options take these defaults ({section}; flags are the keys with `-`):\n{}",
        lines.join("\n")
    )
}

pub(crate) fn run(command: Command, ui: &Ui) -> anyhow::Result<ExitCode> {
    match command {
        Command::Poison(cmd) => poison::run(cmd, ui),
        Command::Testset(args) => testset::run(args, ui),
        Command::Theory(args) => theory::run(args, ui),
        Command::Pretrain(args) => pretrain::run(*args, ui),
        Command::Eval(args) => eval::run(*args, ui),
        Command::Defend(args) => defend::run(*args, ui),
        Command::Export(args) => export::run(args),
        Command::Experiment(args) => experiment::run_file(args, ui),
        Command::Demo(args) => experiment::run_demo(args, ui),
        Command::Rescore(args) => rescore::run(args, ui),
        Command::World(args) => world::run(*args, ui),
    }
}
