//! `corruptencoder poison <attack>`: every attack goes through one path: flags resolved
//! into the library's `AttackConfig` and `AttackSources` (`args.rs`), the inputs
//! loaded, and the library's `make_poisons` stage, the one the experiment runner calls.
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use corruptencoder_core::OutputDir;
use corruptencoder_data::{Dataset, open_dataset};
use corruptencoder_poison::{
    AttackConfig, AttackInputs, AttackSources, OutputOptions, TargetImages, TriggerSource,
    make_poisons, read_clean_list,
};
use serde::Serialize;

mod args;
mod clip_attacks;
mod image_attacks;
mod request;
mod target_attacks;

use crate::reporters::Ui;
pub(crate) use args::PoisonCommand;
use request::Request;

/// Everything a run resolved, written as `config.toml` beside the poisons; its `[attack]`
/// and `[inputs]` tables are what `poison from-file` reads, so the file reruns the attack.
#[derive(Debug, Serialize)]
struct ResolvedConfig<'a> {
    seed: u64,
    num_poisons: usize,
    clean_list: Option<PathBuf>,
    target_dataset: Option<&'a (PathBuf, String)>,
    tool_version: &'static str,
    attack: &'a AttackConfig,
    inputs: AttackSources,
}

pub(crate) fn run(cmd: PoisonCommand, ui: &Ui) -> anyhow::Result<ExitCode> {
    let req = cmd.resolve()?;
    let common = &req.common;
    req.attack.validate()?;
    OutputDir::check(&common.out, common.force)?;
    let poisons = budget(&req)?;
    let inputs = load_inputs(&req, poisons)?;
    let resolved = ResolvedConfig {
        seed: common.seed,
        num_poisons: poisons,
        clean_list: common.clean_list.as_deref().map(absolute),
        target_dataset: req.target_dataset.as_ref(),
        tool_version: env!("CARGO_PKG_VERSION"),
        attack: &req.attack,
        inputs: absolute_sources(&req.sources),
    };
    let opts = OutputOptions {
        out: common.out.clone(),
        force: common.force,
        seed: common.seed,
        clean_list: common.clean_list.clone(),
        config_toml: toml::to_string_pretty(&resolved)?,
        preview_count: 16,
        list_root: None,
    };
    let progress = ui.progress();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(common.threads.unwrap_or(0)).build()?;
    let summary = pool.install(|| make_poisons(&req.attack, &inputs, poisons, &opts, &progress))?;
    ui.status(&format!(
        "{}: {} poisons -> {}",
        req.attack.name(),
        summary.records.len(),
        summary.out.display()
    ));
    log::info!("wrote {} poisons to {}", summary.records.len(), summary.out.display());
    Ok(ExitCode::SUCCESS)
}

/// The number of poisons the budget means: a count as it is, a ratio of the
/// `--clean-list` length (which it then needs).
fn budget(req: &Request) -> anyhow::Result<usize> {
    let clean_len = match &req.common.clean_list {
        Some(p) => Some(read_clean_list(p)?.len()),
        None => None,
    };
    Ok(req.budget.resolve(clean_len)?)
}

/// The attack's inputs; target images come from a folder or from one class of a dataset.
fn load_inputs(req: &Request, poisons: usize) -> anyhow::Result<AttackInputs> {
    let limits = req.common.limits()?;
    let Some((path, class)) = &req.target_dataset else {
        return Ok(req.attack.load_inputs(&req.sources, &limits)?);
    };
    let mut inputs = req.sources.load_given(&req.attack.needs(), &limits)?;
    let ds: Arc<dyn Dataset> = Arc::from(
        open_dataset(path, None).with_context(|| format!("opening dataset {}", path.display()))?,
    );
    let targets = TargetImages::from_dataset(ds, class)?;
    // Too few target images fail here, before any output exists.
    targets.clone().choose(poisons, req.common.seed)?;
    inputs.target_images = Some(targets);
    Ok(inputs)
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

fn absolute_sources(s: &AttackSources) -> AttackSources {
    let abs = |p: &Option<PathBuf>| p.as_deref().map(absolute);
    AttackSources {
        references: abs(&s.references),
        backgrounds: abs(&s.backgrounds),
        supports: abs(&s.supports),
        target_images: abs(&s.target_images),
        trigger: s.trigger.as_ref().map(|t| match t {
            TriggerSource::File(p) => TriggerSource::File(absolute(p)),
            TriggerSource::White => TriggerSource::White,
        }),
    }
}
