//! Triggered downstream test sets (method.md section 7): every test image resized, centre-cropped
//! and given the trigger, as the authors build theirs.
use std::path::PathBuf;

use corruptencoder_core::{IoError, OutputDir, Progress, SettingError, item_rng};
use corruptencoder_data::{Dataset, ImageLimits, PixelBox, png_bytes};
use image::RgbImage;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::trigger::{FrequencyTrigger, band_position, paste};

/// RNG stream of test-set trigger positions.
pub const TESTSET_STREAM: u64 = 2;

/// File format of triggered test images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum TestImageFormat {
    /// JPEG, as the authors save (lossy: the trigger is seen through compression).
    #[default]
    Jpeg,
    /// Lossless PNG.
    Png,
}

/// Options of a triggered test set. Defaults are the authors' ImageNet setting (method.md section
/// 7); for 32x32 data use `resize: None, crop: 32` and a small trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TestSetConfig {
    /// Shorter side after resizing, bilinear like torchvision `Resize` (256); `None` skips.
    pub resize: Option<u32>,
    /// Side of the centre crop (224).
    pub crop: u32,
    /// Trigger side in pixels (40).
    pub trigger_size: u32,
    /// x, y ~ randint(band * crop, (1 - band) * crop - trigger) independently (0.25, which
    /// gives the authors' randint(56, 128) at 224 px).
    pub band: f64,
    /// Output format (JPEG).
    pub format: TestImageFormat,
    /// JPEG quality (75).
    pub jpeg_quality: u8,
}

impl Default for TestSetConfig {
    fn default() -> Self {
        Self {
            resize: Some(256),
            crop: 224,
            trigger_size: 40,
            band: 0.25,
            format: TestImageFormat::Jpeg,
            jpeg_quality: 75,
        }
    }
}

impl TestSetConfig {
    /// Checks ranges before any work starts.
    pub fn validate(&self) -> Result<()> {
        let bad = |key, value: String, problem: String| {
            Err(SettingError::new(key, value, problem).into())
        };
        if self.crop == 0 {
            return bad("crop", "0".into(), "must be at least 1".into());
        }
        if let Some(r) = self.resize
            && r < self.crop
        {
            return bad("resize", r.to_string(), format!("is smaller than `crop` {}", self.crop));
        }
        if !(0.0..0.5).contains(&self.band) {
            return bad("band", self.band.to_string(), "must be in [0, 0.5)".into());
        }
        if !(1..=100).contains(&self.jpeg_quality) {
            let q = self.jpeg_quality.to_string();
            return bad("jpeg_quality", q, "must be in 1..=100".into());
        }
        Ok(())
    }
}

/// What marks a test image: a patch, or CTRL's frequency trigger.
#[derive(Debug, Clone)]
pub enum TestTrigger {
    /// An opaque patch (already `trigger_size` px).
    Patch(RgbImage),
    /// The CTRL transform, applied to the whole crop.
    Frequency(FrequencyTrigger),
}

/// One line of the test set's `manifest.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestRecord {
    /// File inside the output folder.
    pub file: String,
    /// The clean test image it was made from.
    pub source: String,
    /// Its true label.
    pub label: i64,
    /// `[x, y, w, h]` of the patch (none for the frequency trigger).
    pub trigger_box: Option<[u32; 4]>,
    /// The run's seed.
    pub seed: u64,
}

/// Where and how to write a test set.
#[derive(Debug, Clone)]
pub struct TestSetOptions {
    /// Final output folder.
    pub out: PathBuf,
    /// Replace an existing output folder.
    pub force: bool,
    /// The run's seed.
    pub seed: u64,
    /// The resolved configuration, written as `config.toml`.
    pub config_toml: String,
    /// Decoding limits for the test images.
    pub limits: ImageLimits,
}

/// What a test-set run wrote.
#[derive(Debug, Clone)]
pub struct TestSetSummary {
    /// The output folder.
    pub out: PathBuf,
    /// One record per test image, in dataset order.
    pub records: Vec<TestRecord>,
}

/// torchvision `Resize(size)` (see [`corruptencoder_data::resize_shorter`]).
pub fn resize_shorter(img: &RgbImage, size: u32) -> RgbImage {
    corruptencoder_data::resize_shorter(img, size)
}

/// torchvision `CenterCrop`; an image smaller than the crop is an error naming `name`,
/// where torchvision would pad.
pub fn center_crop(img: &RgbImage, crop: u32, name: &str) -> Result<RgbImage> {
    corruptencoder_data::center_crop(img, crop).ok_or_else(|| {
        let (width, height) = img.dimensions();
        Error::ImageTooSmall { source_image: name.into(), width, height, crop }
    })
}

/// [`resize_shorter`] to `resize` then [`center_crop`] to `crop`.
pub fn resize_center_crop(img: &RgbImage, resize: u32, crop: u32, name: &str) -> Result<RgbImage> {
    center_crop(&resize_shorter(img, resize), crop, name)
}

/// Encodes a test image in the configured format.
fn encode(img: &RgbImage, config: &TestSetConfig) -> Vec<u8> {
    match config.format {
        TestImageFormat::Png => png_bytes(img),
        TestImageFormat::Jpeg => {
            let mut out = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, config.jpeg_quality)
                .encode_image(img)
                .expect("encoding to memory cannot fail");
            out
        }
    }
}

