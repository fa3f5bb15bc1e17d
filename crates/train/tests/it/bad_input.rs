use corruptencoder_data::Error as DataError;
use corruptencoder_train::{Error, MethodConfig, SimclrConfig};

use crate::util::{run, tiny_config, tiny_dataset};

fn simclr(epochs: usize) -> corruptencoder_train::PretrainConfig {
    tiny_config(
        MethodConfig::Simclr(SimclrConfig {
            hidden_dim: Some(16),
            projection_dim: 8,
            ..Default::default()
        }),
        epochs,
    )
}

#[test]
fn empty_list_and_oversized_batch_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.txt");
    fs_err::write(&empty, "").unwrap();
    let err = run(&simclr(1), &empty, &dir.path().join("a"), false, None).unwrap_err();
    assert!(matches!(err, Error::Data(DataError::EmptyDataset { .. })), "{err}");
    assert!(err.to_string().contains("empty.txt"), "{err}");

    let list = tiny_dataset(dir.path(), 6);
    let err = run(&simclr(1), &list, &dir.path().join("b"), false, None).unwrap_err();
    assert!(matches!(err, Error::BatchTooLarge { batch: 8, images: 6 }), "{err}");
    assert!(err.to_string().contains("lower `batch_size`"), "{err}");
}

#[test]
fn corrupt_images_are_skipped_or_fatal_when_strict() {
    let dir = tempfile::tempdir().unwrap();
    let list = tiny_dataset(dir.path(), 10);
    fs_err::write(dir.path().join("img003.png"), b"not a png").unwrap();
    let summary = run(&simclr(1), &list, &dir.path().join("lenient"), false, None).unwrap();
    assert_eq!((summary.images, summary.skipped, summary.steps), (9, 1, 1));

    let mut strict = simclr(1);
    strict.strict = true;
    let err = run(&strict, &list, &dir.path().join("strict"), false, None).unwrap_err();
    match err {
        Error::Data(DataError::Decode { path, .. }) => assert!(path.ends_with("img003.png")),
        other => panic!("{other}"),
    }
}

#[test]
fn existing_output_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let list = tiny_dataset(dir.path(), 8);
    let out = dir.path().join("out");
    fs_err::create_dir(&out).unwrap();
    let err = run(&simclr(1), &list, &out, false, None).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
}

#[test]
fn nan_loss_stops_and_keeps_the_last_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let list = tiny_dataset(dir.path(), 16);
    let out = dir.path().join("out");
    // With lr * weight decay = 1e4, weights grow ~1e4-fold a step (batch norm keeps the loss
    // finite meanwhile) until they overflow f32 some epochs in.
    let mut config = simclr(40);
    config.optim.lr = 1e8;
    let err = run(&config, &list, &out, false, None).unwrap_err();
    let Error::NonFiniteLoss { checkpoint, step, .. } = &err else { panic!("{err}") };
    assert!(*step > 1);
    let checkpoint = checkpoint.as_ref().expect("an epoch finished before the blow-up");
    assert!(checkpoint.exists(), "{}", checkpoint.display());
    assert!(err.to_string().contains("Last good checkpoint"));
}
