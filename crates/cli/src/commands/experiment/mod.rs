//! `corruptencoder experiment CONFIG.toml` and `corruptencoder demo`: the whole loop from
//! poisons to the report, with progress per run and resume; shards of it for a cluster
//! (`--shard K/N`), the report of a sharded folder (`--report`), and the plan (`--plan`).
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use corruptencoder_core::write_atomic;
use corruptencoder_data::ImageLimits;
use corruptencoder_experiment::{
    ExperimentConfig, RunOptions, Shard, ShardOutcome, report_experiment, run_experiment, run_shard,
};
use corruptencoder_report::{Results, render_table};

use crate::commands::pretrain::device;
use crate::reporters::Ui;

mod observer;
mod plan;

use observer::Cli;
use plan::Listing;

/// Flags of `corruptencoder experiment`.
#[derive(Debug, Args)]
pub(crate) struct ExperimentArgs {
    /// The experiment file (see configs/ for examples).
    config: PathBuf,
    /// Output folder (default: results/<file stem>). Rerunning the same experiment into
    /// it resumes and skips finished runs.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace an output folder that holds a different experiment.
    #[arg(long)]
    force: bool,
    /// Training device: flex (CPU, default), cuda[:N], wgpu, libtorch, libtorch-cuda[:N].
    #[arg(long, default_value = "flex")]
    device: String,
    /// Check the file and its inputs as a run would, print the runs in the order they
    /// run (arm, sweep value, seed, already finished or not, estimated pre-training time)
    /// and their count; create nothing. The times are estimates from a few pre-training
    /// steps measured on this machine.
    #[arg(long)]
    plan: bool,
    /// Run only shard K of N (K in 0..N), e.g. `--shard $SLURM_ARRAY_TASK_ID/N` in a job
    /// array `sbatch --array=0-(N-1)`. Runs are dealt like cards, grouped by arm: the j-th
    /// goes to shard j mod N, so every shard gets a near-equal count and a mix of arms.
    /// Shards share --out (on a shared filesystem, with a lock file beside it); the last
    /// to finish writes the report. With --plan: list shard K's runs.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// With --plan: list the runs shard by shard, as N shards would run them.
    #[arg(long, value_name = "N", requires = "plan", conflicts_with = "shard",
          value_parser = clap::value_parser!(u32).range(1..))]
    shards: Option<u32>,
    /// Write the report from the runs in the output folder and run nothing (after the
    /// shards of a job array); fails naming the runs not finished.
    #[arg(long, conflicts_with_all = ["plan", "shard"])]
    report: bool,
}

/// Flags of `corruptencoder demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Output folder (default: corruptencoder-demo, or corruptencoder-demo-full with
    /// --full); rerunning resumes.
    #[arg(long)]
    out: Option<PathBuf>,
    /// The long demo: the four arms trained for 150 epochs with BYOL and one reference
    /// object (about an hour on two cores), where the backdoor is formed.
    #[arg(long)]
    full: bool,
    /// Replace an output folder that holds a different experiment.
    #[arg(long)]
    force: bool,
    /// Print the demo's experiment file and exit (a starting point for your own).
    #[arg(long)]
    print_config: bool,
    /// Training device: flex (CPU, default), cuda[:N], wgpu, libtorch, libtorch-cuda[:N].
    #[arg(long, default_value = "flex")]
    device: String,
}

pub(crate) fn run_file(args: ExperimentArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    // Before the file is read, so a bad value is named before anything else happens.
    let shard: Option<Shard> = args.shard.as_deref().map(str::parse).transpose()?;
    let config = ExperimentConfig::from_file(&args.config)?;
    let out = args.out.unwrap_or_else(|| {
        let stem = args.config.file_stem().map_or("experiment".into(), |s| s.to_owned());
        PathBuf::from("results").join(stem)
    });
    if args.plan {
        let listing = match (shard, args.shards.and_then(|n| NonZeroUsize::new(n as usize))) {
            (Some(s), _) => Listing::Shard(s),
            (None, Some(n)) => Listing::Shards(n),
            (None, None) => Listing::All,
        };
        return plan::print_plan(&config, &out, listing, &args.device);
    }
    let opts = options(out, args.force, &args.device)?;
    if args.report {
        return report(&config, &opts, ui);
    }
    match shard {
        Some(shard) => part(&config, &opts, shard, ui),
        None => go(&config, &opts, ui),
    }
}

