//! Loading encoders trained elsewhere: our own `encoder.safetensors` export and PyTorch
//! `.pth` / `.pth.tar` checkpoints, so evaluation can score the authors' released MoCo-v2
//! encoders.
//!
//! Both are matched by torchvision key names (see [`torchvision_key`]). A PyTorch file may be
//! a bare torchvision state dict or a training checkpoint `{epoch, arch, state_dict,
//! optimizer}`, whose `state_dict` alone is read. Wrapper prefixes (`module.`, `encoder_q.`,
//! `backbone.`) are stripped; MoCo's key encoder (`encoder_k.*`), its `queue` and
//! `queue_ptr`, the head `fc.*` and every `num_batches_tracked` are skipped. Any other key
//! that the encoder does not have is an error, not a warning: it means the file holds a
//! different network, and scoring a half-loaded encoder would give silently wrong numbers.
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use burn::prelude::*;
use burn_store::{ModuleStore, PytorchStore, bridge};
use corruptencoder_core::IoError;

use crate::encoder::{Arch, Encoder, EncoderConfig, Stem};
use crate::error::{Error, Result};
use crate::io::tensors::{HostTensor, HostValues, list_keys, map_module, read_safetensors};
use crate::io::weights::torchvision_key;

/// Prefixes that wrappers put before torchvision's names: `DataParallel`'s `module.`,
/// MoCo's query encoder `encoder_q.`, and the `backbone.` of several SSL libraries.
const PREFIXES: [&str; 3] = ["module.", "encoder_q.", "backbone."];

/// First key segments that are not part of an encoder: the projection or classification head
/// and MoCo's momentum encoder and queue.
const IGNORED: [&str; 4] = ["fc", "encoder_k", "queue", "queue_ptr"];

/// Reads the encoder weights in `path` (safetensors with torchvision names, or a PyTorch
/// `.pth`/`.pth.tar`, told apart by content) into an encoder on `device`.
///
/// With `config` the file must fit it; without, the architecture, stem and width are read
/// off the tensor shapes. Returns the encoder and the configuration it was built with.
/// Batch-norm running statistics are loaded, so on an inference (non-autodiff) device the
/// encoder computes exactly what PyTorch's `model.eval()` does.
///
/// Fails with [`Error::BadWeights`] naming the file and every missing, mis-shaped or
/// unexpected tensor; with [`Error::Io`] when the file cannot be read.
///
/// ```no_run
/// use corruptencoder_train::{burn::prelude::Device, load_encoder_weights};
/// let path = std::path::Path::new("moco_v2_resnet18.pth.tar");
/// let (encoder, config) = load_encoder_weights(path, None, &Device::flex())?;
/// assert_eq!(config.feature_dim(), 512);
/// # Ok::<(), corruptencoder_train::Error>(())
/// ```
pub fn load_encoder_weights(
    path: &Path,
    config: Option<&EncoderConfig>,
    device: &Device,
) -> Result<(Encoder, EncoderConfig)> {
    let bad = |what: String| Error::BadWeights { path: path.to_path_buf(), what };
    let state = read_state(path)?;
    let inferred = infer_config(&state).map_err(|Unrecognised(what)| bad(what));
    let (config, inferred) = match (config, inferred) {
        (Some(given), inferred) => (*given, inferred.ok()),
        (None, Ok(found)) => (found, Some(found)),
        (None, Err(e)) => return Err(e),
    };
    // The fresh weights are all overwritten; a fixed seed just keeps this deterministic.
    let encoder = config.init(device, &mut corruptencoder_core::item_rng(0, 0, 0));
    let (encoder, report) = map_module(encoder, &state, &torchvision_key);
    let mut unexpected: Vec<String> =
        state.keys().filter(|k| !report.used.contains(*k)).cloned().collect();
    unexpected.sort();
    let mut problems: Vec<String> = report.problems().into_iter().collect();
    if !unexpected.is_empty() {
        problems.push(format!("unexpected {}", list_keys(&unexpected)));
    }
    if problems.is_empty() {
        log::info!("loaded {} ({}, {} tensors)", path.display(), describe(&config), state.len());
        return Ok((encoder, config));
    }
    // Most mismatches are a wrong configuration; saying what the file holds is the fix.
    let what = match &inferred {
        Some(found) if *found != config => {
            format!("it holds {}, not {}", describe(found), describe(&config))
        }
        _ => format!("it does not fit {}", describe(&config)),
    };
    Err(bad(format!("{what}: {}", problems.join("; "))))
}

