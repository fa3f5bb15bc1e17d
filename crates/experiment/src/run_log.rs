//! A run's pre-training log as the report reads it: the mean loss per epoch and the
//! training monitor's measurements.
use std::path::Path;

use corruptencoder_report::MonitorPoint;

use crate::error::Result;

/// What a run's pre-training log says.
#[derive(Default)]
pub(crate) struct Log {
    /// Mean loss per epoch.
    pub(crate) epoch_loss: Vec<f64>,
    /// The training monitor's lines.
    pub(crate) monitor: Vec<MonitorPoint>,
}

/// Mean loss per epoch and the monitor's measurements from a pre-training `log.jsonl`
/// (step lines carry `loss`, monitor lines `knn_accuracy`).
pub(crate) fn read_log(log: &Path) -> Result<Log> {
    let text = fs_err::read_to_string(log).map_err(crate::error::io("read", log))?;
    let mut sums: Vec<(f64, usize)> = Vec::new();
    let mut monitor = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if v.get("knn_accuracy").is_some() {
            if let Ok(point) = serde_json::from_value::<MonitorPoint>(v) {
                monitor.push(point);
            }
            continue;
        }
        let (Some(epoch), Some(loss)) = (v["epoch"].as_u64(), v["loss"].as_f64()) else { continue };
        let e = epoch as usize;
        if sums.len() <= e {
            sums.resize(e + 1, (0.0, 0));
        }
        sums[e].0 += loss;
        sums[e].1 += 1;
    }
    let epoch_loss =
        sums.into_iter().map(|(s, n)| if n == 0 { f64::NAN } else { s / n as f64 }).collect();
    Ok(Log { epoch_loss, monitor })
}
