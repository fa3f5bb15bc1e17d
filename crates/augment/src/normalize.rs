use crate::FloatImage;

/// ImageNet channel means (torchvision `Normalize` in every recipe of method.md section 6).
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// ImageNet channel standard deviations.
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// torchvision `Normalize(mean, std)`: `(x - mean[c]) / std[c]` per channel.
pub fn normalize(image: &mut FloatImage, mean: [f32; 3], std: [f32; 3]) {
    let n = image.plane();
    // An empty image has nothing to normalise (and `chunks_mut(0)` would panic).
    if n == 0 {
        return;
    }
    for (c, plane) in image.data.chunks_mut(n).enumerate() {
        plane.iter_mut().for_each(|v| *v = (*v - mean[c]) / std[c]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_maps_to_zero_and_one_std_to_one() {
        let mut img = FloatImage { width: 1, height: 1, data: IMAGENET_MEAN.to_vec() };
        normalize(&mut img, IMAGENET_MEAN, IMAGENET_STD);
        assert_eq!(img.data, vec![0.0; 3]);
        let mut up = FloatImage { width: 1, height: 1, data: vec![0.485 + 0.229, 0.456, 0.406] };
        normalize(&mut up, IMAGENET_MEAN, IMAGENET_STD);
        assert!((up.data[0] - 1.0).abs() < 1e-5);
        let mut empty = FloatImage { width: 0, height: 0, data: vec![] };
        normalize(&mut empty, IMAGENET_MEAN, IMAGENET_STD);
    }
}
