//! The poison output folder shared by every attack: images, `manifest.jsonl`,
//! `filelist.txt`, `config.toml`, `preview.png` (and `captions.csv` for CLIP attacks).
use std::path::{Path, PathBuf};

use corruptencoder_core::{IoError, OutputDir, Progress, SettingError, item_rng, sha256_hex};
use corruptencoder_data::{list_entry, png_bytes};
use rayon::prelude::*;
use serde::Serialize;

use crate::attack::{Attack, Layout, PoisonItem, PoisonKind};
use crate::error::{Error, Result};
use crate::preview::contact_sheet;

/// RNG stream of poison generation (other streams: augmentation, test sets).
pub const POISON_STREAM: u64 = 1;

/// How to write a poison set.
#[derive(Debug, Clone)]
pub struct OutputOptions {
    /// Final output folder.
    pub out: PathBuf,
    /// Replace an existing output folder.
    pub force: bool,
    /// The run's seed.
    pub seed: u64,
    /// The clean pre-training list to prepend to `filelist.txt`.
    pub clean_list: Option<PathBuf>,
    /// The resolved configuration, written as `config.toml`.
    pub config_toml: String,
    /// How many poisons the preview shows.
    pub preview_count: usize,
    /// A folder holding the output and (some of) the clean images: `filelist.txt` and
    /// `captions.csv` name the files under it relative to the output folder, so the whole
    /// tree can be moved or renamed; files elsewhere keep absolute paths. None: every
    /// entry absolute.
    pub list_root: Option<PathBuf>,
}

/// One manifest line.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct ManifestRecord {
    /// Poison index.
    pub index: usize,
    /// File name inside the output folder.
    pub file: String,
    /// Kind of poison.
    pub kind: PoisonKind,
    /// Reference used.
    pub reference: Option<String>,
    /// Background file used.
    pub background: Option<String>,
    /// Layout.
    pub layout: Option<Layout>,
    /// `[x, y, w, h]` of the object.
    pub object_box: Option<[u32; 4]>,
    /// `[x, y, w, h]` of the trigger.
    pub trigger_box: Option<[u32; 4]>,
    /// Caption (CLIP attacks).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub caption: Option<String>,
    /// Width and height of the image.
    pub size: [u32; 2],
    /// The run's seed.
    pub seed: u64,
    /// SHA-256 of the PNG file.
    pub sha256: String,
}

/// What a run wrote, for the caller to report and tests to assert.
#[derive(Debug, Clone)]
pub struct PoisonSummary {
    /// The output folder.
    pub out: PathBuf,
    /// Manifest records in index order.
    pub records: Vec<ManifestRecord>,
    /// Lines taken from the clean list.
    pub clean_lines: usize,
}

