//! The runner's hooks as the terminal shows them: a line per run and stage, one bar for the
//! long stages.
use std::sync::{Mutex, PoisonError};

use corruptencoder_core::Progress;
use corruptencoder_experiment::Observer;
use corruptencoder_report::RunResult;

use crate::reporters::{BarProgress, Ui, monitor_text};

/// Draws the runner's hooks: a line per run and stage, one bar for the long stages.
pub(crate) struct Cli {
    ui: Ui,
    bar: BarProgress,
    /// The training monitor's latest values, shown beside the loss.
    monitor: Mutex<String>,
}

impl Cli {
    pub(crate) fn new(ui: &Ui) -> Self {
        Self { ui: *ui, bar: ui.progress(), monitor: Mutex::default() }
    }
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
