//! `corruptencoder experiment CONFIG.toml` and `corruptencoder demo`: the whole loop from
//! poisons to the report, with progress per run and resume.
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use corruptencoder_core::{Progress, write_atomic};
use corruptencoder_data::ImageLimits;
use corruptencoder_experiment::{
    ExperimentConfig, Observer, RunOptions, plan_runs, run_experiment,
};
use corruptencoder_report::{RunResult, render_table};

use crate::commands::pretrain::device;
use crate::reporters::{BarProgress, Ui, monitor_text};

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
    /// run (arm, sweep value, seed, already finished or not) and their count; create
    /// nothing.
    #[arg(long)]
    plan: bool,
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
    let config = ExperimentConfig::from_file(&args.config)?;
    let out = args.out.unwrap_or_else(|| {
        let stem = args.config.file_stem().map_or("experiment".into(), |s| s.to_owned());
        PathBuf::from("results").join(stem)
    });
    if args.plan {
        return print_plan(&config, &out);
    }
    go(&config, out, args.force, &args.device, ui)
}

#[expect(clippy::print_stdout, reason = "the plan is the command's output")]
fn print_plan(config: &ExperimentConfig, out: &Path) -> anyhow::Result<ExitCode> {
    let runs = plan_runs(config, out)
        .with_context(|| format!("planning experiment into {}", out.display()))?;
    println!("| # | arm | sweep | seed | finished | folder |\n|---|---|---|---|---|---|");
    for (i, r) in runs.iter().enumerate() {
        let sweep = r.sweep.as_ref().map_or("-".to_owned(), ToString::to_string);
        let done = if r.finished { "yes" } else { "no" };
        println!("| {} | {} | {sweep} | {} | {done} | {} |", i + 1, r.arm, r.seed, r.dir.display());
    }
    let left = runs.iter().filter(|r| !r.finished).count();
    println!("\n{} runs, {left} to run, into {}", runs.len(), out.display());
    Ok(ExitCode::SUCCESS)
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
    go(&config, out, args.force, &args.device, ui)
}

#[expect(clippy::print_stdout, reason = "the results table is the command's output")]
fn go(
    config: &ExperimentConfig,
    out: PathBuf,
    force: bool,
    device_name: &str,
    ui: &Ui,
) -> anyhow::Result<ExitCode> {
    let clock = Instant::now();
    let observer = Cli { ui: *ui, bar: ui.progress(), monitor: Mutex::default() };
    let opts = RunOptions {
        out: out.clone(),
        force,
        device: device(device_name)?,
        limits: ImageLimits::default(),
        provenance: crate::provenance::provenance(),
    };
    ui.status(&format!("{}: {} arms into {}", config.name, config.arms.len(), out.display()));
    let results = run_experiment(config, &opts, &observer)
        .with_context(|| format!("running experiment into {}", out.display()))?;
    let table = render_table(&results);
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

/// Draws the runner's hooks: a line per run and stage, one bar for the long stages.
struct Cli {
    ui: Ui,
    bar: BarProgress,
    /// The training monitor's latest values, shown beside the loss.
    monitor: Mutex<String>,
}

impl Observer for Cli {
    fn run_started(&self, label: &str, index: usize, total: usize) {
        self.monitor.lock().unwrap_or_else(PoisonError::into_inner).clear();
        self.ui.status(&format!("[{index}/{total}] {label}"));
    }
    fn stage(&self, _label: &str, stage: &str) {
        log::info!("stage {stage}");
    }
    fn run_finished(&self, r: &RunResult, reused: bool) {
        let how = if reused { " (finished earlier)" } else { "" };
        let patch = r.target_patch_asr.map_or(String::new(), |c| format!(", target patch {c:.1}%"));
        self.ui.status(&format!(
            "      CA/BA {:.1}%  ASR {:.1}% ({}/{}{patch}){how}",
            r.accuracy, r.asr, r.asr_hits, r.asr_eligible
        ));
        if let Some(z) = &r.zero_shot {
            self.ui.status(&format!(
                "      zero-shot CA/BA {:.1}%  ASR all {:.1}% ({}/{})  ASR non-target {:.1}% ({}/{})",
                z.accuracy,
                z.asr_all,
                z.asr_all_hits,
                z.asr_all_total,
                z.asr_non_target,
                z.asr_non_target_hits,
                z.asr_non_target_eligible
            ));
        }
    }
    fn on_step(&self, report: &corruptencoder_train::StepReport) {
        let monitor = self.monitor.lock().unwrap_or_else(PoisonError::into_inner);
        self.bar.set_message(format!(
            "epoch {} loss {:.3} {:.0} views/s{monitor}",
            report.epoch + 1,
            report.loss,
            report.views_per_sec
        ));
    }
    fn on_monitor(&self, report: &corruptencoder_train::MonitorReport) {
        let text = monitor_text(report);
        log::info!("epoch {} monitor:{text}", report.epoch);
        *self.monitor.lock().unwrap_or_else(PoisonError::into_inner) = text;
    }
    fn progress(&self) -> &dyn Progress {
        &self.bar
    }
}
