//! Pre-training with i-CutMix: MoCo-v2, SimCLR and BYOL train, reproduce themselves and
//! differ from the unmixed run; CLIP is refused by key.
use corruptencoder_train::{ByolConfig, ClipConfig, ICutMixConfig, MethodConfig, SimclrConfig};

use crate::util::{logged_losses, run, tiny_config, tiny_dataset, tiny_moco};

fn simclr() -> MethodConfig {
    MethodConfig::Simclr(SimclrConfig {
        hidden_dim: Some(32),
        projection_dim: 16,
        ..Default::default()
    })
}

#[test]
fn mixed_moco_trains_reproducibly_and_differs_from_unmixed() {
    trains_reproducibly_and_differs_from_unmixed(tiny_moco());
}

#[test]
fn mixed_simclr_trains_reproducibly_and_differs_from_unmixed() {
    trains_reproducibly_and_differs_from_unmixed(simclr());
}

#[test]
fn mixed_byol_trains_reproducibly_and_differs_from_unmixed() {
    let byol = ByolConfig { hidden_dim: 32, projection_dim: 16, ..Default::default() };
    trains_reproducibly_and_differs_from_unmixed(MethodConfig::Byol(byol));
}

fn trains_reproducibly_and_differs_from_unmixed(method: MethodConfig) {
    let dir = tempfile::tempdir().unwrap();
    let list = tiny_dataset(dir.path(), 16);
    let mut config = tiny_config(method, 2);
    let plain_out = dir.path().join("plain");
    run(&config, &list, &plain_out, false, None).unwrap();
    config.icutmix = Some(ICutMixConfig::default());
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    run(&config, &list, &a, false, None).unwrap();
    run(&config, &list, &b, false, None).unwrap();
    let mixed = logged_losses(&a);
    assert!(mixed.iter().all(|l| l.is_finite()), "{mixed:?}");
    assert_eq!(mixed, logged_losses(&b), "same seed, same mixing");
    let weights = |d: &std::path::Path| std::fs::read(d.join("encoder.safetensors")).unwrap();
    assert_eq!(weights(&a), weights(&b));
    assert_ne!(mixed, logged_losses(&plain_out), "the mixing changes the loss");
    let written = std::fs::read_to_string(a.join("config.toml")).unwrap();
    assert!(written.contains("[icutmix]") && written.contains("alpha = 1.0"), "{written}");
}

#[test]
fn i_cutmix_with_clip_is_refused_naming_the_method() {
    let mut config = tiny_config(MethodConfig::Clip(ClipConfig::default()), 1);
    config.icutmix = Some(ICutMixConfig::default());
    let err = config.validate().unwrap_err().to_string();
    assert!(err.starts_with("method.name = clip:") && err.contains("i-CutMix"), "{err}");
}
