//! Data-parallel pre-training on two replicas of the CPU device: MoCo with shuffle-BN runs,
//! checkpoints and resumes bit-identically, and a batch that does not split is refused.
use std::path::Path;

use corruptencoder_train::burn::prelude::Device;
use corruptencoder_train::{MethodConfig, MocoV2Config, PretrainConfig, SplitBn};

use crate::util::{logged_losses, run_on, tiny_config, tiny_dataset};

fn moco(epochs: usize) -> PretrainConfig {
    let moco = MocoV2Config {
        queue_size: 16,
        hidden_dim: Some(16),
        projection_dim: 8,
        bn_splits: 1,
        ..Default::default()
    };
    tiny_config(MethodConfig::MocoV2(moco), epochs)
}

/// Two replicas (both on the CPU device, standing in for two GPUs): the run is seeded, a
/// killed and resumed run ends with the same bytes, and the loss differs from one device's
/// only through per-shard batch statistics (same images, same first loss order of size).
#[test]
fn two_replica_moco_resumes_bit_identically() {
    let dir = tempfile::tempdir().unwrap();
    let list = tiny_dataset(dir.path(), 24);
    let config = moco(2);
    let replicas = [Device::flex()];
    let whole = dir.path().join("whole");
    let summary = run_on(&config, &list, &whole, false, None, &replicas).unwrap();
    assert_eq!(summary.steps, 6);
    assert!(summary.encoder.is_some());

    let killed = dir.path().join("killed");
    run_on(&config, &list, &killed, false, Some(4), &replicas).unwrap();
    run_on(&config, &list, &killed, true, None, &replicas).unwrap();
    let read = |p: &Path| fs_err::read(p).unwrap();
    assert_eq!(logged_losses(&whole), logged_losses(&killed));
    assert!(read(&whole.join("encoder.safetensors")) == read(&killed.join("encoder.safetensors")));
    assert!(
        read(&whole.join("checkpoints/epoch-0002.safetensors"))
            == read(&killed.join("checkpoints/epoch-0002.safetensors"))
    );

    // One device on the same data: a different loss (shards of 4 for batch norm, shuffled
    // keys), but the same task: InfoNCE over 1 positive and 16 queue negatives, ~ln 17.
    let single = dir.path().join("single");
    run_on(&config, &list, &single, false, Some(1), &[]).unwrap();
    // Stopped before the end, the run is still in its staged folder.
    let staged = corruptencoder_core::OutputDir::partial_path(&single);
    let (one, two) = (logged_losses(&staged)[0], logged_losses(&whole)[0]);
    assert_ne!(one, two, "shuffle-BN and per-shard statistics change the loss");
    assert!((one - two).abs() < 1.0, "{one} vs {two}");
}

/// Split BN on one device forms the groups two devices form, in both forms (consecutive
/// groups in passes, interleaved ones inside the batch norms): the first step's loss is the
/// same up to float summation order.
#[test]
fn split_bn_on_one_device_is_shuffle_bn_over_devices() {
    let dir = tempfile::tempdir().unwrap();
    let list = tiny_dataset(dir.path(), 24);
    for split_bn in [SplitBn::Passes, SplitBn::BatchNorm] {
        let mut config = moco(1);
        let MethodConfig::MocoV2(m) = &mut config.method else { unreachable!() };
        (m.bn_splits, m.split_bn) = (4, split_bn);
        let first = |name: &str, replicas: &[Device]| {
            let out = dir.path().join(format!("{name}-{split_bn:?}"));
            run_on(&config, &list, &out, false, Some(1), replicas).unwrap();
            logged_losses(&corruptencoder_core::OutputDir::partial_path(&out))[0]
        };
        let (one, two) = (first("one", &[]), first("two", &[Device::flex()]));
        assert!((one - two).abs() < 1e-4, "{split_bn:?}: {one} vs {two}");
        let mut unsplit = config.clone();
        let MethodConfig::MocoV2(m) = &mut unsplit.method else { unreachable!() };
        m.bn_splits = 1;
        let out = dir.path().join(format!("unsplit-{split_bn:?}"));
        run_on(&unsplit, &list, &out, false, Some(1), &[]).unwrap();
        let plain = logged_losses(&corruptencoder_core::OutputDir::partial_path(&out))[0];
        assert!((plain - one).abs() > 1e-4, "split BN changes the step: {plain} vs {one}");
    }
}

#[test]
fn a_batch_that_does_not_split_over_the_devices_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let list = tiny_dataset(dir.path(), 8);
    let replicas = [Device::flex(), Device::flex()];
    let err = run_on(&moco(1), &list, &dir.path().join("o"), false, None, &replicas)
        .unwrap_err()
        .to_string();
    assert!(err.contains("multiple of the 3 devices"), "{err}");
}
