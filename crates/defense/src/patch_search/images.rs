//! The images PatchSearch reads and the network it reads them with: the pre-training
//! images as the encoder sees them (resized and centre-cropped), as stored (the poison
//! classifier crops them itself), and batched passes through the encoder's feature map.
use corruptencoder_augment::{FloatImage, IMAGENET_MEAN, IMAGENET_STD, normalize};
use corruptencoder_data::{Dataset, ImageLimits};
use corruptencoder_train::burn::prelude::*;
use corruptencoder_train::{EvalTransform, global_average};
use image::RgbImage;
use rayon::prelude::*;

use crate::base::Result;

/// The pre-training images, by index in list order.
pub(crate) trait Pictures: Sync {
    /// Image `i` as the encoder sees it, `side x side`.
    fn shown(&self, i: usize) -> Result<RgbImage>;

    /// Image `i` as stored.
    fn stored(&self, i: usize) -> Result<RgbImage>;

    /// Images `indices` as the encoder sees them, decoded on rayon's threads.
    fn shown_many(&self, indices: &[usize]) -> Result<Vec<RgbImage>> {
        indices.par_iter().map(|&i| self.shown(i)).collect()
    }
}

/// The images of a dataset under a test transform.
pub(crate) struct DatasetPictures<'a> {
    pub(crate) dataset: &'a dyn Dataset,
    pub(crate) transform: EvalTransform,
    pub(crate) limits: ImageLimits,
}

impl Pictures for DatasetPictures<'_> {
    fn shown(&self, i: usize) -> Result<RgbImage> {
        let image = self.stored(i)?;
        Ok(self.transform.prepare(&image, &self.dataset.source(i))?)
    }

    fn stored(&self, i: usize) -> Result<RgbImage> {
        Ok(self.dataset.load(i, &self.limits)?)
    }
}

/// The network PatchSearch asks: normalised `[B, 3, S, S]` images to the last feature map
/// `[B, C, h, w]`, whose global average is the embedding.
pub(crate) struct Network<'a> {
    pub(crate) feature_map: &'a dyn Fn(Tensor<4>) -> Tensor<4>,
    /// An inference device.
    pub(crate) device: Device,
    /// Images per pass.
    pub(crate) batch: usize,
}

/// The planar ImageNet-normalised values of `image`.
pub(crate) fn normalised(image: &RgbImage) -> Vec<f32> {
    let mut f = FloatImage::from_rgb(image);
    normalize(&mut f, IMAGENET_MEAN, IMAGENET_STD);
    f.data
}

/// The values of a tensor as `f32`.
pub(crate) fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().expect("converted to f32")
}

impl Network<'_> {
    /// `images` (all one square side) as one input tensor.
    pub(crate) fn input(&self, images: &[RgbImage]) -> Tensor<4> {
        let side = images.first().map_or(0, |i| i.width() as usize);
        let values: Vec<f32> = images.par_iter().flat_map(normalised).collect();
        Tensor::from_data(TensorData::new(values, [images.len(), 3, side, side]), &self.device)
    }

    /// The feature maps of `images`, concatenated, with their `[channels, h, w]`.
    pub(crate) fn maps(&self, images: &[RgbImage]) -> (Vec<f32>, [usize; 3]) {
        let mut out = Vec::new();
        let mut shape = [0; 3];
        for chunk in images.chunks(self.batch) {
            let map = (self.feature_map)(self.input(chunk));
            let [_, c, h, w] = map.dims();
            shape = [c, h, w];
            out.extend(host(map));
        }
        (out, shape)
    }

    /// The embeddings of `images`, row-major, with their width.
    pub(crate) fn embeddings(&self, images: &[RgbImage]) -> (Vec<f32>, usize) {
        let mut out = Vec::new();
        let mut dim = 0;
        for chunk in images.chunks(self.batch) {
            let z = global_average((self.feature_map)(self.input(chunk)));
            dim = z.dims()[1];
            out.extend(host(z));
        }
        (out, dim)
    }
}

/// The `window x window` square of `image` whose top-left pixel is `(row, column)`.
pub(crate) fn window(image: &RgbImage, (row, col): (usize, usize), window: usize) -> RgbImage {
    let w = window as u32;
    image::imageops::crop_imm(image, col as u32, row as u32, w, w).to_image()
}

/// `patch` copied onto `image` with its top-left pixel at `(row, column)`.
pub(crate) fn paste(image: &mut RgbImage, patch: &RgbImage, (row, col): (usize, usize)) {
    image::imageops::replace(image, patch, col as i64, row as i64);
}

/// Rows scaled to unit length (a zero row stays zero).
pub(crate) fn unit_rows(values: &[f32], dim: usize) -> Vec<f32> {
    values
        .chunks_exact(dim)
        .flat_map(|row| {
            let norm = row.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>().sqrt();
            let scale = if norm > 0.0 { 1.0 / norm } else { 0.0 };
            row.iter().map(move |v| (f64::from(*v) * scale) as f32)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_window_comes_back_where_it_was_put() {
        let mut image = RgbImage::from_fn(8, 8, |x, y| image::Rgb([x as u8, y as u8, 0]));
        let patch = RgbImage::from_pixel(3, 3, image::Rgb([200, 100, 50]));
        paste(&mut image, &patch, (2, 5));
        assert_eq!(window(&image, (2, 5), 3), patch);
        assert_eq!(image.get_pixel(4, 2).0, [4, 2, 0], "left of the patch untouched");
        assert_eq!(image.get_pixel(5, 1).0, [5, 1, 0], "above it untouched");
        assert_eq!(unit_rows(&[3.0, 4.0, 0.0, 0.0], 2), [0.6, 0.8, 0.0, 0.0]);
    }
}
