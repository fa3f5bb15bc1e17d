//! CleanCLIP fine-tuning of a trained CLIP model: a run folder zero-shot reads as any
//! CLIP's, resumed bit for bit, and refusals that name the problem.
use std::path::Path;

use corruptencoder_core::NoProgress;
use corruptencoder_data::{CaptionedImages, Dataset as _};
use corruptencoder_train::burn::prelude::Device;
use corruptencoder_train::{
    CleanClipConfig, ClipEncoders, MethodConfig, NoReporter, PretrainConfig, PretrainRun,
    PretrainSummary, Result, finetune_cleanclip,
};

use crate::clip::{captioned, clip_config};
use crate::util::{logged_losses, run, tiny_config, tiny_dataset};

fn finetune(
    settings: &CleanClipConfig,
    source: &Path,
    (pairs, out): (&Path, &Path),
    (resume, stop_after): (bool, Option<u64>),
) -> Result<PretrainSummary> {
    let run = PretrainRun {
        data: pairs,
        format: None,
        out,
        resume,
        force: false,
        device: Device::flex(),
        progress: &NoProgress,
        reporter: &mut NoReporter,
        stop_after,
        monitor: None,
    };
    finetune_cleanclip(settings, source, run)
}

fn settings() -> CleanClipConfig {
    CleanClipConfig {
        epochs: 3,
        batch_size: 6,
        lr: 1e-3,
        warmup_steps: 2,
        seed: 4,
        clean_pairs: 18,
        ..Default::default()
    }
}

/// A fine-tuned model loads for zero-shot like any CLIP run, trained on the chosen subset
/// of pairs from the source's weights; stopped and resumed it ends bit-identical.
#[test]
fn cleanclip_writes_a_clip_run_and_resumes_bit_identically() {
    let dir = tempfile::tempdir().unwrap();
    let csv = captioned(dir.path(), 24);
    let source = dir.path().join("clip");
    run(&clip_config(2), &csv, &source, false, None).unwrap();

    let whole = dir.path().join("whole");
    let done = finetune(&settings(), &source, (&csv, &whole), (false, None)).unwrap();
    assert_eq!(done.steps, 9, "18 of the 24 pairs, batch 6, 3 epochs");
    let killed = dir.path().join("killed");
    let partial = finetune(&settings(), &source, (&csv, &killed), (false, Some(4))).unwrap();
    assert_eq!((partial.steps, partial.encoder), (4, None));
    finetune(&settings(), &source, (&csv, &killed), (true, None)).unwrap();
    let read = |p: &Path| fs_err::read(p).unwrap();
    for f in ["clip.safetensors", "encoder.safetensors", "pairs.csv", "tokenizer.json"] {
        assert!(read(&whole.join(f)) == read(&killed.join(f)), "{f} differs");
    }
    assert_eq!(logged_losses(&whole), logged_losses(&killed));

    assert_eq!(CaptionedImages::open_csv(&whole.join("pairs.csv")).unwrap().len(), 18);
    assert!(read(&whole.join("tokenizer.json")) == read(&source.join("tokenizer.json")));
    assert!(read(&whole.join("clip.safetensors")) != read(&source.join("clip.safetensors")));
    let config = PretrainConfig::from_toml_file(&whole.join("config.toml")).unwrap();
    assert_eq!((config.epochs, config.batch_size, config.optim.lr), (3, 6, 1e-3));
    let record = fs_err::read_to_string(whole.join("cleanclip.toml")).unwrap();
    assert!(record.contains("clean_pairs = 18"), "{record}");
    let clip = ClipEncoders::load(&whole, &Device::flex()).unwrap();
    let names = ["red".to_owned(), "green".to_owned()];
    assert_eq!(clip.class_embeddings(&names, &["a {class} block"]).unwrap().len(), 2 * 16);
}

#[test]
fn cleanclip_refuses_other_settings_on_resume_and_image_only_models() {
    let dir = tempfile::tempdir().unwrap();
    let csv = captioned(dir.path(), 12);
    let source = dir.path().join("clip");
    run(&clip_config(1), &csv, &source, false, None).unwrap();
    let out = dir.path().join("out");
    let s = CleanClipConfig { clean_pairs: 0, ..settings() };
    finetune(&s, &source, (&csv, &out), (false, Some(1))).unwrap();
    let other = CleanClipConfig { inmodal_weight: 0.5, ..s };
    let err = finetune(&other, &source, (&csv, &out), (true, None)).unwrap_err();
    assert!(err.to_string().contains("different configuration"), "{err}");

    let list = tiny_dataset(dir.path(), 16);
    let moco = dir.path().join("moco");
    run(&tiny_config(MethodConfig::Simclr(Default::default()), 1), &list, &moco, false, None)
        .unwrap();
    let err = finetune(&s, &moco, (&csv, &dir.path().join("x")), (false, None)).unwrap_err();
    assert!(err.to_string().contains("simclr, not clip"), "{err}");
    // A folder of images with .txt captions serves as the pairs too.
    let folder = dir.path().join("folder");
    fs_err::create_dir(&folder).unwrap();
    for i in 0..6 {
        fs_err::copy(dir.path().join(format!("c{i:03}.png")), folder.join(format!("{i}.png")))
            .unwrap();
        fs_err::write(folder.join(format!("{i}.txt")), "a red block").unwrap();
    }
    let from_folder = finetune(&s, &source, (&folder, &dir.path().join("f")), (false, Some(1)));
    assert_eq!(from_folder.unwrap().steps, 1);
    let big = CleanClipConfig { batch_size: 64, ..s };
    let err = finetune(&big, &source, (&csv, &dir.path().join("y")), (false, None)).unwrap_err();
    assert!(err.to_string().contains("batch size 64"), "{err}");
    assert!(!dir.path().join("x").exists() && !dir.path().join("y").exists());
}
