//! Arbitrary experiment files: parsing and validation return `Ok` or an error naming the
//! file, never panic.
use corruptencoder_experiment::ExperimentConfig;
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() }
}

/// Lines of both the old and the new file format, with values in and out of range; any
/// subset in any order is a test file.
const LINES: &[&str] = &[
    "name = \"x\"",
    "name = 5",
    "seeds = []",
    "seeds = [0, 1]",
    "seeds = [-1]",
    "[data]",
    "source = \"synthetic\"",
    "source = \"files\"",
    "pretrain = 24",
    "pretrain = 0",
    "downstream_train = 12",
    "downstream_test = 0",
    "[data.world]",
    "classes = 0",
    "size = 0",
    "size = 100000",
    "[attack]",
    "poison_ratio = 0.1",
    "poison_ratio = -1",
    "poison_ratio = nan",
    "references = 0",
    "target = 99",
    "trigger_size = 0",
    "[testset]",
    "trigger_size = 100000",
    "[eval]",
    "transform = { resize = 0, crop = 0 }",
    "batch_size = 0",
    "classifier = { kind = \"linear\", epochs = 0 }",
    "[pretrain]",
    "epochs = 0",
    "batch_size = 1",
    "encoder = { arch = \"small-cnn\", width = 0 }",
    "[sweep]",
    "parameter = \"poison_ratio\"",
    "values = []",
    "[report]",
    "compare = \"ssl-backdoor\"",
    "compare = 3",
    "asr_threshold = nan",
    "asr_threshold = 150",
    "[[arms]]",
    "name = \"clean\"",
    "name = \"a b\"",
    "attack = \"none\"",
    "attack = \"corruptencoder\"",
    "attack = { kind = \"corruptencoder\", trigger_size = 0 }",
    "attack = { kind = \"nothing\" }",
    "defense = \"localized-cropping\"",
    "colour = 3",
    "= broken",
    "[[arms]] x",
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_mix_of_lines(picks in prop::collection::vec(0..LINES.len(), 0..24)) {
        let text: String = picks.iter().map(|&i| format!("{}\n", LINES[i])).collect();
        if let Ok(c) = toml::from_str::<ExperimentConfig>(&text) {
            let _ = c.validate();
        }
    }

    #[test]
    fn any_bytes_as_a_file(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("exp.toml");
        fs_err::write(&path, &bytes).unwrap();
        if let Err(e) = ExperimentConfig::from_file(&path) {
            prop_assert!(e.to_string().contains("exp.toml"), "{e}");
        }
    }
}
