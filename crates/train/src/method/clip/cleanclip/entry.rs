//! The CleanCLIP entry point: the trained CLIP model and its tokenizer read from its folder,
//! the clean pairs chosen, and the loop run from the loaded weights into a run folder that
//! zero-shot evaluation reads as any CLIP run's.
use std::path::{Path, PathBuf};

use corruptencoder_core::{OutputDir, item_rng, uniform_int, write_atomic};
use corruptencoder_data::{
    CaptionedImages, Dataset as _, DatasetFormat, Tokenizer, list_entry, open_dataset,
    write_caption_csv,
};
use serde::{Deserialize, Serialize};

use super::config::CleanClipConfig;
use super::learner::CleanClip;
use crate::config::PretrainConfig;
use crate::error::{Error, Result};
use crate::method::MethodConfig;
use crate::method::clip::files::{CLIP_FILE, TOKENIZER_FILE, import_clip};
use crate::run::entry::{commit_run, open_store};
use crate::run::job::{Job, PretrainRun, PretrainSummary};
use crate::run::output::prepare_output;
use crate::run::train::train;

/// The pairs a fine-tuning trained on, in the run folder (absolute image paths).
pub const PAIRS_FILE: &str = "pairs.csv";
/// The CleanCLIP settings and source model of a fine-tuning, in the run folder.
pub const CLEANCLIP_FILE: &str = "cleanclip.toml";

/// The stream of the clean-pair sample, clear of the data streams and of the captions'.
const PAIRS_STREAM: u64 = u64::MAX - 2;

/// What `cleanclip.toml` records: the model fine-tuned and the settings.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    /// The folder of the CLIP run fine-tuned, relative to the fine-tuned run's folder (so
    /// that it still holds when a folder holding both is moved).
    source: PathBuf,
    cleanclip: CleanClipConfig,
}

/// Fine-tunes the CLIP model of `source` (a `clip` run's folder: `config.toml`,
/// `clip.safetensors`, `tokenizer.json`) with CleanCLIP on the clean pairs `run.data` (an
/// `image,caption` CSV, or a folder of images with `.txt` captions), writing into `run.out`
/// a run folder of the same kind (`config.toml`, the tokenizer, `clip.safetensors`,
/// `encoder.safetensors`, `log.jsonl`, checkpoints) plus `pairs.csv` and `cleanclip.toml`. The folder is staged and resumable as
/// [`pretrain`](crate::pretrain)'s; `run.format` is ignored.
pub fn finetune_cleanclip(
    settings: &CleanClipConfig,
    source: &Path,
    run: PretrainRun<'_>,
) -> Result<PretrainSummary> {
    settings.validate()?;
    let base = PretrainConfig::from_stored_toml_file(&source.join("config.toml"))?;
    let MethodConfig::Clip(clip) = &base.method else {
        let method = base.method.name();
        return Err(Error::NotImageText { path: source.to_path_buf(), method });
    };
    let config = settings.run_config(&base);
    config.validate()?;
    OutputDir::check(run.out, run.force)?;
    let tokenizer = Tokenizer::from_file(&source.join(TOKENIZER_FILE))?;
    let pairs = match run.data.is_dir() {
        true => CaptionedImages::open_folder(run.data)?,
        false => CaptionedImages::open_csv(run.data)?,
    };
    let rows = chosen_pairs(settings, pairs.len());
    if rows.len() < settings.batch_size {
        return Err(Error::BatchTooLarge { batch: settings.batch_size, images: rows.len() });
    }
    let out = prepare_output(&config, run.out, run.resume, run.force)?;
    let dir = out.path().to_path_buf();
    write_inputs(&dir, settings, source, (&pairs, &rows), &tokenizer)?;
    let data = dir.join(PAIRS_FILE);
    let dataset = open_dataset(&data, Some(DatasetFormat::CaptionCsv))?;
    let (store, skipped) = open_store(dataset, &config, &data)?;
    let device = run.device.clone().autodiff();
    device.seed(config.seed);
    // Every weight is replaced by the file's; the draw only sets shapes.
    let fresh = clip.init(&config.encoder, tokenizer.vocab_size(), &device, &mut item_rng(0, 0, 0));
    let model = import_clip(fresh, &source.join(CLIP_FILE))?;
    let learner = CleanClip::new(settings, &store, &tokenizer, config.views.size, &device)?;
    let job =
        Job { config: &config, store: &store, run, dir: &dir, device: &device, replicas: &[] };
    let mut summary = train(&learner, model, job)?;
    summary.skipped = skipped;
    commit_run(out, summary)
}

