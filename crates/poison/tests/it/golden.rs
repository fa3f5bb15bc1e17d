//! Poisons are byte-identical across x86-64 machines, not only across thread counts: the
//! manifest of a fixed kit run (which holds every poison PNG's SHA-256) has a known hash.
//! Image decoding, resizing, blurring and PNG encoding are integer or plain scalar
//! floating-point code with no dependence on the CPU's vector features, so a change of
//! this hash means a change of the poisons themselves.
//!
//! To regenerate after an intended change of the generator (say why in the commit):
//! `GOLDEN_PRINT=1 cargo test --workspace golden -- --nocapture`
//! prints the new hash; paste it below. The CLI gives the same manifest:
//! `corruptencoder poison corruptencoder --references KIT/references/hunting-dog
//! --backgrounds KIT/backgrounds --trigger KIT/triggers/trigger_10.png --num-poisons 8
//! --seed 0 -o g && sha256sum g/manifest.jsonl` (how the hash below was first computed).
use corruptencoder_core::{NoProgress, sha256_hex};
use corruptencoder_data::{ImageLimits, list_images, load_references};
use corruptencoder_poison::{
    CorruptEncoder, CorruptEncoderConfig, OutputOptions, TriggerSource, write_poison_set,
};

use crate::{kit, trigger_path};

/// SHA-256 of `manifest.jsonl` for 8 CorruptEncoder poisons, seed 0, the kit's hunting-dog
/// references, its backgrounds in sorted order and `trigger_10.png` at 40 px, with every
/// other option at the authors' default.
const GOLDEN: &str = "86392654a93c14ae085dda5270d9cd13490b8409dc62c131afacadbf8a9d27c3";

#[test]
#[expect(clippy::print_stderr, reason = "the regeneration recipe prints the hash")]
fn default_kit_run_manifest_has_the_golden_hash() {
    let limits = ImageLimits::default();
    let refs = load_references(&kit().join("references/hunting-dog"), &limits).unwrap();
    let trigger = TriggerSource::File(trigger_path()).load(40, &limits).unwrap();
    let config = CorruptEncoderConfig { num_poisons: 8, ..CorruptEncoderConfig::default() };
    let backgrounds = list_images(&kit().join("backgrounds")).unwrap();
    let attack =
        CorruptEncoder::new(config, &refs.references, backgrounds, vec![], trigger, limits)
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = OutputOptions {
        out: dir.path().join("golden"),
        force: false,
        seed: 0,
        clean_list: None,
        config_toml: String::new(),
        preview_count: 0,
        list_root: None,
    };
    let summary = write_poison_set(&attack, &opts, &NoProgress).unwrap();
    let manifest = fs_err::read(summary.out.join("manifest.jsonl")).unwrap();
    let hash = sha256_hex(&manifest);
    if std::env::var_os("GOLDEN_PRINT").is_some() {
        eprintln!("golden manifest sha256: {hash}");
    }
    assert_eq!(
        hash,
        GOLDEN,
        "the poisons changed; manifest:\n{}",
        String::from_utf8_lossy(&manifest)
    );
}
