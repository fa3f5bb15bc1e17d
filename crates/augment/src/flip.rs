use crate::FloatImage;

/// torchvision `hflip`: mirror every row.
pub fn horizontal_flip(image: &mut FloatImage) {
    let w = image.width;
    if w == 0 {
        return;
    }
    for row in image.data.chunks_mut(w) {
        row.reverse();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors_rows_per_channel() {
        let mut img = FloatImage { width: 3, height: 1, data: (0..9).map(|i| i as f32).collect() };
        horizontal_flip(&mut img);
        assert_eq!(img.data, vec![2.0, 1.0, 0.0, 5.0, 4.0, 3.0, 8.0, 7.0, 6.0]);
    }
}
