//! The only place that draws progress and installs a logger (libraries never print).
use std::time::Duration;

use corruptencoder_core::Progress;
use indicatif::{ProgressBar, ProgressStyle};

/// What the commands need from the terminal.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ui {
    pub(crate) quiet: bool,
}

impl Ui {
    /// A progress renderer for one job.
    pub(crate) fn progress(&self) -> BarProgress {
        BarProgress::new(self.quiet)
    }

    /// A one-line result for the user (stderr, so stdout stays for tables and data).
    #[expect(clippy::print_stderr, reason = "the CLI's status line")]
    pub(crate) fn status(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }
}

pub(crate) fn init_logger(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => log::LevelFilter::Error,
        (false, 0) => log::LevelFilter::Warn,
        (false, 1) => log::LevelFilter::Info,
        (false, _) => log::LevelFilter::Debug,
    };
    env_logger::Builder::new()
        .filter_level(level)
        .format_timestamp(None)
        .format_target(false)
        .init();
}

/// An indicatif bar behind the library's [`Progress`] hook.
pub(crate) struct BarProgress {
    bar: ProgressBar,
}

impl BarProgress {
    fn new(quiet: bool) -> Self {
        let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(0) };
        bar.set_style(
            ProgressStyle::with_template("{msg:>12} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
                .expect("static template")
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Self { bar }
    }
}

impl BarProgress {
    /// Replaces the text beside the bar.
    pub(crate) fn set_message(&self, msg: String) {
        self.bar.set_message(msg);
    }

    /// The per-step hook of pre-training, drawing on the same bar.
    pub(crate) fn step_reporter(&self) -> StepReporter {
        StepReporter { bar: self.bar.clone(), monitor: String::new() }
    }
}

/// Shows each step's loss and throughput beside the bar, with the training monitor's
/// latest values; logs each epoch.
pub(crate) struct StepReporter {
    bar: ProgressBar,
    monitor: String,
}

impl corruptencoder_train::Reporter for StepReporter {
    fn on_step(&mut self, r: &corruptencoder_train::StepReport) {
        self.bar.set_message(format!(
            "loss {:.4} {:.0} views/s{}",
            r.loss, r.views_per_sec, self.monitor
        ));
    }
    fn on_epoch(&mut self, epoch: usize, mean_loss: f32) {
        log::info!("epoch {} mean loss {mean_loss:.4}", epoch + 1);
    }
    fn on_monitor(&mut self, r: &corruptencoder_train::MonitorReport) {
        self.monitor = monitor_text(r);
        log::info!("epoch {} monitor:{}", r.epoch, self.monitor);
    }
}

/// ` kNN 61.2% ASR 3.4% (target patch 40.1%)`: the monitor's latest values beside the bar.
pub(crate) fn monitor_text(r: &corruptencoder_train::MonitorReport) -> String {
    let mut s = format!(" kNN {:.1}%", r.knn_accuracy);
    if let Some(asr) = r.asr {
        s += &format!(" ASR {asr:.1}%");
    }
    if let Some(c) = r.ceiling {
        s += &format!(" (target patch {c:.1}%)");
    }
    s
}

impl Progress for BarProgress {
    fn start(&self, label: &str, total: u64) {
        self.bar.set_message(label.to_owned());
        self.bar.set_length(total);
        self.bar.set_position(0);
        self.bar.reset_eta();
    }
    fn advance(&self, n: u64) {
        self.bar.inc(n);
    }
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
    fn cancelled(&self) -> bool {
        crate::interrupt::received().is_some()
    }
}