/// The rows of the `n` pairs to fine-tune on: all of them when `clean_pairs` is 0 or at
/// least `n`, else that many drawn without replacement with the seed, in file order.
fn chosen_pairs(settings: &CleanClipConfig, n: usize) -> Vec<usize> {
    let mut rows: Vec<usize> = (0..n).collect();
    if settings.clean_pairs == 0 || settings.clean_pairs >= n {
        return rows;
    }
    let rng = &mut item_rng(settings.seed, PAIRS_STREAM, 0);
    for i in 0..settings.clean_pairs {
        rows.swap(i, uniform_int(rng, i as i64, n as i64 - 1) as usize);
    }
    rows.truncate(settings.clean_pairs);
    rows.sort_unstable();
    rows
}

/// Writes the run's inputs into the staged folder `dir`: `cleanclip.toml`, the chosen
/// `pairs` as `pairs.csv`, and the source model's tokenizer. A resumed folder keeps its
/// files, and must hold the same settings.
fn write_inputs(
    dir: &Path,
    settings: &CleanClipConfig,
    source: &Path,
    (pairs, rows): (&CaptionedImages, &[usize]),
    tokenizer: &Tokenizer,
) -> Result<()> {
    let record_path = dir.join(CLEANCLIP_FILE);
    if let Ok(text) = fs_err::read_to_string(&record_path) {
        let same = toml::from_str::<Record>(&text).is_ok_and(|r| &r.cleanclip == settings);
        return match same {
            true => Ok(()),
            false => Err(Error::DifferentRun { path: dir.to_path_buf() }),
        };
    }
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let chosen: Vec<(PathBuf, String)> = rows
        .iter()
        .map(|&i| (absolute(pairs.image_path(i)), pairs.caption(i).unwrap_or_default().to_owned()))
        .collect();
    let staged = dir.join(".pairs.csv.partial");
    write_caption_csv(&staged, &chosen)?;
    fs_err::rename(&staged, dir.join(PAIRS_FILE))
        .map_err(|e| corruptencoder_core::IoError::new("rename", staged.clone(), e))?;
    write_atomic(&dir.join(TOKENIZER_FILE), tokenizer.to_json().as_bytes())?;
    let record =
        Record { source: relative(&absolute(source), &absolute(dir)), cleanclip: *settings };
    let text = toml::to_string_pretty(&record).expect("the record serialises");
    // Last: its presence marks the inputs as written.
    write_atomic(&record_path, text.as_bytes())?;
    Ok(())
}

/// The absolute `path` as seen from the absolute folder `dir`: up to their deepest common
/// folder, then down.
fn relative(path: &Path, dir: &Path) -> PathBuf {
    let common: PathBuf = path
        .components()
        .zip(dir.components())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a)
        .collect();
    list_entry(path, dir, Some(&common))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subset_is_seeded_sorted_and_distinct() {
        let s = CleanClipConfig { clean_pairs: 5, seed: 3, ..Default::default() };
        let rows = chosen_pairs(&s, 40);
        assert_eq!(rows, chosen_pairs(&s, 40));
        assert_eq!(rows.len(), 5);
        assert!(rows.windows(2).all(|w| w[0] < w[1]) && rows[4] < 40);
        assert_ne!(rows, chosen_pairs(&CleanClipConfig { seed: 4, ..s }, 40));
        assert_eq!(
            chosen_pairs(&CleanClipConfig { clean_pairs: 0, ..s }, 7),
            (0..7).collect::<Vec<_>>()
        );
        assert_eq!(chosen_pairs(&CleanClipConfig { clean_pairs: 9, ..s }, 7).len(), 7);
    }

    #[test]
    fn the_source_is_named_from_the_run_folder() {
        let rel = |p: &str, d: &str| relative(Path::new(p), Path::new(d));
        assert_eq!(
            rel("/x/runs/a/seed-0/pretrain", "/x/runs/b/seed-0/cleanclip"),
            Path::new("../../../a/seed-0/pretrain")
        );
        assert_eq!(rel("/w/clip", "/w/.clean.partial"), Path::new("../clip"));
    }
}
