//! Loading encoders trained elsewhere: the PyTorch fixtures made by
//! `tests/fixtures/make_pth_fixture.py` must give PyTorch's own eval-mode features, broken
//! files must give errors that say what is wrong, and our own export must load back exactly.
use std::path::{Path, PathBuf};

use corruptencoder_train::burn::prelude::*;
use corruptencoder_train::{
    Arch, EncoderConfig, Error, Stem, export_encoder, load_encoder_weights, torchvision_state,
};

pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// The script's input: `f32(sin(0.37 i + 0.5))` over the row-major index of `[2, 3, s, s]`.
pub(crate) fn fixed_input(size: usize, device: &Device) -> Tensor<4> {
    let values: Vec<f32> =
        (0..2 * 3 * size * size).map(|i| (0.37 * i as f64 + 0.5).sin() as f32).collect();
    Tensor::from_data(TensorData::new(values, [2, 3, size, size]), device)
}

pub(crate) fn to_vec(t: Tensor<2>) -> Vec<f32> {
    t.inner().into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

pub(crate) fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// Loads fixture `name` without a configuration and checks the inferred one and the
/// features against the script's JSON. Returns the largest absolute difference.
fn matches_pytorch(name: &str, json: &str, expected: EncoderConfig) -> f32 {
    let device = Device::flex();
    let (encoder, config) = load_encoder_weights(&fixture(name), None, &device).unwrap();
    assert_eq!(config, expected);
    let reference: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(fixture(json)).unwrap()).unwrap();
    let torch: Vec<f32> = reference["features"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32))
        .collect();
    assert_eq!(torch.len(), 2 * config.feature_dim());
    let size = reference["input_size"].as_u64().unwrap() as usize;
    let ours = to_vec(encoder.forward(fixed_input(size, &device)));
    // The features are far from trivially zero: most of them are positive.
    assert!(torch.iter().filter(|x| **x > 0.01).count() > torch.len() / 2);
    max_abs_diff(&ours, &torch)
}

#[test]
fn authors_style_moco_checkpoint_gives_pytorchs_features() {
    // Also proves `encoder_k.*` is skipped: the script stored it offset by +1.
    let expected = EncoderConfig::new(Arch::ResNet18, Stem::Imagenet, 4);
    let diff = matches_pytorch("moco_resnet18_w4.pth.tar", "moco_resnet18_w4.json", expected);
    assert!(diff < 1e-4, "max abs difference from PyTorch {diff}");
}

#[test]
fn legacy_format_plain_state_dict_gives_pytorchs_features() {
    let expected = EncoderConfig::new(Arch::ResNet18, Stem::Cifar, 2);
    let diff =
        matches_pytorch("plain_resnet18_w2_cifar.pth", "plain_resnet18_w2_cifar.json", expected);
    assert!(diff < 1e-4, "max abs difference from PyTorch {diff}");
}

#[test]
fn given_config_is_checked_against_the_shapes() {
    let path = fixture("moco_resnet18_w4.pth.tar");
    let right = EncoderConfig::new(Arch::ResNet18, Stem::Imagenet, 4);
    let (_, config) = load_encoder_weights(&path, Some(&right), &Device::flex()).unwrap();
    assert_eq!(config, right);

    let wrong = EncoderConfig { width: 8, ..right };
    let err = load_encoder_weights(&path, Some(&wrong), &Device::flex()).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::BadWeights { .. }), "{err:?}");
    assert!(msg.contains("moco_resnet18_w4.pth.tar"), "{msg}");
    assert!(
        msg.contains("conv1.weight is [4, 3, 7, 7] in the file, the encoder needs [8, 3, 7, 7]"),
        "{msg}"
    );
    assert!(
        msg.contains(
            "it holds resnet18, imagenet stem, width 4, not resnet18, imagenet stem, width 8"
        ),
        "{msg}"
    );

    let cifar = EncoderConfig { stem: Stem::Cifar, ..right };
    let msg = load_encoder_weights(&path, Some(&cifar), &Device::flex()).unwrap_err().to_string();
    assert!(
        msg.contains("conv1.weight is [4, 3, 7, 7] in the file, the encoder needs [4, 3, 3, 3]")
    );

    // ResNet-34 wants blocks the file does not have.
    let deeper = EncoderConfig { arch: Arch::ResNet34, ..right };
    let msg = load_encoder_weights(&path, Some(&deeper), &Device::flex()).unwrap_err().to_string();
    assert!(msg.contains("missing 80 tensors: layer1.2.conv1.weight, "), "{msg}");
    assert!(msg.contains(", ... (72 more)"), "{msg}");
}

