//! Frozen-encoder features of a labelled dataset: the input of the downstream probe
//! (method.md section 7), computed once per encoder and cached by the caller.
use burn::prelude::*;
use corruptencoder_augment::{FloatImage, IMAGENET_MEAN, IMAGENET_STD, normalize};
use corruptencoder_core::{Progress, SettingError};
use corruptencoder_data::{Dataset, ImageLimits, center_crop, resize_shorter};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::encoder::Encoder;
use crate::error::{Error, Result};

/// The downstream test transform: torchvision `Resize(resize)` (shorter side) then
/// `CenterCrop(crop)`, `ToTensor`, ImageNet normalisation. Defaults: method.md section 7 (256,
/// 224).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalTransform {
    /// Shorter side after resizing; 0 keeps the image as it is (a number, not an option,
    /// so that TOML can say "no resize" where a field left out means the default).
    pub resize: u32,
    /// Side of the centre crop the encoder sees.
    pub crop: u32,
}

impl Default for EvalTransform {
    fn default() -> Self {
        Self { resize: 256, crop: 224 }
    }
}

impl EvalTransform {
    /// For small images whose side is already the training view size: crop only.
    pub fn crop_only(crop: u32) -> Self {
        Self { resize: 0, crop }
    }

    /// The normalised planar `3 x crop x crop` input of one image.
    pub fn apply(&self, image: &image::RgbImage, source: &str) -> Result<Vec<f32>> {
        let mut f = FloatImage::from_rgb(&self.prepare(image, source)?);
        normalize(&mut f, IMAGENET_MEAN, IMAGENET_STD);
        Ok(f.data)
    }

    /// The `crop x crop` pixels the encoder sees of one image, before `ToTensor` and the
    /// normalisation: resized (when `resize` is set), then centre-cropped. `source` names
    /// the image in the error when it is smaller than the crop.
    pub fn prepare(&self, image: &image::RgbImage, source: &str) -> Result<image::RgbImage> {
        let resized;
        let image = if self.resize > 0 {
            resized = resize_shorter(image, self.resize);
            &resized
        } else {
            image
        };
        center_crop(image, self.crop).ok_or_else(|| Error::ImageTooSmall {
            source_image: source.to_owned(),
            width: image.width(),
            height: image.height(),
            crop: self.crop,
        })
    }
}

/// Features and labels of every sample of a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractedFeatures {
    /// Row-major `rows x dim`.
    pub values: Vec<f32>,
    /// Feature dimension.
    pub dim: usize,
    /// The dataset's label of each row.
    pub labels: Vec<i64>,
}

/// Runs `encoder` in inference mode (batch norm on running statistics: `device` must not
/// be an autodiff device) over every sample of `ds`, `batch` images at a time. Images are
/// decoded and transformed on rayon's threads.
pub fn extract_features(
    encoder: &Encoder,
    ds: &dyn Dataset,
    transform: &EvalTransform,
    batch: usize,
    device: &Device,
    limits: &ImageLimits,
    progress: &dyn Progress,
) -> Result<ExtractedFeatures> {
    let forward = |x: Tensor<4>| encoder.forward(x);
    extract_with(&forward, ds, transform, batch, device, limits, progress)
}

/// [`extract_features`] with any image network `forward` (`[B, 3, H, W]` to `[B, D]`), such
/// as CLIP's image tower with its projection.
pub(crate) fn extract_with(
    forward: &dyn Fn(Tensor<4>) -> Tensor<2>,
    ds: &dyn Dataset,
    transform: &EvalTransform,
    batch: usize,
    device: &Device,
    limits: &ImageLimits,
    progress: &dyn Progress,
) -> Result<ExtractedFeatures> {
    // Checked before any image is read: a 0 crop would fail deep in normalisation, and a 0
    // batch would never advance.
    if transform.crop == 0 {
        return Err(SettingError::new("crop", 0, "must be at least 1").into());
    }
    if batch == 0 {
        return Err(SettingError::new("batch_size", 0, "must be at least 1").into());
    }
    limits.check_size("crop", transform.crop, transform.crop)?;
    // Resizing makes the shorter side this long: at least a square of it is allocated.
    limits.check_size("resize", transform.resize, transform.resize)?;
    if ds.is_empty() {
        return Err(Error::EmptyDataset { path: ds.path().to_path_buf() });
    }
    let side = transform.crop as usize;
    let mut out = ExtractedFeatures { values: Vec::new(), dim: 0, labels: Vec::new() };
    progress.start("features", ds.len() as u64);
    for start in (0..ds.len()).step_by(batch) {
        progress.check_cancelled()?;
        let indices: Vec<usize> = (start..(start + batch).min(ds.len())).collect();
        let inputs = indices
            .par_iter()
            .map(|&i| {
                let image = ds.load(i, limits)?;
                transform.apply(&image, &ds.source(i))
            })
            .collect::<Result<Vec<_>>>()?;
        let n = indices.len();
        let data = TensorData::new(inputs.concat(), [n, 3, side, side]);
        let features = forward(Tensor::<4>::from_data(data, device));
        out.dim = features.dims()[1];
        let values = features.into_data().convert::<f32>();
        out.values.extend(
            values.as_slice::<f32>().map_err(|e| Error::TensorData { what: format!("{e:?}") })?,
        );
        out.labels.extend(indices.iter().map(|&i| ds.label(i)));
        progress.advance(n as u64);
    }
    progress.finish();
    Ok(out)
}
