//! `corruptencoder rescore EXPERIMENT_DIR`: every saved encoder of an experiment folder
//! scored again with other test-trigger sizes, target classes and probe seeds, without
//! training; writes `rescore.json` and `rescore.md` beside `results.json`.
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use corruptencoder_core::Progress;
use corruptencoder_data::ImageLimits;
use corruptencoder_experiment::{Observer, RescoreOptions, rescore};
use corruptencoder_report::render_rescore;

use crate::commands::pretrain::device;
use crate::reporters::{BarProgress, Ui};

/// Flags of `corruptencoder rescore`.
#[derive(Debug, Args)]
pub(crate) struct RescoreArgs {
    /// The experiment folder (where `corruptencoder experiment` wrote experiment.toml).
    dir: PathBuf,
    /// Test-trigger sides in pixels, comma-separated (default: the experiment's own).
    #[arg(long, value_delimiter = ',')]
    trigger_sizes: Vec<u32>,
    /// Target classes, comma-separated (default: the experiment's own).
    #[arg(long, value_delimiter = ',')]
    targets: Vec<usize>,
    /// Probe seeds, comma-separated (default: each run's own seed).
    #[arg(long, value_delimiter = ',')]
    probe_seeds: Vec<u64>,
    /// Replace an existing rescore.json and rescore.md.
    #[arg(long)]
    force: bool,
    /// Inference device: flex (CPU, default), cuda[:N], wgpu, libtorch, libtorch-cuda[:N].
    #[arg(long, default_value = "flex")]
    device: String,
}

#[expect(clippy::print_stdout, reason = "the re-scored tables are the command's output")]
pub(crate) fn run(args: RescoreArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    let clock = Instant::now();
    let opts = RescoreOptions {
        dir: args.dir.clone(),
        trigger_sizes: args.trigger_sizes,
        targets: args.targets,
        probe_seeds: args.probe_seeds,
        force: args.force,
        device: device(&args.device)?,
        limits: ImageLimits::default(),
        provenance: crate::provenance::provenance(),
    };
    let observer = Lines { ui: *ui, bar: ui.progress() };
    let result = rescore(&opts, &observer)
        .with_context(|| format!("re-scoring the encoders in {}", args.dir.display()))?;
    print!("{}", render_rescore(&result));
    ui.status(&format!(
        "{:.0} s; wrote {}",
        clock.elapsed().as_secs_f64(),
        args.dir.join("rescore.md").display()
    ));
    Ok(ExitCode::SUCCESS)
}

/// A line per encoder, one bar for feature extraction and probes.
struct Lines {
    ui: Ui,
    bar: BarProgress,
}

impl Observer for Lines {
    fn run_started(&self, label: &str, index: usize, total: usize) {
        self.ui.status(&format!("[{index}/{total}] {label}"));
    }
    fn stage(&self, _label: &str, stage: &str) {
        log::info!("stage {stage}");
    }
    fn progress(&self) -> &dyn Progress {
        &self.bar
    }
}
