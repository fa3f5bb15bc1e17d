use corruptencoder_train::{MethodConfig, MocoV2Config, SplitBn};

use crate::util::{run, tiny_config, tiny_dataset};

/// A run killed mid-way through epoch 2 and resumed from its epoch-1 checkpoint ends with
/// the same encoder bytes and the same step log as an uninterrupted run.
#[test]
fn resumed_run_is_bit_identical() {
    resumed_run_is_bit_identical_with(SplitBn::Passes, false);
}

/// The same with MoCo's split BN inside the batch norms, whose running statistics take one
/// update per step.
#[test]
fn resumed_run_is_bit_identical_with_split_batch_norms() {
    resumed_run_is_bit_identical_with(SplitBn::BatchNorm, false);
}

/// A run folder written before `split_bn` existed (its `config.toml` has no such key; it
/// ran one encoder pass per group) resumes as it ran: a config naming `passes` resumes it
/// bit for bit, while today's default, `batch-norm`, is refused as another run.
#[test]
fn a_run_written_before_split_bn_existed_resumes_as_passes() {
    resumed_run_is_bit_identical_with(SplitBn::Passes, true);
}

/// `legacy`: the killed run's stored config loses its `split_bn` line before the resume.
fn resumed_run_is_bit_identical_with(split_bn: SplitBn, legacy: bool) {
    let dir = tempfile::tempdir().unwrap();
    let list = tiny_dataset(dir.path(), 24);
    // MoCo exercises the most state: SGD buffers, key encoder, queue and its pointer.
    let moco = MocoV2Config {
        queue_size: 16,
        hidden_dim: Some(16),
        projection_dim: 8,
        bn_splits: 2,
        split_bn,
        ..Default::default()
    };
    let config = tiny_config(MethodConfig::MocoV2(moco), 3);
    let whole = dir.path().join("whole");
    run(&config, &list, &whole, false, None).unwrap();

    let killed = dir.path().join("killed");
    let partial = run(&config, &list, &killed, false, Some(4)).unwrap();
    assert_eq!((partial.steps, partial.encoder.as_ref()), (4, None));
    if legacy {
        let stored = corruptencoder_core::OutputDir::partial_path(&killed).join("config.toml");
        let text = fs_err::read_to_string(&stored).unwrap();
        let line = "split_bn = \"passes\"\n";
        assert!(text.contains(line), "{text}");
        fs_err::write(&stored, text.replace(line, "")).unwrap();
        let mut today = config.clone();
        today.method = MethodConfig::MocoV2(MocoV2Config { split_bn: SplitBn::BatchNorm, ..moco });
        let refused = run(&today, &list, &killed, true, None).unwrap_err().to_string();
        assert!(refused.contains("different") || refused.contains("another"), "{refused}");
    }
    let resumed = run(&config, &list, &killed, true, None).unwrap();
    assert_eq!(resumed.steps, 9);

    let read = |p: &std::path::Path| fs_err::read(p).unwrap();
    let losses = |p: &std::path::Path| {
        fs_err::read_to_string(p.join("log.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["loss"].clone())
            .collect::<Vec<_>>()
    };
    // Same losses step by step (throughput differs, so whole lines may not).
    assert_eq!(losses(&whole).len(), 9);
    assert_eq!(losses(&whole), losses(&killed));
    assert!(read(&whole.join("encoder.safetensors")) == read(&killed.join("encoder.safetensors")));
    assert!(
        read(&whole.join("checkpoints/epoch-0003.safetensors"))
            == read(&killed.join("checkpoints/epoch-0003.safetensors"))
    );
}