/// `resnet18, imagenet stem, width 64`.
fn describe(config: &EncoderConfig) -> String {
    let arch = match config.arch {
        Arch::ResNet18 => "resnet18",
        Arch::ResNet34 => "resnet34",
        Arch::ResNet50 => "resnet50",
        Arch::SmallCnn => return format!("small-cnn, width {}", config.width),
    };
    let stem = match config.stem {
        Stem::Imagenet => "imagenet",
        Stem::Cifar => "cifar",
    };
    format!("{arch}, {stem} stem, width {}", config.width)
}

/// The file's encoder tensors under torchvision names (see the module docs for what is
/// stripped and skipped).
fn read_state(path: &Path) -> Result<HashMap<String, HostTensor>> {
    let bad = |what: String| Error::BadWeights { path: path.to_path_buf(), what };
    let mut state = HashMap::new();
    let mut insert = |name: &str, key: String, tensor: HostTensor| {
        if state.insert(key.clone(), tensor).is_some() {
            return Err(bad(format!(
                "two tensors are named {key} once {name}'s prefix is stripped"
            )));
        }
        Ok(())
    };
    if is_safetensors(path)? {
        let (tensors, _) = read_safetensors(path)?;
        for (name, tensor) in tensors {
            if let Some(key) = encoder_key(&name, false) {
                insert(&name, key, tensor)?;
            }
        }
        return Ok(state);
    }
    // Index remapping would rename MoCo's `fc.0`/`fc.2`; keys are wanted as saved.
    let mut store = PytorchStore::from_file(path).map_indices_contiguous(false);
    let tensors = store
        .get_all_tensors()
        .map_err(|e| bad(format!("neither safetensors nor a readable PyTorch file ({e})")))?;
    let wrapped = tensors.keys().any(|k| k.starts_with("state_dict."));
    for (name, tensor) in tensors {
        let Some(key) = encoder_key(name, wrapped) else { continue };
        // Only now are the bytes read, so optimizer state and the key encoder cost nothing.
        let data = bridge::to_data(tensor).map_err(|e| bad(format!("tensor {name}: {e}")))?;
        if !data.dtype().is_float() {
            return Err(bad(format!(
                "tensor {name} has dtype {:?}, expected floats",
                data.dtype()
            )));
        }
        let shape = data.shape().to_vec();
        let values = data
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| bad(format!("tensor {name}: {e:?}")))?;
        insert(name, key, HostTensor { shape, values: HostValues::F32(values) })?;
    }
    Ok(state)
}

/// safetensors files start with an 8-byte header length and then the JSON header's `{`;
/// PyTorch's zip (`PK`) and legacy pickle (`0x80`) containers cannot have `{` there.
pub(crate) fn is_safetensors(path: &Path) -> Result<bool> {
    let read_err = |source| IoError::new("read", path, source);
    let mut head = Vec::with_capacity(9);
    fs_err::File::open(path).map_err(read_err)?.take(9).read_to_end(&mut head).map_err(read_err)?;
    Ok(head.get(8) == Some(&b'{'))
}

/// The torchvision name of file key `name`, or `None` when it is not an encoder tensor.
/// `wrapped`: the file is a training checkpoint, whose weights are under `state_dict.`.
fn encoder_key(name: &str, wrapped: bool) -> Option<String> {
    let mut key = if wrapped { name.strip_prefix("state_dict.")? } else { name };
    while let Some(rest) = PREFIXES.iter().find_map(|p| key.strip_prefix(p)) {
        key = rest;
    }
    let first = key.split('.').next().unwrap_or(key);
    (!IGNORED.contains(&first) && !key.ends_with(".num_batches_tracked")).then(|| key.to_owned())
}

/// Why a state dict's shapes match no encoder we build.
#[derive(Debug, PartialEq)]
struct Unrecognised(String);

