//! Image-text pre-training: resume, refusal of uncaptioned data, learning and zero-shot.
use std::path::{Path, PathBuf};

use corruptencoder_augment::ViewRecipe;
use corruptencoder_core::NoProgress;
use corruptencoder_data::{ImageLimits, open_dataset};
use corruptencoder_train::burn::prelude::Device;
use corruptencoder_train::{
    ClipConfig, ClipEncoders, EvalTransform, MethodConfig, OptimConfig, PretrainConfig,
};
use image::RgbImage;

use crate::util::{logged_losses, run, tiny_config, tiny_dataset};

const COLOURS: [(&str, [u8; 3]); 3] =
    [("red", [220, 30, 30]), ("green", [30, 200, 40]), ("blue", [30, 40, 220])];

/// `n` 16x16 images, a colour square on grey noise, with captions naming the colour, as
/// an `image,caption` CSV beside them; image `i` has colour `i % 3`.
pub(crate) fn captioned(dir: &Path, n: usize) -> PathBuf {
    let mut csv = String::from("image,caption\n");
    for i in 0..n {
        let (name, c) = COLOURS[i % 3];
        let img = RgbImage::from_fn(16, 16, |x, y| {
            let inside = (3..13).contains(&x) && (3..13).contains(&y);
            let g = ((x * 7 + y * 13 + i as u32 * 5) % 60 + 90) as u8;
            if inside { c.into() } else { [g, g, g].into() }
        });
        let file = format!("c{i:03}.png");
        img.save(dir.join(&file)).unwrap();
        let template = ["a photo of a {} square.", "a {} block", "the square is {}"][i / 3 % 3];
        csv += &format!("{file},{}\n", template.replace("{}", name));
    }
    let path = dir.join("captions.csv");
    fs_err::write(&path, csv).unwrap();
    path
}

pub(crate) fn clip_config(epochs: usize) -> PretrainConfig {
    let clip = ClipConfig {
        embed_dim: 16,
        text_width: 16,
        text_layers: 1,
        text_heads: 2,
        context: 8,
        ..Default::default()
    };
    PretrainConfig {
        optim: OptimConfig { lr: 0.003, weight_decay: 0.01, ..Default::default() },
        views: ViewRecipe { flip_p: 0.5, ..tiny_config(MethodConfig::Clip(clip), epochs).views },
        ..tiny_config(MethodConfig::Clip(clip), epochs)
    }
}

/// Killed mid-way and resumed, a CLIP run ends with the same weights, tokenizer and
/// losses as an uninterrupted one.
#[test]
fn resumed_clip_run_is_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    let csv = captioned(dir.path(), 24);
    let config = clip_config(3);
    let whole = dir.path().join("whole");
    let done = run(&config, &csv, &whole, false, None).unwrap();
    assert_eq!(done.steps, 9);
    let killed = dir.path().join("killed");
    let partial = run(&config, &csv, &killed, false, Some(4)).unwrap();
    assert_eq!((partial.steps, partial.encoder.as_ref()), (4, None));
    run(&config, &csv, &killed, true, None).unwrap();
    let read = |p: &Path| fs_err::read(p).unwrap();
    for f in [
        "clip.safetensors",
        "encoder.safetensors",
        "tokenizer.json",
        "checkpoints/epoch-0003.safetensors",
    ] {
        assert!(read(&whole.join(f)) == read(&killed.join(f)), "{f} differs");
    }
    assert_eq!(logged_losses(&whole), logged_losses(&killed));
}

#[test]
fn clip_refuses_data_without_captions_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let list = tiny_dataset(dir.path(), 16);
    let err = run(&clip_config(1), &list, &dir.path().join("out"), false, None).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("image-caption") && msg.contains("train.txt"), "{msg}");
}

/// On colour squares captioned by colour, the loss falls and zero-shot prompts naming the
/// colours classify the images.
#[test]
fn clip_learns_colours_and_classifies_zero_shot() {
    let dir = tempfile::tempdir().unwrap();
    let csv = captioned(dir.path(), 48);
    let out = dir.path().join("out");
    run(&clip_config(12), &csv, &out, false, None).unwrap();
    let losses = logged_losses(&out);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (first, last) = (mean(&losses[..6]), mean(&losses[losses.len() - 6..]));
    assert!(last < first - 0.2, "loss {first:.3} -> {last:.3}");

    let clip = ClipEncoders::load(&out, &Device::flex()).unwrap();
    let names: Vec<String> = COLOURS.iter().map(|(n, _)| (*n).to_owned()).collect();
    let classes = clip.class_embeddings(&names, &["a photo of a {class} square."]).unwrap();
    assert_eq!(classes.len(), 3 * 16);
    let ds = open_dataset(&csv, None).unwrap();
    let t = EvalTransform::crop_only(16);
    let images =
        clip.embed_images(ds.as_ref(), &t, 16, &ImageLimits::default(), &NoProgress).unwrap();
    let correct = images
        .values
        .chunks_exact(16)
        .enumerate()
        .filter(|(i, x)| {
            let score = |c: usize| -> f32 {
                x.iter().zip(&classes[c * 16..][..16]).map(|(a, b)| a * b).sum()
            };
            (0..3).max_by(|&a, &b| score(a).total_cmp(&score(b))) == Some(i % 3)
        })
        .count();
    assert!(correct * 3 > 2 * 48, "zero-shot {correct}/48");
}
