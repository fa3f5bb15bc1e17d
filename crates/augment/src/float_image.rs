use image::RgbImage;

/// An RGB image as planar `f32` channels in `[0, 1]` (torchvision's tensor after
/// `ToTensor`): `data[c * h * w + y * w + x]`. Colour transforms work on this form, as
/// torchvision's tensor functional API does.
#[derive(Debug, Clone, PartialEq)]
pub struct FloatImage {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Planar CHW values, 3 channels.
    pub data: Vec<f32>,
}

impl FloatImage {
    /// torchvision `ToTensor`: bytes / 255, HWC to CHW.
    pub fn from_rgb(image: &RgbImage) -> Self {
        let (w, h) = (image.width() as usize, image.height() as usize);
        let mut data = vec![0.0; 3 * w * h];
        for (i, p) in image.pixels().enumerate() {
            for c in 0..3 {
                data[c * w * h + i] = f32::from(p.0[c]) / 255.0;
            }
        }
        Self { width: w, height: h, data }
    }

    /// Pixels per channel.
    pub fn plane(&self) -> usize {
        self.width * self.height
    }

    /// ITU-R 601 luma as torchvision's `rgb_to_grayscale` computes it, one value per pixel.
    pub fn luma(&self) -> Vec<f32> {
        let n = self.plane();
        (0..n)
            .map(|i| {
                0.2989 * self.data[i] + 0.587 * self.data[n + i] + 0.114 * self.data[2 * n + i]
            })
            .collect()
    }
}
