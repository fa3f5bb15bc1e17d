//! `export_pytorch`: what it writes loads back through our own PyTorch importer to the same
//! features, under torchvision's key names, with the metadata `corruptencoder.models` reads.
use std::collections::HashMap;
use std::path::Path;

use corruptencoder_train::burn::prelude::*;
use corruptencoder_train::{
    Arch, Encoder, EncoderConfig, ExportFormat, Stem, export_encoder, export_pytorch,
    load_encoder_weights,
};
use safetensors::SafeTensors;

use crate::import::{fixed_input, fixture, max_abs_diff, to_vec};

/// An encoder whose batch norms have seen data: two training-mode forward passes move the
/// running statistics away from their initial 0 and 1, so the round trip has to carry them.
fn trained_like(config: EncoderConfig) -> Encoder {
    let device = Device::flex().autodiff();
    let encoder = config.init(&device, &mut corruptencoder_core::item_rng(3, 0, 0));
    for scale in [2.0, 3.0] {
        let _ = encoder.forward(fixed_input(16, &device).mul_scalar(scale).add_scalar(0.5));
    }
    encoder
}

/// Features of `encoder` (moved to an inference device) on the fixed input.
fn features(encoder: &Encoder) -> Vec<f32> {
    use corruptencoder_train::burn::module::Module as _;
    to_vec(encoder.valid().forward(fixed_input(16, &Device::flex())))
}

/// The file's tensor names, each `num_batches_tracked` value and its metadata.
fn contents(path: &Path) -> (Vec<String>, Vec<i64>, HashMap<String, String>) {
    let bytes = fs_err::read(path).unwrap();
    let (_, meta) = SafeTensors::read_metadata(&bytes).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut names: Vec<String> = st.names().into_iter().map(str::to_owned).collect();
    names.sort();
    let counts = names
        .iter()
        .filter(|n| n.ends_with("num_batches_tracked"))
        .map(|n| i64::from_le_bytes(st.tensor(n).unwrap().data().try_into().unwrap()))
        .collect();
    (names, counts, meta.metadata().clone().unwrap_or_default())
}

#[test]
fn a_resnet_export_round_trips_to_the_same_features() {
    let dir = tempfile::tempdir().unwrap();
    let config = EncoderConfig::new(Arch::ResNet18, Stem::Cifar, 8);
    let encoder = trained_like(config);
    let source = dir.path().join("encoder.safetensors");
    export_encoder(&encoder, 7, &source).unwrap();
    let out = dir.path().join("torchvision.safetensors");
    // A run folder stands for its encoder.safetensors.
    assert_eq!(export_pytorch(dir.path(), ExportFormat::Torchvision, &out).unwrap(), config);

    let (loaded, found) = load_encoder_weights(&out, None, &Device::flex()).unwrap();
    assert_eq!(found, config);
    let ours = features(&encoder);
    assert_eq!(max_abs_diff(&to_vec(loaded.forward(fixed_input(16, &Device::flex()))), &ours), 0.0);
    assert!(ours.iter().filter(|x| **x > 0.01).count() > ours.len() / 4, "{ours:?}");

    // The batch norms' statistics are the trained ones, not the initial 0 and 1.
    let bytes = fs_err::read(&out).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let var = st.tensor("bn1.running_var").unwrap();
    assert!(var.data().chunks(4).all(|c| f32::from_le_bytes(c.try_into().unwrap()) != 1.0));

    let (names, counts, meta) = contents(&out);
    assert_eq!(names.len(), 120);
    assert!(names.contains(&"layer4.0.downsample.1.running_var".to_owned()));
    assert_eq!(counts, vec![7; 20], "num_batches_tracked is the source's");
    let meta: Vec<(&str, &str)> = ["format", "arch", "stem", "width"]
        .iter()
        .map(|k| (*k, meta.get(*k).map_or("", String::as_str)))
        .collect();
    assert_eq!(meta, [("format", "pt"), ("arch", "resnet18"), ("stem", "cifar"), ("width", "8")]);
}

#[test]
fn the_small_cnn_exports_under_the_python_modules_names() {
    let dir = tempfile::tempdir().unwrap();
    let config = EncoderConfig::new(Arch::SmallCnn, Stem::Cifar, 4);
    let encoder = trained_like(config);
    let source = dir.path().join("encoder.safetensors");
    export_encoder(&encoder, 2, &source).unwrap();
    let out = dir.path().join("small.safetensors");
    export_pytorch(&source, ExportFormat::Torchvision, &out).unwrap();
    let (loaded, _) = load_encoder_weights(&out, None, &Device::flex()).unwrap();
    let theirs = to_vec(loaded.forward(fixed_input(16, &Device::flex())));
    assert_eq!(max_abs_diff(&theirs, &features(&encoder)), 0.0);

    // python/corruptencoder/models.py's SmallCnn: nn.ModuleList `convs` and `bns`.
    let (names, _, meta) = contents(&out);
    let mut expected: Vec<String> = (0..3)
        .flat_map(|i| {
            let bn = ["bias", "num_batches_tracked", "running_mean", "running_var", "weight"];
            bn.map(|p| format!("bns.{i}.{p}")).into_iter().chain([format!("convs.{i}.weight")])
        })
        .collect();
    expected.sort();
    assert_eq!(names, expected);
    assert_eq!(meta["arch"], "small-cnn");
}

/// The authors'-style MoCo checkpoint leaves as a plain torchvision state dict: no wrapper
/// prefixes, no head, key encoder or queue, and PyTorch's features (checked against the
/// fixture in `import.rs`) unchanged.
#[test]
fn a_moco_checkpoint_exports_as_a_plain_state_dict() {
    let dir = tempfile::tempdir().unwrap();
    let pth = fixture("moco_resnet18_w4.pth.tar");
    let out = dir.path().join("moco.safetensors");
    let config = export_pytorch(&pth, ExportFormat::Torchvision, &out).unwrap();
    assert_eq!(config, EncoderConfig::new(Arch::ResNet18, Stem::Imagenet, 4));
    let device = Device::flex();
    let (from_pth, _) = load_encoder_weights(&pth, None, &device).unwrap();
    let (from_export, _) = load_encoder_weights(&out, None, &device).unwrap();
    let x = || fixed_input(64, &device);
    assert_eq!(
        max_abs_diff(&to_vec(from_export.forward(x())), &to_vec(from_pth.forward(x()))),
        0.0
    );
    let (names, counts, _) = contents(&out);
    assert_eq!(names.len(), 120);
    assert!(names.iter().all(|n| !n.starts_with("module") && !n.starts_with("fc")), "{names:?}");
    assert_eq!(counts, vec![0; 20], "a .pth source's count is not read");
}

#[test]
fn a_file_that_is_no_encoder_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.safetensors");
    fs_err::write(&junk, b"not a weight file at all").unwrap();
    let out = dir.path().join("out.safetensors");
    let err = export_pytorch(&junk, ExportFormat::Torchvision, &out).unwrap_err().to_string();
    assert!(err.contains("junk.safetensors"), "{err}");
    assert!(!out.exists());
}
