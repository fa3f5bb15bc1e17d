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
use crate::io::tensors::{HostTensor, HostValues, module_tensors, to_safetensors};

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

pub(crate) fn encoder_tensors(encoder: &Encoder, steps: u64) -> BTreeMap<String, HostTensor> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoder::EncoderConfig;
    use burn::prelude::Device;

    /// torchvision `resnet18().state_dict().keys()` without `fc.*`, spelled out by rule.
    fn torchvision_resnet18_keys() -> Vec<String> {
        let bn = |p: &str| {
            ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
                .map(|s| format!("{p}.{s}"))
                .to_vec()
        };
        let mut keys = vec!["conv1.weight".to_owned()];
        keys.extend(bn("bn1"));
        for layer in 1..=4 {
            for block in 0..2 {
                let p = format!("layer{layer}.{block}");
                for i in 1..=2 {
                    keys.push(format!("{p}.conv{i}.weight"));
                    keys.extend(bn(&format!("{p}.bn{i}")));
                }
                if layer > 1 && block == 0 {
                    keys.push(format!("{p}.downsample.0.weight"));
                    keys.extend(bn(&format!("{p}.downsample.1")));
                }
            }
        }
        keys.sort();
        keys
    }

    #[test]
    fn resnet18_export_has_exactly_torchvision_keys() {
        let encoder = EncoderConfig::default()
            .init(&Device::flex(), &mut corruptencoder_core::item_rng(0, 0, 0));
        let keys: Vec<String> = encoder_tensors(&encoder, 5).into_keys().collect();
        assert_eq!(keys.len(), 120);
        assert_eq!(keys, torchvision_resnet18_keys());
        let state = torchvision_state(&encoder, 5);
        assert_eq!(state["layer2.0.downsample.0.weight"].0, vec![128, 64, 1, 1]);
        assert_eq!(state["conv1.weight"].0, vec![64, 3, 7, 7]);
    }
}
