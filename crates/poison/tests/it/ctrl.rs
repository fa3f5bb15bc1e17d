//! CTRL's frequency trigger on real photos: the signal is where it should be and nowhere
//! else.
use std::sync::Arc;

use corruptencoder_core::item_rng;
use corruptencoder_data::{ImageLimits, open_dataset};
use corruptencoder_poison::*;
use image::RgbImage;

use crate::{kit, kit_photo};

/// U and V planes of `img` as f64 (row-major).
fn chroma(rgb: [&[f64]; 3]) -> [Vec<f64>; 2] {
    let n = rgb[0].len();
    let mut uv = [vec![0.0; n], vec![0.0; n]];
    for k in 0..n {
        let [_, u, v] = rgb_to_yuv([rgb[0][k], rgb[1][k], rgb[2][k]]);
        uv[0][k] = u;
        uv[1][k] = v;
    }
    uv
}

fn refs(p: &[Vec<f64>; 3]) -> [&[f64]; 3] {
    [&p[0], &p[1], &p[2]]
}

fn planes(img: &RgbImage) -> [Vec<f64>; 3] {
    std::array::from_fn(|c| img.pixels().map(|p| f64::from(p.0[c])).collect())
}

/// Block (bx, by)'s DCT of `plane` (image width `w`).
fn block_dct(plane: &[f64], w: usize, bx: usize, by: usize) -> Vec<f64> {
    let mut b: Vec<f64> =
        (0..32 * 32).map(|i| plane[(by * 32 + i / 32) * w + bx * 32 + i % 32]).collect();
    BlockDct::new(32).forward(&mut b);
    b
}

/// Checks every whole block's DCT difference: `magnitude` at the two positions (within
/// `tol`), about zero elsewhere.
fn check_signal(before: [&[f64]; 3], after: [&[f64]; 3], w: usize, h: usize, tol: f64) {
    let (b, a) = (chroma(before), chroma(after));
    for c in 0..2 {
        for by in 0..h / 32 {
            for bx in 0..w / 32 {
                let (db, da) = (block_dct(&b[c], w, bx, by), block_dct(&a[c], w, bx, by));
                for i in 0..32 * 32 {
                    let rise = da[i] - db[i];
                    let want = if i == 15 * 32 + 15 || i == 31 * 32 + 31 { 100.0 } else { 0.0 };
                    assert!(
                        (rise - want).abs() < tol,
                        "plane {c} block ({bx},{by}) coef {i}: {rise}"
                    );
                }
            }
        }
    }
}

#[test]
fn coefficients_rise_by_the_magnitude_and_pixels_move_boundedly() {
    // A real photo squeezed into 64..=191 so the trigger never clips; 100x70 is not a
    // multiple of 32, so only the 3x2 whole blocks are triggered.
    let mut img = kit_photo(0, 100, 70);
    img.pixels_mut().for_each(|p| p.0 = p.0.map(|v| 64 + v / 2));
    let trigger = CtrlConfig::default().trigger().unwrap();
    let before = planes(&img);
    let raw = trigger.apply_unclipped(&img);
    check_signal(refs(&before), refs(&raw), 100, 70, 0.1);
    let out = trigger.apply(&img);
    // After rounding to bytes the rise is still the magnitude up to rounding noise.
    check_signal(refs(&before), refs(&planes(&out)), 100, 70, 3.0);
    for (x, y, p) in out.enumerate_pixels() {
        let q = img.get_pixel(x, y);
        let d = (0..3).map(|c| (i32::from(p.0[c]) - i32::from(q.0[c])).abs()).max().unwrap();
        if x >= 96 || y >= 64 {
            assert_eq!(d, 0, "outside whole blocks ({x},{y}) changed");
        } else {
            // Each of the 2 coefficients moves U or V by at most 100 * 2/32 per pixel;
            // B = Y + 2.03 U is the most sensitive channel: 2.03 * 12.5 + rounding.
            assert!(d <= 27, "({x},{y}) moved by {d}");
        }
    }
    assert!(out != img);
}

#[test]
fn ctrl_attack_poisons_distinct_target_class_images() {
    let ds: Arc<dyn corruptencoder_data::Dataset> =
        Arc::from(open_dataset(&kit().join("references"), None).unwrap());
    let targets = TargetImages::from_dataset(ds.clone(), "hunting-dog").unwrap();
    assert_eq!(targets.len(), 14);
    let config = CtrlConfig { image_size: Some(64), ..CtrlConfig::default() };
    let attack =
        Ctrl::new(config, targets.clone().choose(4, 9).unwrap(), ImageLimits::default()).unwrap();
    assert_eq!(attack.len(), 4);
    let mut names = Vec::new();
    for i in 0..4 {
        let item = attack.poison(i, &mut item_rng(0, 1, i as u64)).unwrap();
        assert_eq!(item.kind, PoisonKind::new("ctrl"));
        assert_eq!(item.image.dimensions(), (64, 64));
        names.push(item.reference.unwrap());
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 4, "poisons reuse a target image");
    let err = targets.choose(15, 0).unwrap_err().to_string();
    assert!(
        err.contains("15 poisons") && err.contains("14") && err.contains("hunting-dog"),
        "{err}"
    );
    let err = TargetImages::from_dataset(ds, "tiger").unwrap_err().to_string();
    assert!(err.contains("tiger") && err.contains("references"), "{err}");
}
