//! The pre-training-set filter both front doors call (`corruptencoder defend` and the
//! detector arms of an experiment): embed every image of a `path label` list with an
//! encoder, score the embeddings with a detector, flag the highest scores, and write the
//! scores and the list without the flagged images. Where the list marks poisons (label -1),
//! the detector is scored against them.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use corruptencoder_core::{Progress, write_atomic};
use corruptencoder_data::{Dataset, DatasetFormat, FileList, list_entry, open_dataset};
use corruptencoder_eval::{DetectionQuality, Features, detection_quality, flag_highest};
use corruptencoder_train::{EncoderConfig, EvalTransform, ExtractOptions, FeatureJob, FeatureSets};

use crate::base::Result;
use crate::detect::Detector;

/// What [`filter_list`] reads.
pub struct FilterJob<'a> {
    /// The pre-training set: a `path label` list, poisons labelled -1.
    pub list: &'a Path,
    /// The encoder whose embeddings are scored (the poisoned one, as the detectors assume).
    pub encoder: &'a Path,
    /// Its architecture, checked; `None` infers it from the weights.
    pub arch: Option<&'a EncoderConfig>,
    /// How each image is shown to the encoder.
    pub transform: EvalTransform,
    /// Batch, device and image limits of the embedding pass.
    pub extract: ExtractOptions,
    /// A folder that may be renamed as a whole (a staged experiment): the kept list names
    /// the images under it relative to itself. Other images keep absolute paths.
    pub list_root: Option<&'a Path>,
    /// Progress of the embedding pass.
    pub progress: &'a dyn Progress,
}

/// What [`filter_list`] wrote and measured.
#[derive(Debug, Clone)]
pub struct Filtered {
    /// The list without the flagged images (`kept.txt`).
    pub kept: PathBuf,
    /// The detector against the list's poison marks.
    pub quality: DetectionQuality,
}

/// Scores every image of `job.list` with `detector` and writes into the existing folder
/// `dir`: `scores.csv` (`index,image,poison,score,flagged`, one row per image in list
/// order) and `kept.txt`, each atomically.
pub fn filter_list(detector: &dyn Detector, job: &FilterJob<'_>, dir: &Path) -> Result<Filtered> {
    let list = FileList::open(job.list)?;
    detector.check_set(list.len())?;
    let ds = open_dataset(job.list, Some(DatasetFormat::FileList))?;
    let jobs = [FeatureJob { name: "pretraining", dataset: ds.as_ref(), transform: job.transform }];
    let sets = FeatureSets::extract(job.encoder, job.arch, &jobs, &job.extract, job.progress)?;
    let f = sets.get("pretraining").expect("the one set extracted");
    let poison: Vec<bool> = f.labels.iter().map(|&l| l < 0).collect();
    let scores = detector.score(&Features::new(f.values.clone(), f.dim)?)?;
    let flagged = flag_highest(&scores, detector.flag_count(scores.len()));
    let quality = detection_quality(&scores, &poison, &flagged)?;

    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (here, root) = (absolute(dir), job.list_root.map(absolute));
    let mut csv = String::from("index,image,poison,score,flagged\n");
    let mut kept = String::new();
    for (i, (&score, &out)) in scores.iter().zip(&flagged).enumerate() {
        let entry = list_entry(&absolute(list.image_path(i)), &here, root.as_deref());
        let (shown, label) = (entry.display(), ds.label(i));
        let _ = writeln!(csv, "{i},{shown},{},{score},{}", u8::from(poison[i]), u8::from(out));
        if !out {
            let _ = writeln!(kept, "{shown} {label}");
        }
    }
    write_atomic(&dir.join("scores.csv"), csv.as_bytes())?;
    let kept_path = dir.join("kept.txt");
    write_atomic(&kept_path, kept.as_bytes())?;
    Ok(Filtered { kept: kept_path, quality })
}

/// The scores and poison marks of a `scores.csv` written by [`filter_list`], read from
/// the right since an image path may hold commas; `None` if it is not one.
pub fn read_scores(csv: &Path) -> Option<(Vec<f64>, Vec<bool>)> {
    let text = fs_err::read_to_string(csv).ok()?;
    let mut scores = Vec::new();
    let mut poison = Vec::new();
    for line in text.lines().skip(1) {
        let mut fields = line.rsplitn(4, ',');
        let (_flagged, score, is_poison) = (fields.next()?, fields.next()?, fields.next()?);
        scores.push(score.parse().ok()?);
        poison.push(is_poison == "1");
    }
    Some((scores, poison))
}