/// Writes `tensors` as a safetensors file.
fn write_safetensors(path: &Path, tensors: &[(String, Vec<usize>, Vec<f32>)]) {
    let bytes: Vec<Vec<u8>> =
        tensors.iter().map(|(_, _, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect()).collect();
    let views = tensors.iter().zip(&bytes).map(|((k, shape, _), b)| {
        (k.clone(), safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), b))
    });
    let views: Vec<_> = views.map(|(k, v)| (k, v.unwrap())).collect();
    fs_err::write(path, safetensors::serialize(views, None).unwrap()).unwrap();
}

#[test]
fn missing_misshapen_and_unexpected_tensors_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = EncoderConfig::new(Arch::ResNet18, Stem::Cifar, 2);
    let encoder = config.init(&Device::flex(), &mut corruptencoder_core::item_rng(1, 0, 0));
    let state: Vec<(String, Vec<usize>, Vec<f32>)> =
        torchvision_state(&encoder, 0).into_iter().map(|(k, (s, v))| (k, s, v)).collect();
    let load = |tensors: Vec<(String, Vec<usize>, Vec<f32>)>| {
        let path = dir.path().join("broken.safetensors");
        write_safetensors(&path, &tensors);
        let err = load_encoder_weights(&path, None, &Device::flex()).unwrap_err();
        assert!(matches!(err, Error::BadWeights { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("broken.safetensors"), "{msg}");
        msg
    };

    let without = state.iter().filter(|(k, ..)| k != "layer3.1.bn2.running_var").cloned();
    let msg = load(without.collect());
    assert!(msg.contains("missing 1 tensor: layer3.1.bn2.running_var"), "{msg}");

    let mut misshapen = state.clone();
    let t = misshapen.iter_mut().find(|(k, ..)| k == "layer2.0.conv2.weight").unwrap();
    t.1 = vec![4, 2, 3, 6];
    let msg = load(misshapen);
    assert!(
        msg.contains(
            "layer2.0.conv2.weight is [4, 2, 3, 6] in the file, the encoder needs [4, 4, 3, 3]"
        ),
        "{msg}"
    );

    let mut extra = state.clone();
    extra.push(("layer5.0.conv1.weight".into(), vec![1], vec![0.0]));
    let msg = load(extra);
    assert!(msg.contains("unexpected 1 tensor: layer5.0.conv1.weight"), "{msg}");

    let msg = load(vec![("weight".into(), vec![1], vec![0.0])]);
    assert!(msg.contains("no conv1.weight, so not a torchvision ResNet"), "{msg}");
}

#[test]
fn files_that_are_not_checkpoints_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let device = Device::flex();

    let missing = dir.path().join("nowhere.pth");
    let err = load_encoder_weights(&missing, None, &device).unwrap_err();
    assert!(matches!(&err, Error::Io(e) if e.path == missing), "{err:?}");

    let text = dir.path().join("notes.pth");
    fs_err::write(&text, "this is not a checkpoint\n").unwrap();
    let empty = dir.path().join("empty.pth");
    fs_err::write(&empty, "").unwrap();
    // A download cut short: half of a real checkpoint.
    let truncated = dir.path().join("truncated.pth.tar");
    let whole = fs_err::read(fixture("moco_resnet18_w4.pth.tar")).unwrap();
    fs_err::write(&truncated, &whole[..whole.len() / 2]).unwrap();
    for path in [text, empty, truncated] {
        let err = load_encoder_weights(&path, None, &device).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::BadWeights { .. }), "{err:?}");
        assert!(
            msg.starts_with(&format!("{} is not a usable checkpoint", path.display())),
            "{msg}"
        );
    }
}

#[test]
fn our_export_loads_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    for config in [
        EncoderConfig::new(Arch::ResNet18, Stem::Cifar, 4),
        EncoderConfig::new(Arch::SmallCnn, Stem::Cifar, 4),
    ] {
        let train = Device::flex().autodiff();
        let encoder = config.init(&train, &mut corruptencoder_core::item_rng(3, 0, 0));
        // A training-mode pass moves the batch-norm running statistics off their 0/1 start,
        // so the round trip has to carry them to give the same features.
        let _ = encoder.forward(fixed_input(16, &train).mul_scalar(3.0).add_scalar(1.0));
        let path = dir.path().join("encoder.safetensors");
        export_encoder(&encoder, 1, &path).unwrap();

        let device = Device::flex();
        let (loaded, found) = load_encoder_weights(&path, None, &device).unwrap();
        assert_eq!(found, config);
        let x = fixed_input(16, &device);
        let before = to_vec(encoder.valid().forward(x.clone()));
        let after = to_vec(loaded.forward(x));
        assert_eq!(before, after, "{config:?}");
        let fresh = config.init(&device, &mut corruptencoder_core::item_rng(3, 0, 0));
        assert_ne!(to_vec(fresh.forward(fixed_input(16, &device))), after, "stats did not move");
    }
}
