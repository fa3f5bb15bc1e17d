//! No combination of sizes makes the generator panic or paste outside the image.
use corruptencoder_core::item_rng;
use corruptencoder_data::{ImageLimits, Mask, MaskSource, PixelBox, Reference, png_bytes};
use corruptencoder_poison::{
    AreaRatio, Attack, CorruptEncoder, CorruptEncoderConfig, Error, Layouts, TriggerPlacement,
    TriggerSource,
};
use image::{Rgb, RgbImage};
use proptest::prelude::*;

fn reference(w: u32, h: u32) -> Reference {
    let image = RgbImage::from_fn(w, h, |x, y| Rgb([x as u8, y as u8, 7]));
    let mask = Mask::from_fn(w, h, |x, y| x >= w / 4 && y >= h / 4);
    let object_box = mask.largest_component_box().unwrap();
    Reference {
        name: "r".into(),
        path: "r.png".into(),
        source: MaskSource::MaskImage,
        image,
        mask,
        object_box,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn any_sizes_give_a_valid_poison_or_a_clear_error(
        ref_w in 4u32..300, ref_h in 4u32..300,
        bg_w in 1u32..200, bg_h in 1u32..200,
        ratio in 1.05f64..4.0, trigger in 1u32..60, max_size in 8u32..500,
        all in any::<bool>(), against in any::<bool>(), seed in any::<u64>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let bg = dir.path().join("bg.png");
        fs_err::write(&bg, png_bytes(&RgbImage::from_pixel(bg_w, bg_h, Rgb([1, 2, 3])))).unwrap();
        let config = CorruptEncoderConfig {
            num_poisons: 4,
            trigger_size: trigger,
            area_ratio: AreaRatio::Fixed(ratio),
            max_size,
            layouts: if all { Layouts::All } else { Layouts::Horizontal },
            trigger_placement: if against {
                TriggerPlacement::AgainstObject
            } else {
                TriggerPlacement::Centred
            },
            ..Default::default()
        };
        let limits = ImageLimits::default();
        let t = TriggerSource::White.load(trigger, &limits).unwrap();
        let attack = match CorruptEncoder::new(config, &[reference(ref_w, ref_h)], vec![bg], vec![], t, limits) {
            Ok(a) => a,
            // A trigger that cannot fit beside this object is refused up front.
            Err(Error::Setting(s)) if s.key == "trigger_size" => return Ok(()),
            Err(e) => return Err(TestCaseError::fail(format!("unexpected error {e}"))),
        };
        for i in 0..4 {
            match attack.poison(i, &mut item_rng(seed, 1, i as u64)) {
                Ok(p) => {
                    let (w, h) = p.image.dimensions();
                    let inside = |b: PixelBox| b.x + b.w <= w && b.y + b.h <= h;
                    prop_assert!(inside(p.object_box.unwrap()));
                    let tb = p.trigger_box.unwrap();
                    prop_assert!(inside(tb));
                    // The trigger never covers the object.
                    let ob = p.object_box.unwrap();
                    let apart = tb.x >= ob.x + ob.w || tb.x + tb.w <= ob.x
                        || tb.y >= ob.y + ob.h || tb.y + tb.h <= ob.y;
                    prop_assert!(apart, "{:?} {:?}", ob, tb);
                    if against {
                        // Touching the object's box along the axis, centred across it.
                        let touches = tb.x == ob.x + ob.w || tb.x + tb.w == ob.x
                            || tb.y == ob.y + ob.h || tb.y + tb.h == ob.y;
                        prop_assert!(touches, "{:?} {:?}", ob, tb);
                        let centred = if tb.x == ob.x + ob.w || tb.x + tb.w == ob.x {
                            tb.y == (h - tb.h) / 2
                        } else {
                            tb.x == (w - tb.w) / 2
                        };
                        prop_assert!(centred, "{:?} {:?} in {w}x{h}", ob, tb);
                    }
                }
                Err(Error::TriggerDoesNotFit { .. }) => {}
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
        }
    }
}