#[expect(clippy::print_stdout, reason = "--print-config writes the file to stdout")]
pub(crate) fn run_demo(args: DemoArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    let (config, default_out) = if args.full {
        (ExperimentConfig::demo_full(), "corruptencoder-demo-full")
    } else {
        (ExperimentConfig::demo(), "corruptencoder-demo")
    };
    if args.print_config {
        print!("{}", config.to_toml());
        return Ok(ExitCode::SUCCESS);
    }
    let out = args.out.unwrap_or_else(|| PathBuf::from(default_out));
    go(&config, &options(out, args.force, &args.device)?, ui)
}

fn options(out: PathBuf, force: bool, device_name: &str) -> anyhow::Result<RunOptions> {
    Ok(RunOptions {
        out,
        force,
        device: device(device_name)?,
        limits: ImageLimits::default(),
        provenance: crate::provenance::provenance(),
    })
}

/// The whole experiment.
fn go(config: &ExperimentConfig, opts: &RunOptions, ui: &Ui) -> anyhow::Result<ExitCode> {
    let clock = Instant::now();
    let out = &opts.out;
    ui.status(&format!("{}: {} arms into {}", config.name, config.arms.len(), out.display()));
    let results = run_experiment(config, opts, &Cli::new(ui))
        .with_context(|| format!("running experiment into {}", out.display()))?;
    show(&results, out, clock, ui)
}

/// One shard; the report if it finishes last.
fn part(
    config: &ExperimentConfig,
    opts: &RunOptions,
    shard: Shard,
    ui: &Ui,
) -> anyhow::Result<ExitCode> {
    let clock = Instant::now();
    let out = &opts.out;
    ui.status(&format!("{}: shard {shard} into {}", config.name, out.display()));
    let outcome = run_shard(config, opts, shard, &Cli::new(ui))
        .with_context(|| format!("running shard {shard} into {}", out.display()))?;
    match outcome {
        ShardOutcome::Reported(results) => show(&results, out, clock, ui),
        ShardOutcome::Waiting { missing } => {
            ui.status(&format!(
                "shard {shard} done in {:.0} s; {} of other shards not finished yet (first: \
                 {}); the last shard to finish writes the report (or `experiment FILE \
                 --report`)",
                clock.elapsed().as_secs_f64(),
                plan::runs_n(missing.len()),
                missing.first().map_or("", String::as_str)
            ));
            Ok(ExitCode::SUCCESS)
        }
        ShardOutcome::AlreadyReported => {
            ui.status(&format!(
                "shard {shard} done; every run is finished and the report is in {}",
                out.display()
            ));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `--report`: the report from the runs present.
fn report(config: &ExperimentConfig, opts: &RunOptions, ui: &Ui) -> anyhow::Result<ExitCode> {
    let clock = Instant::now();
    let out = &opts.out;
    let results = report_experiment(config, opts, &Cli::new(ui))
        .with_context(|| format!("writing the report of {}", out.display()))?;
    show(&results, out, clock, ui)
}

/// Prints the results table and keeps it beside the report.
#[expect(clippy::print_stdout, reason = "the results table is the command's output")]
fn show(results: &Results, out: &Path, clock: Instant, ui: &Ui) -> anyhow::Result<ExitCode> {
    let table = render_table(results);
    print!("{table}");
    ui.status(&format!(
        "{:.0} s; report: {}",
        clock.elapsed().as_secs_f64(),
        out.join("report.html").display()
    ));
    // The table is also kept as text, for scripts that diff runs.
    write_atomic(&out.join("table.md"), table.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
