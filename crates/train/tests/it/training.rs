use corruptencoder_train::{ByolConfig, MethodConfig, SimclrConfig};

use crate::util::{logged_losses, run, tiny_config, tiny_dataset, tiny_moco};

/// Trains `method` for 8 epochs of 4 steps and checks the mean loss of the last 6 steps is
/// clearly below that of 6 steps from `from` on (MoCo's loss first rises while its queue of
/// random keys fills with real ones, so it is measured after the queue is full).
fn loss_falls(method: MethodConfig, lr: f64, from: usize) {
    let dir = tempfile::tempdir().unwrap();
    let list = tiny_dataset(dir.path(), 32);
    let mut config = tiny_config(method, 8);
    config.optim.lr = lr;
    let out = dir.path().join("out");
    let summary = run(&config, &list, &out, false, None).unwrap();
    assert_eq!(summary.steps, 32);
    assert!(out.join("encoder.safetensors").exists() && out.join("config.toml").exists());
    let losses = logged_losses(&out);
    // Every step line says where its time went, each pass timed on one device.
    let log = std::fs::read_to_string(out.join("log.jsonl")).unwrap();
    for line in log.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let s = &v["seconds"];
        for key in ["data", "forward", "backward", "update", "after"] {
            assert!(s[key].as_f64().is_some_and(|t| t >= 0.0), "{key} in {line}");
        }
    }
    let first: f64 = losses[from..from + 6].iter().sum::<f64>() / 6.0;
    let last: f64 = losses[losses.len() - 6..].iter().sum::<f64>() / 6.0;
    assert!(last < 0.9 * first, "loss did not fall: {losses:?}");
}

#[test]
fn simclr_loss_falls() {
    loss_falls(
        MethodConfig::Simclr(SimclrConfig {
            hidden_dim: Some(32),
            projection_dim: 16,
            ..Default::default()
        }),
        0.3,
        0,
    );
}

#[test]
fn moco_v2_loss_falls() {
    loss_falls(tiny_moco(), 0.06, 1);
}

#[test]
fn byol_loss_falls() {
    let byol = ByolConfig { hidden_dim: 32, projection_dim: 16, ..Default::default() };
    loss_falls(MethodConfig::Byol(byol), 0.3, 0);
}
