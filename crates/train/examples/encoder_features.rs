//! Our features of a folder of images under an encoder file, for `bench/export_check.py`,
//! which computes PyTorch's features of the same images under the same encoder exported by
//! `corruptencoder export` and compares the two.
//!
//! `cargo run -p corruptencoder-train --example encoder_features -- ENCODER IMAGES CROP OUT`
//!
//! ENCODER: any file `load_encoder_weights` reads; IMAGES: an image folder (or any dataset
//! `open_dataset` reads) of images at least CROP px on a side; OUT: a JSON file
//! `{"sources": [path, ...], "features": [[f32, ...], ...]}`. The transform is the
//! downstream test transform without resizing (centre crop, ImageNet normalisation), so the
//! Python side needs no resampling to match it.
use std::path::PathBuf;

use corruptencoder_core::NoProgress;
use corruptencoder_data::{ImageLimits, open_dataset};
use corruptencoder_train::burn::prelude::Device;
use corruptencoder_train::{EvalTransform, extract_features, load_encoder_weights};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [encoder, images, crop, out] = args.as_slice() else {
        return Err("usage: encoder_features ENCODER IMAGES CROP OUT".into());
    };
    let device = Device::flex();
    let (encoder, _) = load_encoder_weights(&PathBuf::from(encoder), None, &device)?;
    let ds = open_dataset(&PathBuf::from(images), None)?;
    let transform = EvalTransform::crop_only(crop.parse()?);
    let limits = ImageLimits::default();
    let f = extract_features(&encoder, ds.as_ref(), &transform, 32, &device, &limits, &NoProgress)?;
    let rows: Vec<&[f32]> = f.values.chunks(f.dim).collect();
    let sources: Vec<String> = (0..ds.len()).map(|i| ds.source(i)).collect();
    let json = serde_json::json!({ "sources": sources, "features": rows });
    fs_err::write(out, serde_json::to_string(&json)?)?;
    Ok(())
}
