//! The pre-training-set filter both front doors call (`corruptencoder defend` and the
//! detector arms of an experiment): embed every image of a `path label` list or an
//! `image,caption` CSV with an encoder, let a detector score the set and flag images (from
//! the embeddings alone, or with the images and the encoder too), and write the scores and
//! the set without the flagged images. Where the poisons are known (label -1 in a list, or
//! the rows from a given one on), the detector is scored against them.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use corruptencoder_core::{Progress, write_atomic};
use corruptencoder_data::{
    CaptionedImages, Dataset, DatasetFormat, FileList, list_entry, open_dataset, write_caption_csv,
};
use corruptencoder_eval::{DetectionQuality, Features, detection_quality};
use corruptencoder_train::{
    EncoderConfig, EvalTransform, ExtractOptions, extract_features, load_encoder_weights,
};

use crate::base::Result;
use crate::detect::{DetectionSet, Detector};

/// What [`filter_list`] reads.
pub struct FilterJob<'a> {
    /// The pre-training set: a `path label` list, poisons labelled -1, or (with
    /// `captions`) an `image,caption` CSV.
    pub list: &'a Path,
    /// `Some(n)`: `list` is an `image,caption` CSV whose rows from `n` on are the poisons
    /// (captioned images carry no labels); `None`: a `path label` list.
    pub captions: Option<usize>,
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
    /// The seed of the detector's random choices (the run's seed).
    pub seed: u64,
    /// Progress of the embedding pass and the detector's own.
    pub progress: &'a dyn Progress,
}

/// What [`filter_list`] wrote and measured.
#[derive(Debug, Clone)]
pub struct Filtered {
    /// The set without the flagged images (`kept.txt`, or `kept.csv` for captions).
    pub kept: PathBuf,
    /// The detector against the list's poison marks.
    pub quality: DetectionQuality,
}

/// Scores every image of `job.list` with `detector` and writes into the existing folder
/// `dir`: `scores.csv` (`index,image,poison,score,flagged`, one row per image in list
/// order), the set without the flagged images and whatever files the detector keeps, each
/// atomically.
pub fn filter_list(detector: &dyn Detector, job: &FilterJob<'_>, dir: &Path) -> Result<Filtered> {
    let rows = Rows::open(job)?;
    detector.check_set(rows.len())?;
    let format =
        if job.captions.is_some() { DatasetFormat::CaptionCsv } else { DatasetFormat::FileList };
    let ds = open_dataset(job.list, Some(format))?;
    let x = &job.extract;
    let (encoder, _) = load_encoder_weights(job.encoder, job.arch, &x.device)?;
    let f = extract_features(
        &encoder,
        ds.as_ref(),
        &job.transform,
        x.batch_size,
        &x.device,
        &x.limits,
        job.progress,
    )?;
    let poison: Vec<bool> = match job.captions {
        Some(first) => (0..f.labels.len()).map(|i| i >= first).collect(),
        None => f.labels.iter().map(|&l| l < 0).collect(),
    };
    let embeddings = Features::new(f.values, f.dim)?;
    let set = DetectionSet {
        images: ds.as_ref(),
        embeddings: &embeddings,
        encoder: &encoder,
        transform: job.transform,
        extract: x,
        seed: job.seed,
        dir,
        progress: job.progress,
    };
    let detection = detector.detect(&set)?;
    let (scores, flagged) = (detection.scores, detection.flagged);
    let quality = detection_quality(&scores, &poison, &flagged)?;

    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (here, root) = (absolute(dir), job.list_root.map(absolute));
    let mut csv = String::from("index,image,poison,score,flagged\n");
    let mut kept = Vec::new();
    for (i, (&score, &out)) in scores.iter().zip(&flagged).enumerate() {
        let entry = list_entry(&absolute(rows.image_path(i)), &here, root.as_deref());
        let shown = entry.display();
        let _ = writeln!(csv, "{i},{shown},{},{score},{}", u8::from(poison[i]), u8::from(out));
        if !out {
            kept.push((entry.clone(), i));
        }
    }
    write_atomic(&dir.join("scores.csv"), csv.as_bytes())?;
    Ok(Filtered { kept: rows.write_kept(&kept, dir)?, quality })
}

/// The set's rows as the filter reads and writes them back.
enum Rows {
    List(FileList),
    Captions(CaptionedImages),
}

impl Rows {
    fn open(job: &FilterJob<'_>) -> Result<Self> {
        Ok(match job.captions {
            Some(_) => Self::Captions(CaptionedImages::open_csv(job.list)?),
            None => Self::List(FileList::open(job.list)?),
        })
    }

    fn len(&self) -> usize {
        match self {
            Self::List(l) => l.len(),
            Self::Captions(c) => c.len(),
        }
    }

    fn image_path(&self, i: usize) -> &Path {
        match self {
            Self::List(l) => l.image_path(i),
            Self::Captions(c) => c.image_path(i),
        }
    }

    /// Writes the rows `kept` (each its entry and row index) as the set's format, under
    /// `dir`, atomically; returns the file.
    fn write_kept(&self, kept: &[(PathBuf, usize)], dir: &Path) -> Result<PathBuf> {
        match self {
            Self::List(l) => {
                let mut text = String::new();
                for (entry, i) in kept {
                    let _ = writeln!(text, "{} {}", entry.display(), l.label(*i));
                }
                let path = dir.join("kept.txt");
                write_atomic(&path, text.as_bytes())?;
                Ok(path)
            }
            Self::Captions(c) => {
                let pairs: Vec<(PathBuf, String)> = kept
                    .iter()
                    .map(|(entry, i)| (entry.clone(), c.caption(*i).unwrap_or_default().to_owned()))
                    .collect();
                let (path, staged) = (dir.join("kept.csv"), dir.join(".kept.csv.partial"));
                write_caption_csv(&staged, &pairs)?;
                fs_err::rename(&staged, &path).map_err(|e| {
                    corruptencoder_core::Error::Io(corruptencoder_core::IoError::new(
                        "rename",
                        staged.clone(),
                        e,
                    ))
                })?;
                Ok(path)
            }
        }
    }
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