/// The encoder a state dict holds, from its shapes: `conv1.weight` is `[width, 3, 7, 7]`
/// (ImageNet stem) or `[width, 3, 3, 3]` (CIFAR stem, taken to come without max-pool as in
/// the CIFAR ports of SimCLR/MoCo); blocks per layer and `conv3` tell ResNet-18/34/50 apart.
/// Our small CNN (`convs.0.weight`) is recognised too, for round trips of our own exports.
fn infer_config(
    state: &HashMap<String, HostTensor>,
) -> std::result::Result<EncoderConfig, Unrecognised> {
    let shape = |k: &str| state.get(k).map(|t| t.shape.as_slice());
    if let Some([width, 3, 3, 3]) = shape("convs.0.weight") {
        return Ok(EncoderConfig::new(Arch::SmallCnn, Stem::Cifar, *width));
    }
    let (width, stem) = match shape("conv1.weight") {
        Some([w, 3, 7, 7]) => (*w, Stem::Imagenet),
        Some([w, 3, 3, 3]) => (*w, Stem::Cifar),
        Some(other) => {
            return Err(Unrecognised(format!(
                "conv1.weight is {other:?}, expected [width, 3, 7, 7] (ImageNet stem) or \
                 [width, 3, 3, 3] (CIFAR stem)"
            )));
        }
        None => {
            let mut keys: Vec<String> = state.keys().cloned().collect();
            keys.sort();
            return Err(Unrecognised(format!(
                "no conv1.weight, so not a torchvision ResNet; it holds {}",
                list_keys(&keys)
            )));
        }
    };
    let blocks: [usize; 4] = std::array::from_fn(|l| {
        (0..)
            .take_while(|i| state.contains_key(&format!("layer{}.{i}.conv1.weight", l + 1)))
            .count()
    });
    let bottleneck = state.contains_key("layer1.0.conv3.weight");
    let arch = match (blocks, bottleneck) {
        ([2, 2, 2, 2], false) => Arch::ResNet18,
        ([3, 4, 6, 3], false) => Arch::ResNet34,
        ([3, 4, 6, 3], true) => Arch::ResNet50,
        _ => {
            return Err(Unrecognised(format!(
                "its {} blocks per layer, {blocks:?}, match no supported ResNet (resnet18: \
                 [2, 2, 2, 2] basic; resnet34: [3, 4, 6, 3] basic; resnet50: [3, 4, 6, 3] \
                 bottleneck)",
                if bottleneck { "bottleneck" } else { "basic" }
            )));
        }
    };
    Ok(EncoderConfig::new(arch, stem, width))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapper_prefixes_are_stripped_and_heads_skipped() {
        let key = |n: &str, wrapped| encoder_key(n, wrapped);
        assert_eq!(key("state_dict.module.encoder_q.conv1.weight", true).unwrap(), "conv1.weight");
        assert_eq!(key("module.backbone.layer1.0.bn1.bias", false).unwrap(), "layer1.0.bn1.bias");
        assert_eq!(key("layer4.1.conv2.weight", false).unwrap(), "layer4.1.conv2.weight");
        for skipped in [
            "state_dict.module.encoder_q.fc.0.weight",
            "state_dict.module.encoder_k.conv1.weight",
            "state_dict.module.queue",
            "state_dict.module.queue_ptr",
            "state_dict.module.encoder_q.bn1.num_batches_tracked",
            "optimizer.state.0.momentum_buffer",
        ] {
            assert_eq!(key(skipped, true), None, "{skipped}");
        }
    }

    #[test]
    fn architecture_is_read_off_the_shapes() {
        for config in [
            EncoderConfig::new(Arch::ResNet18, Stem::Cifar, 4),
            EncoderConfig::new(Arch::ResNet34, Stem::Imagenet, 2),
            EncoderConfig::new(Arch::ResNet50, Stem::Imagenet, 2),
            EncoderConfig::new(Arch::SmallCnn, Stem::Cifar, 3),
        ] {
            let encoder = config.init(&Device::flex(), &mut corruptencoder_core::item_rng(0, 0, 0));
            let state: HashMap<String, HostTensor> =
                crate::io::weights::torchvision_state(&encoder, 0)
                    .into_iter()
                    .map(|(k, (shape, v))| (k, HostTensor { shape, values: HostValues::F32(v) }))
                    .collect();
            assert_eq!(infer_config(&state), Ok(config));
        }
    }
}