/// Makes the triggered twin of test sample `i`.
pub fn trigger_test_image(
    ds: &dyn Dataset,
    i: usize,
    config: &TestSetConfig,
    trigger: &TestTrigger,
    seed: u64,
    limits: &ImageLimits,
) -> Result<(RgbImage, Option<PixelBox>)> {
    let source = ds.source(i);
    let mut img = ds.load(i, limits)?;
    if let Some(r) = config.resize {
        img = resize_shorter(&img, r);
    }
    let mut img = center_crop(&img, config.crop, &source)?;
    match trigger {
        TestTrigger::Frequency(f) => Ok((f.apply(&img), None)),
        TestTrigger::Patch(patch) => {
            let mut rng = item_rng(seed, TESTSET_STREAM, i as u64);
            let (w, h) = patch.dimensions();
            let (x, y) = band_position(
                &mut rng,
                img.dimensions(),
                (w, h),
                config.band,
                "trigger_size",
                || format!("test image {source}"),
            )?;
            paste(&mut img, patch, x, y);
            Ok((img, Some(PixelBox { x, y, w, h })))
        }
    }
}

/// Writes the triggered twin of every sample of `ds` into `opts.out`: `images/NNNNNN.jpg`,
/// `filelist.txt` (`images/... label`, readable as a file-list dataset), `manifest.jsonl`,
/// `config.toml`, and `classes.txt` when class names are known. Nothing is left behind on
/// failure.
pub fn write_test_set(
    ds: &dyn Dataset,
    config: &TestSetConfig,
    trigger: &TestTrigger,
    opts: &TestSetOptions,
    progress: &dyn Progress,
) -> Result<TestSetSummary> {
    config.validate()?;
    // Every size is checked against the limits before the folder exists: a huge `resize`
    // would allocate per image, and a patch wider than the crop fails every image.
    if let Some(r) = config.resize {
        opts.limits.check_size("resize", r, r)?;
    }
    opts.limits.check_size("crop", config.crop, config.crop)?;
    if let TestTrigger::Patch(p) = trigger
        && (p.width() > config.crop || p.height() > config.crop)
    {
        let problem = format!("does not fit the {c}x{c} crop (`crop`)", c = config.crop);
        return Err(SettingError::new("trigger_size", p.width(), problem).into());
    }
    if ds.is_empty() {
        return Err(
            corruptencoder_data::Error::EmptyDataset { path: ds.path().to_path_buf() }.into()
        );
    }
    let dir = OutputDir::create(&opts.out, opts.force)?;
    let images = dir.path().join("images");
    fs_err::create_dir(&images)
        .map_err(|source| Error::Io(IoError::new("create", images.clone(), source)))?;
    let ext = match config.format {
        TestImageFormat::Jpeg => "jpg",
        TestImageFormat::Png => "png",
    };
    progress.start("testset", ds.len() as u64);
    let records: Vec<TestRecord> = (0..ds.len())
        .into_par_iter()
        .map(|i| {
            progress.check_cancelled()?;
            let (img, tbox) = trigger_test_image(ds, i, config, trigger, opts.seed, &opts.limits)?;
            let file = format!("images/{i:06}.{ext}");
            let path = dir.path().join(&file);
            fs_err::write(&path, encode(&img, config))
                .map_err(|source| Error::Io(IoError::new("write", path, source)))?;
            progress.advance(1);
            Ok(TestRecord {
                file,
                source: ds.source(i),
                label: ds.label(i),
                trigger_box: tbox.map(|b| b.to_array()),
                seed: opts.seed,
            })
        })
        .collect::<Result<_>>()?;
    progress.finish();

    let mut manifest = String::new();
    let mut filelist = String::new();
    for r in &records {
        manifest.push_str(&serde_json::to_string(r).expect("records serialise"));
        manifest.push('\n');
        filelist.push_str(&format!("{} {}\n", r.file, r.label));
    }
    let write = |name: &str, text: &str| -> Result<()> {
        let path = dir.path().join(name);
        fs_err::write(&path, text).map_err(|source| Error::Io(IoError::new("write", path, source)))
    };
    write("manifest.jsonl", &manifest)?;
    write("filelist.txt", &filelist)?;
    write("config.toml", &opts.config_toml)?;
    if let Some(names) = ds.class_names() {
        write("classes.txt", &(names.join("\n") + "\n"))?;
    }
    let out = dir.commit()?;
    log::info!("wrote {} triggered test images to {}", records.len(), out.display());
    Ok(TestSetSummary { out, records })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resize_and_crop_follow_torchvision_sizes() {
        let img = RgbImage::new(500, 375);
        assert_eq!(resize_shorter(&img, 256).dimensions(), (341, 256));
        let img = RgbImage::from_fn(5, 4, |x, y| image::Rgb([x as u8, y as u8, 0]));
        // (5 - 2) / 2 = 1.5 rounds to 2, (4 - 2) / 2 = 1.
        let c = center_crop(&img, 2, "x").unwrap();
        assert_eq!(c.get_pixel(0, 0).0, [2, 1, 0]);
        let err = center_crop(&img, 6, "small.png").unwrap_err().to_string();
        assert!(err.contains("small.png") && err.contains("6x6"), "{err}");
    }
}
