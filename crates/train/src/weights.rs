//! Encoder export with torchvision key names.
//!
//! `conv1.weight`, `bn1.{weight,bias,running_mean,running_var,num_batches_tracked}`,
//! `layer{1-4}.{i}.{conv,bn}{1-3}.*` and `layer{k}.0.downsample.{0,1}.*`, exactly as
//! `torchvision.models.resnet18(...).state_dict()` names them minus `fc.*`, so
//! `model.load_state_dict(load_file(path), strict=False)` fills every convolutional weight.
//! burn's batch-norm `gamma`/`beta` become `weight`/`bias`; our `Downsample`'s `conv`/`bn`
//! become torchvision's `Sequential` indices `0`/`1`.
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use burn::module::Module;
use corruptencoder_core::write_atomic;

use crate::encoder::Encoder;
use crate::error::Result;
use crate::tensors::{HostTensor, HostValues, module_tensors, to_safetensors};

/// torchvision's name of a tensor of our encoder at module path `path`.
pub fn torchvision_key(path: &str) -> String {
    path.split('.')
        // Enum variants are not part of torchvision's names.
        .filter(|s| !matches!(*s, "ResNet" | "Small" | "Basic" | "Bottleneck"))
        .map(|s| match s {
            "gamma" => "weight",
            "beta" => "bias",
            "conv" => "0",
            "bn" => "1",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The encoder's tensors under torchvision names, plus each batch norm's
/// `num_batches_tracked` set to `steps`.
pub fn torchvision_state(
    encoder: &Encoder,
    steps: u64,
) -> BTreeMap<String, (Vec<usize>, Vec<f32>)> {
    encoder_tensors(encoder, steps)
        .into_iter()
        .filter_map(|(k, t)| match t.values {
            HostValues::F32(v) => Some((k, (t.shape, v))),
            HostValues::I64(_) => None,
        })
        .collect()
}

fn encoder_tensors(encoder: &Encoder, steps: u64) -> BTreeMap<String, HostTensor> {
    let mut out = BTreeMap::new();
    for (path, tensor) in module_tensors(&encoder.valid()) {
        let key = torchvision_key(&path);
        if let Some(bn) = key.strip_suffix(".running_var") {
            let counter = HostTensor { shape: vec![], values: HostValues::I64(vec![steps as i64]) };
            out.insert(format!("{bn}.num_batches_tracked"), counter);
        }
        out.insert(key, tensor);
    }
    out
}

/// Writes the encoder to `path` as safetensors with torchvision key names.
pub fn export_encoder(encoder: &Encoder, steps: u64, path: &Path) -> Result<()> {
    let meta = HashMap::from([("format".to_owned(), "pt".to_owned())]);
    write_atomic(path, &to_safetensors(&encoder_tensors(encoder, steps), meta, path)?)?;
    Ok(())
}
