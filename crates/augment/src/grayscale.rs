use crate::FloatImage;

/// torchvision `rgb_to_grayscale(img, num_output_channels=3)`: every channel becomes the
/// luma (the transform behind `RandomGrayscale`).
pub fn grayscale(image: &mut FloatImage) {
    let luma = image.luma();
    let n = image.plane();
    for c in 0..3 {
        image.data[c * n..(c + 1) * n].copy_from_slice(&luma);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_channels_equal_the_luma() {
        let mut img = FloatImage { width: 1, height: 1, data: vec![1.0, 0.0, 0.0] };
        grayscale(&mut img);
        assert_eq!(img.data, vec![0.2989; 3]);
    }
}
