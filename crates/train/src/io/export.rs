//! Encoders out to PyTorch (`corruptencoder export`): a safetensors state dict with
//! torchvision's key names that `load_state_dict(..., strict=True)` takes, and the Python
//! lines that build the module it fits.
//!
//! ResNets at base width 64 are torchvision's own `resnet18/34/50()` with `fc` replaced by
//! `Identity` (the encoder ends at the pooled features) and, for the CIFAR stem, `conv1` a
//! 3x3 stride-1 conv and `maxpool` an `Identity`. Thinner ResNets and the small CNN have no
//! torchvision constructor; `python/corruptencoder/models.py` defines them with the same
//! key names. PyTorch's own `.pth` (a zip of a pickle) is not written: no maintained Rust
//! crate writes it (burn-store reads it only), and `torch.save(load_file(p), "x.pth")` makes
//! one from the safetensors file in one line.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::prelude::Device;
use corruptencoder_core::write_atomic;
use serde::{Deserialize, Serialize};

use crate::encoder::{Arch, EncoderConfig, Stem};
use crate::error::Result;
use crate::io::import::{is_safetensors, load_encoder_weights};
use crate::io::tensors::{HostValues, read_safetensors, to_safetensors};
use crate::io::weights::encoder_tensors;

/// What `corruptencoder export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExportFormat {
    /// safetensors with torchvision's `state_dict` names, `fc` left out, and the encoder's
    /// `arch`, `stem` and `width` in the metadata (read by `corruptencoder.models`).
    Torchvision,
}

/// Reads the encoder in `source` (our `encoder.safetensors`, a run folder holding one, or a
/// PyTorch `.pth`/`.pth.tar` that [`load_encoder_weights`] reads) and writes it to `out` in
/// `format`. Every tensor goes through our loader, so a file that does not hold a whole
/// encoder fails here, naming what is wrong, rather than in PyTorch. Batch norms'
/// `num_batches_tracked` keep the source's count when it has one, else 0.
///
/// Returns the encoder's configuration ([`pytorch_snippet`] turns it into Python).
pub fn export_pytorch(source: &Path, format: ExportFormat, out: &Path) -> Result<EncoderConfig> {
    let ExportFormat::Torchvision = format;
    let source = encoder_file(source);
    let (encoder, config) = load_encoder_weights(&source, None, &Device::flex())?;
    let tensors = encoder_tensors(&encoder, tracked_batches(&source)?);
    let meta = HashMap::from([
        // safetensors' convention for a PyTorch state dict.
        ("format".to_owned(), "pt".to_owned()),
        ("arch".to_owned(), serde_name(&config.arch)),
        ("stem".to_owned(), serde_name(&config.stem)),
        ("width".to_owned(), config.width.to_string()),
    ]);
    write_atomic(out, &to_safetensors(&tensors, meta, out)?)?;
    log::info!("wrote {} ({} tensors)", out.display(), tensors.len());
    Ok(config)
}

/// The serde name of a unit enum variant (`resnet18`, `small-cnn`, `cifar`): the word config
/// files and flags use, and for ResNets torchvision's constructor name too.
fn serde_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .expect("unit enum variants serialise to their name")
}

/// A run folder stands for its `encoder.safetensors`.
fn encoder_file(source: &Path) -> PathBuf {
    if source.is_dir() { source.join("encoder.safetensors") } else { source.to_path_buf() }
}

/// The source's `num_batches_tracked` (all of a run's batch norms count the same steps).
fn tracked_batches(source: &Path) -> Result<u64> {
    if !is_safetensors(source)? {
        return Ok(0);
    }
    let (tensors, _) = read_safetensors(source)?;
    let counted = tensors.iter().find_map(|(k, t)| match &t.values {
        HostValues::I64(v) if k.ends_with(".num_batches_tracked") => v.first().copied(),
        _ => None,
    });
    Ok(counted.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
}

/// Python lines that build the PyTorch module `config` describes and load `path` into it
/// with `strict=True`, ending with `model` in eval mode.
pub fn pytorch_snippet(config: &EncoderConfig, path: &Path) -> String {
    let path = python_string(&path.display().to_string());
    let (arch, stem) = (serde_name(&config.arch), serde_name(&config.stem));
    let mut lines = vec![
        "import torch".to_owned(),
        "from safetensors.torch import load_file".to_owned(),
        String::new(),
    ];
    match (config.arch, config.width) {
        (Arch::SmallCnn, width) => {
            lines
                .push("from corruptencoder.models import SmallCnn  # python/corruptencoder".into());
            lines.push(format!("model = SmallCnn(width={width})"));
        }
        (_, 64) => {
            lines.insert(1, "import torchvision".into());
            lines.push(format!("model = torchvision.models.{arch}()"));
            if config.stem == Stem::Cifar {
                lines.push(
                    "model.conv1 = torch.nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, \
                     bias=False)  # CIFAR stem"
                        .into(),
                );
                lines.push("model.maxpool = torch.nn.Identity()  # CIFAR stem: no max-pool".into());
            }
            lines.push(
                "model.fc = torch.nn.Identity()  # the encoder ends at the pooled features".into(),
            );
        }
        (_, width) => {
            lines.push("from corruptencoder.models import resnet  # python/corruptencoder".into());
            lines.push(format!("model = resnet({arch:?}, stem={stem:?}, width={width})"));
        }
    }
    lines.push(format!("model.load_state_dict(load_file({path}), strict=True)"));
    lines.push("model.eval()".into());
    lines.push(format!(
        "# model(x): x is [B, 3, H, W] in [0, 1] normalised with ImageNet's mean and std \
         (torchvision.transforms.Normalize); out: [B, {}] features",
        config.feature_dim()
    ));
    lines.join("\n") + "\n"
}

/// `text` as a Python string literal.
fn python_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_name_torchvision_where_it_has_the_network() {
        let path = Path::new("runs/a \"b\"/enc.safetensors");
        let cifar = pytorch_snippet(&EncoderConfig::new(Arch::ResNet18, Stem::Cifar, 64), path);
        assert!(cifar.contains("model = torchvision.models.resnet18()\n"), "{cifar}");
        assert!(cifar.contains("model.maxpool = torch.nn.Identity()"), "{cifar}");
        assert!(cifar.contains("kernel_size=3, stride=1, padding=1, bias=False"), "{cifar}");
        assert!(cifar.contains(r#"load_file("runs/a \"b\"/enc.safetensors"), strict=True"#));
        assert!(cifar.contains("[B, 512] features"), "{cifar}");

        let imagenet =
            pytorch_snippet(&EncoderConfig::new(Arch::ResNet50, Stem::Imagenet, 64), path);
        assert!(imagenet.contains("torchvision.models.resnet50()"), "{imagenet}");
        assert!(!imagenet.contains("conv1") && !imagenet.contains("maxpool"), "{imagenet}");

        let thin = pytorch_snippet(&EncoderConfig::new(Arch::ResNet18, Stem::Cifar, 16), path);
        assert!(thin.contains(r#"model = resnet("resnet18", stem="cifar", width=16)"#), "{thin}");
        assert!(!thin.contains("torchvision.models"), "{thin}");
        let small = pytorch_snippet(&EncoderConfig::new(Arch::SmallCnn, Stem::Cifar, 8), path);
        assert!(small.contains("model = SmallCnn(width=8)"), "{small}");
    }
}