/// Makes every poison of `attack` in parallel and writes the output folder. Nothing is
/// left behind when any poison fails.
pub fn write_poison_set(
    attack: &dyn Attack,
    opts: &OutputOptions,
    progress: &dyn Progress,
) -> Result<PoisonSummary> {
    let clean = match &opts.clean_list {
        Some(p) => read_clean_list(p)?,
        None => Vec::new(),
    };
    let dir = OutputDir::create(&opts.out, opts.force)?;
    let final_dir = absolute(&opts.out);
    progress.start(attack.name(), attack.len() as u64);
    // rayon's collect into a Result stops handing out work after the first error.
    let made: Vec<(ManifestRecord, Option<PoisonItem>)> = (0..attack.len())
        .into_par_iter()
        .map(|index| {
            progress.check_cancelled()?;
            let out = make_one(attack, index, opts, dir.path());
            progress.advance(1);
            out
        })
        .collect::<Result<_>>()?;
    progress.finish();

    let mut manifest = String::new();
    let mut filelist = String::new();
    let mut captions = String::from("image,caption\n");
    let root = opts.list_root.as_deref().map(absolute);
    let entry = |path: &Path| list_entry(path, &final_dir, root.as_deref());
    for line in &clean {
        // `read_clean_list` checked the form and made the path absolute.
        let (path, label) = line.rsplit_once(' ').unwrap_or((line.as_str(), ""));
        filelist.push_str(&format!("{} {label}\n", entry(Path::new(path)).display()));
    }
    for (r, _) in &made {
        manifest.push_str(&serde_json::to_string(r).expect("records serialise"));
        manifest.push('\n');
        let image = entry(&final_dir.join(&r.file));
        filelist.push_str(&format!("{} -1\n", image.display()));
        if let Some(c) = &r.caption {
            captions.push_str(&format!("{},{}\n", image.display(), csv_field(c)));
        }
    }
    let write = |name: &str, bytes: &[u8]| -> Result<()> {
        let path = dir.path().join(name);
        fs_err::write(&path, bytes).map_err(|source| Error::Io(IoError::new("write", path, source)))
    };
    write("manifest.jsonl", manifest.as_bytes())?;
    write("filelist.txt", filelist.as_bytes())?;
    write("config.toml", opts.config_toml.as_bytes())?;
    if made.iter().any(|(r, _)| r.caption.is_some()) {
        write("captions.csv", captions.as_bytes())?;
    }
    let shown: Vec<&PoisonItem> = made.iter().filter_map(|(_, i)| i.as_ref()).collect();
    if !shown.is_empty() {
        write("preview.png", &png_bytes(&contact_sheet(&shown, 4, 256)))?;
    }
    let out = dir.commit()?;
    Ok(PoisonSummary {
        out,
        records: made.into_iter().map(|(r, _)| r).collect(),
        clean_lines: clean.len(),
    })
}

/// Makes poison `index`, writes its PNG into `dir` and returns its manifest record (and
/// the item itself if the preview shows it).
fn make_one(
    attack: &dyn Attack,
    index: usize,
    opts: &OutputOptions,
    dir: &Path,
) -> Result<(ManifestRecord, Option<PoisonItem>)> {
    let mut rng = item_rng(opts.seed, POISON_STREAM, index as u64);
    let item = attack.poison(index, &mut rng)?;
    let file = format!("poison_{index:05}.png");
    let bytes = png_bytes(&item.image);
    let path = dir.join(&file);
    fs_err::write(&path, &bytes)
        .map_err(|source| Error::Io(IoError::new("write", path, source)))?;
    let record = ManifestRecord {
        index,
        file,
        kind: item.kind.clone(),
        reference: item.reference.clone(),
        background: item.background.clone(),
        layout: item.layout,
        object_box: item.object_box.map(|b| b.to_array()),
        trigger_box: item.trigger_box.map(|b| b.to_array()),
        caption: item.caption.clone(),
        size: [item.image.width(), item.image.height()],
        seed: opts.seed,
        sha256: sha256_hex(&bytes),
    };
    Ok((record, (index < opts.preview_count).then_some(item)))
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.into() }
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Reads the clean list (`path label` per line), checking each line's form. Relative
/// paths are made absolute against the list's folder, as the list's readers resolve them:
/// the lines move into the poisons' `filelist.txt`, another folder, where a relative path
/// would point elsewhere. Blank lines and `#` comments are left out, as readers skip them.
pub fn read_clean_list(path: &Path) -> Result<Vec<String>> {
    let text = fs_err::read_to_string(path)
        .map_err(|source| Error::Io(IoError::new("read clean list", path.to_path_buf(), source)))?;
    let base = absolute(path.parent().unwrap_or(Path::new(".")));
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let entry = line
            .rsplit_once(char::is_whitespace)
            .map(|(p, l)| (p.trim_end(), l))
            .filter(|(p, l)| !p.is_empty() && l.parse::<i64>().is_ok());
        let Some((file, label)) = entry else {
            let problem = format!("line {}: expected `path label`, got `{line}`", i + 1);
            return Err(SettingError::new("clean_list", path.display(), problem).into());
        };
        lines.push(format!("{} {label}", base.join(file).display()));
    }
    Ok(lines)
}
