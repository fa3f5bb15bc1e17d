//! The run's event file: scalars of every step and monitor measurement, appended as they
//! come, and truncated on resume like `log.jsonl`.
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use corruptencoder_core::{IoError, write_atomic};

use super::event::{Event, What};
use super::record::{push_record, split_records};
use crate::error::{Error, Result};
use crate::run::monitor::MonitorReport;
use crate::run::reporter::StepReport;

/// The event file's name in a run folder. TensorBoard reads every file whose name holds
/// `tfevents`; the name is fixed (not TensorFlow's `.<time>.<host>`) so that a resumed run
/// continues its own file rather than starting a second one.
pub const EVENTS_FILE: &str = "events.out.tfevents.corruptencoder";

/// The version line TensorBoard expects first in a file.
const FILE_VERSION: &str = "brain.Event:2";

/// One scalar read back from an event file.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    /// Global step (optimizer steps done; 0 for the monitor's measurement before training).
    pub step: u64,
    /// `train/loss`, `train/lr`, `monitor/knn_accuracy`, `monitor/asr` or
    /// `monitor/target_patch_asr`.
    pub tag: String,
    /// The value, as TensorBoard stores it (f32).
    pub value: f32,
    /// Seconds since the Unix epoch when it was written.
    pub wall_time: f64,
}

/// Every scalar of the event file at `path`, in file order. Fails naming the file on a
/// damaged or cut record.
pub fn read_scalars(path: &Path) -> Result<Vec<Scalar>> {
    let bad = |what: String, source| Error::Events { path: path.to_path_buf(), what, source };
    let bytes = fs_err::read(path).map_err(|e| bad("cannot read it".into(), Some(e)))?;
    let (records, damage) = split_records(&bytes);
    if let Some((at, what)) = damage {
        return Err(bad(format!("record at byte {at}: {what}"), None));
    }
    let mut out = Vec::new();
    for (i, record) in records.iter().enumerate() {
        let event =
            Event::decode(record).map_err(|what| bad(format!("event {i}: {what}"), None))?;
        let What::Scalars(values) = event.what else { continue };
        let step = u64::try_from(event.step).unwrap_or(0);
        out.extend(values.into_iter().map(|(tag, value)| Scalar {
            step,
            tag,
            value,
            wall_time: event.wall_time,
        }));
    }
    Ok(out)
}

/// The event file of a run being written.
pub(crate) struct EventLog {
    file: std::fs::File,
    path: PathBuf,
}

impl EventLog {
    /// Opens `dir`'s event file for appending after dropping events past `keep_steps` (left
    /// by a run killed after its last checkpoint) and any record cut short by the kill, so a
    /// resumed file reads like an uninterrupted one. A new file starts with the version.
    pub(crate) fn open(dir: &Path, keep_steps: u64) -> Result<Self> {
        let path = dir.join(EVENTS_FILE);
        let old = fs_err::read(&path).unwrap_or_default();
        let (records, damage) = split_records(&old);
        if let Some((at, what)) = damage {
            log::warn!("{}: dropping what follows byte {at} ({what})", path.display());
        }
        let mut kept = Vec::new();
        for record in records {
            let step = Event::decode(record).map_or(i64::MAX, |e| e.step);
            if u64::try_from(step).is_ok_and(|s| s <= keep_steps) {
                push_record(&mut kept, record);
            }
        }
        if kept.is_empty() {
            let version = What::FileVersion(FILE_VERSION.into());
            push_record(&mut kept, &Event { wall_time: now(), step: 0, what: version }.encode());
        }
        write_atomic(&path, &kept)?;
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(IoError::at("write", &path))?;
        Ok(Self { file, path })
    }

    /// A training step: `train/loss` and `train/lr`.
    pub(crate) fn step(&mut self, report: &StepReport) -> Result<()> {
        let values = [("train/loss", Some(report.loss)), ("train/lr", Some(report.lr as f32))];
        self.scalars(report.step, &values)
    }

    /// A monitor measurement: `monitor/knn_accuracy`, and `monitor/asr` and
    /// `monitor/target_patch_asr` when measured (percent, as in `log.jsonl`).
    pub(crate) fn monitor(&mut self, report: &MonitorReport) -> Result<()> {
        let values = [
            ("monitor/knn_accuracy", Some(report.knn_accuracy as f32)),
            ("monitor/asr", report.asr.map(|v| v as f32)),
            ("monitor/target_patch_asr", report.ceiling.map(|v| v as f32)),
        ];
        self.scalars(report.step, &values)
    }

    /// One event of the present values at `step`, written in one call so that a reader
    /// following the file sees whole records.
    fn scalars(&mut self, step: u64, values: &[(&str, Option<f32>)]) -> Result<()> {
        let values = values.iter().filter_map(|(t, v)| v.map(|v| ((*t).to_owned(), v))).collect();
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        let event = Event { wall_time: now(), step, what: What::Scalars(values) };
        let mut record = Vec::new();
        push_record(&mut record, &event.encode());
        self.file
            .write_all(&record)
            .map_err(|source| IoError::new("write", &self.path, source).into())
    }
}

/// Seconds since the Unix epoch (0 if the clock is before it).
fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(step: u64, loss: f32) -> StepReport {
        StepReport {
            epoch: 0,
            step,
            loss,
            lr: 0.5,
            views_per_sec: 1.0,
            seconds: Default::default(),
        }
    }

    #[test]
    fn scalars_are_read_back_and_a_reopened_log_drops_later_steps() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = EventLog::open(dir.path(), 0).unwrap();
        for s in 1..=4 {
            log.step(&step(s, s as f32)).unwrap();
        }
        let monitor = MonitorReport {
            epoch: 1,
            step: 2,
            knn_accuracy: 50.0,
            asr: Some(10.0),
            ceiling: None,
            seconds: 0.1,
        };
        log.monitor(&monitor).unwrap();
        drop(log);
        let path = dir.path().join(EVENTS_FILE);
        let read = read_scalars(&path).unwrap();
        let tags: Vec<(u64, &str, f32)> =
            read.iter().map(|s| (s.step, s.tag.as_str(), s.value)).collect();
        assert_eq!(tags[..2], [(1, "train/loss", 1.0), (1, "train/lr", 0.5)]);
        assert_eq!(tags[8..], [(2, "monitor/knn_accuracy", 50.0), (2, "monitor/asr", 10.0)]);
        assert!(read.iter().all(|s| s.wall_time > 1.7e9), "{read:?}");

        // A resume from step 2 keeps the version, steps 1-2 and the monitor at step 2, and
        // a record cut by a kill is dropped rather than failing the run.
        let mut bytes = fs_err::read(&path).unwrap();
        bytes.extend_from_slice(&[7, 0, 0]);
        fs_err::write(&path, &bytes).unwrap();
        assert!(read_scalars(&path).unwrap_err().to_string().contains("cut short"));
        let mut log = EventLog::open(dir.path(), 2).unwrap();
        log.step(&step(3, 30.0)).unwrap();
        let steps: Vec<(u64, f32)> = read_scalars(&path)
            .unwrap()
            .iter()
            .filter(|s| s.tag == "train/loss")
            .map(|s| (s.step, s.value))
            .collect();
        assert_eq!(steps, [(1, 1.0), (2, 2.0), (3, 30.0)]);
        let bytes = fs_err::read(&path).unwrap();
        let (records, _) = split_records(&bytes);
        let first = Event::decode(records[0]).unwrap();
        assert_eq!(first.what, What::FileVersion("brain.Event:2".into()));
    }
}
