//! What the encoder sees: the view pairs pre-training draws from chosen images, at the
//! training size, side by side (a contact sheet). Drawn from the very random streams the
//! batch producer uses (`batches.rs`), so row `k` is the pair image `indices[k]` gives in
//! that epoch of a run with this seed.
use corruptencoder_augment::{FloatImage, IMAGENET_MEAN, IMAGENET_STD, ViewRecipe};
use corruptencoder_core::item_rng;
use corruptencoder_data::{Dataset, ImageLimits};
use image::{Rgb, RgbImage};

use crate::error::Result;

/// Pixels between the views and around the sheet.
const GAP: u32 = 2;

/// One row per index of `ds`: view 1 beside view 2 of that image in `epoch` of a run with
/// `seed` and `recipe`, each `scale` times enlarged (nearest neighbour, pixels stay
/// visible), on a grey ground.
pub fn contact_sheet(
    ds: &dyn Dataset,
    indices: &[usize],
    recipe: &ViewRecipe,
    (seed, epoch): (u64, usize),
    scale: u32,
) -> Result<RgbImage> {
    let side = recipe.size * scale.max(1);
    let rows = indices.len() as u32;
    let mut sheet =
        RgbImage::from_pixel(2 * side + 3 * GAP, rows * (side + GAP) + GAP, Rgb([128, 128, 128]));
    for (row, &i) in indices.iter().enumerate() {
        let image = ds.load(i, &ImageLimits::default())?;
        // The stream of image `i`'s views in `epoch` (`batches::make_batch`).
        let mut rng = item_rng(seed, 2 * epoch as u64 + 1, i as u64);
        let views = recipe.views(&image, &mut rng);
        for (col, view) in views.iter().enumerate() {
            let x0 = GAP + col as u32 * (side + GAP);
            let y0 = GAP + row as u32 * (side + GAP);
            paste_scaled(&mut sheet, &to_rgb(view), (x0, y0), scale.max(1));
        }
    }
    Ok(sheet)
}

/// A normalised view back to bytes (the inverse of ImageNet normalisation and `ToTensor`).
pub(crate) fn to_rgb(view: &FloatImage) -> RgbImage {
    let n = view.plane();
    RgbImage::from_fn(view.width as u32, view.height as u32, |x, y| {
        let i = y as usize * view.width + x as usize;
        let byte = |c: usize| {
            let v = view.data[c * n + i] * IMAGENET_STD[c] + IMAGENET_MEAN[c];
            (v * 255.0).round().clamp(0.0, 255.0) as u8
        };
        Rgb([byte(0), byte(1), byte(2)])
    })
}

fn paste_scaled(sheet: &mut RgbImage, view: &RgbImage, (x0, y0): (u32, u32), scale: u32) {
    for (x, y, p) in view.enumerate_pixels() {
        for dy in 0..scale {
            for dx in 0..scale {
                sheet.put_pixel(x0 + x * scale + dx, y0 + y * scale + dy, *p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::batches::{RecipeViews, make_batch};
    use crate::run::images::ImageStore;
    use corruptencoder_augment::FloatImage;

    /// Row `k` holds exactly the pair the training pipeline builds for that image.
    #[test]
    fn rows_are_the_pairs_training_draws() {
        let dir = tempfile::tempdir().unwrap();
        let mut list = String::new();
        for i in 0..3u8 {
            let img = RgbImage::from_fn(40, 30, |x, y| Rgb([x as u8 * 6, y as u8 * 8, 60 * i]));
            img.save(dir.path().join(format!("{i}.png"))).unwrap();
            list += &format!("{i}.png {i}\n");
        }
        let path = dir.path().join("list.txt");
        fs_err::write(&path, list).unwrap();
        let open = || corruptencoder_data::open_dataset(&path, None).unwrap();
        let recipe = ViewRecipe::simclr(16);
        let sheet = contact_sheet(open().as_ref(), &[2, 0], &recipe, (9, 1), 2).unwrap();
        assert_eq!(sheet.dimensions(), (2 * 32 + 3 * GAP, 2 * (32 + GAP) + GAP));
        let (store, _) = ImageStore::open(open(), true, 1 << 20).unwrap();
        let pairs = RecipeViews { recipe: &recipe, views: 2 };
        let batch = make_batch(&store, &pairs, (9, 1), &[2]).unwrap();
        let view =
            |data: &[f32]| to_rgb(&FloatImage { width: 16, height: 16, data: data.to_vec() });
        let (v1, v2) = (view(&batch.views[0]), view(&batch.views[1]));
        for (x, y, p) in v1.enumerate_pixels() {
            assert_eq!(sheet.get_pixel(GAP + 2 * x + 1, GAP + 2 * y + 1), p);
        }
        for (x, y, p) in v2.enumerate_pixels() {
            assert_eq!(sheet.get_pixel(2 * GAP + 32 + 2 * x, GAP + 2 * y), p);
        }
        assert_ne!(v1, v2, "two different views");
    }
}
