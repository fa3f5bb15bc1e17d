//! `corruptencoder eval`: features of a labelled downstream train and test set (and the
//! triggered test set) under a frozen encoder, the authors' linear probe or kNN, and the
//! metrics CA/BA, ASR, per-class accuracy and the confusion matrix (SPEC section 7).
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};
use corruptencoder_core::write_atomic;
use corruptencoder_data::{Dataset, ImageLimits, open_dataset};
use corruptencoder_eval::{
    Classifier, Features, KnnClassifier, KnnConfig, LabelledFeatures, LinearProbe,
    LinearProbeConfig, TriggeredSet, evaluate,
};
use corruptencoder_train::{EvalTransform, extract_features, load_encoder_weights};

use crate::commands::pretrain::device;
use crate::reporters::Ui;

/// Flags of `corruptencoder eval`.
#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// Encoder weights: our `encoder.safetensors`, or a PyTorch `.pth`/`.pth.tar` (the
    /// authors' MoCo checkpoints included). Architecture, stem and width are read off the
    /// tensor shapes.
    #[arg(long)]
    encoder: PathBuf,
    /// Labelled downstream training set (ImageFolder, file list, CIFAR binary, IDX).
    #[arg(long)]
    train: PathBuf,
    /// Labelled downstream test set.
    #[arg(long)]
    test: PathBuf,
    /// The triggered test set (`corruptencoder testset` output's filelist.txt); needs
    /// --target.
    #[arg(long, requires = "target")]
    triggered: Option<PathBuf>,
    /// Target class index of the attack (ASR leaves its images out of the denominator).
    #[arg(long)]
    target: Option<usize>,
    /// Downstream classifier.
    #[arg(long, value_enum, default_value = "linear")]
    classifier: ClassifierName,
    /// Shorter side after resizing, before the centre crop (SPEC 7: 256); 0 skips resizing.
    #[arg(long, default_value_t = 256)]
    resize: u32,
    /// Centre-crop side (SPEC 7: 224). Triggered images, already cropped by `testset`,
    /// are only centre-cropped.
    #[arg(long, default_value_t = 224)]
    crop: u32,
    /// Linear-probe epochs (SPEC 7: 40; learning-rate steps stay at 15 and 30).
    #[arg(long, default_value_t = 40)]
    epochs: usize,
    /// Images per forward pass.
    #[arg(long, default_value_t = 256)]
    batch_size: usize,
    /// Seed of the probe's initialisation and shuffling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Also write the full result (per-class accuracy, confusion matrix) as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Device for feature extraction: flex (CPU, default), cuda[:N], wgpu, libtorch.
    #[arg(long, default_value = "flex")]
    device: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ClassifierName {
    /// The authors' linear probe.
    Linear,
    /// Weighted kNN (k 200, T 0.1).
    Knn,
}

#[expect(clippy::print_stdout, reason = "the scores are the command's output")]
pub(crate) fn run(args: EvalArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    let device = device(&args.device)?;
    let (encoder, enc_config) = load_encoder_weights(&args.encoder, None, &device)
        .with_context(|| format!("loading encoder {}", args.encoder.display()))?;
    ui.status(&format!(
        "encoder {:?} {:?} stem width {} ({}-d features)",
        enc_config.arch,
        enc_config.stem,
        enc_config.width,
        enc_config.feature_dim()
    ));
    let limits = ImageLimits::default();
    let transform = EvalTransform { resize: args.resize, crop: args.crop };
    let progress = ui.progress();
    let features = |path: &PathBuf, transform: &EvalTransform| -> anyhow::Result<_> {
        let ds = open_dataset(path, None)?;
        let f = extract_features(
            &encoder,
            ds.as_ref(),
            transform,
            args.batch_size,
            &device,
            &limits,
            &progress,
        )
        .with_context(|| format!("features of {}", path.display()))?;
        let labels = labels(ds.as_ref(), &f.labels)?;
        Ok((Features::new(f.values, f.dim)?, labels, ds.class_names().map(<[String]>::to_vec)))
    };
    let (train_x, train_y, names) = features(&args.train, &transform)?;
    let (test_x, test_y, _) = features(&args.test, &transform)?;
    let classes = names.as_ref().map_or(0, Vec::len).max(train_y.iter().max().map_or(0, |m| m + 1));
    let (linear, knn);
    let classifier: &dyn Classifier = match args.classifier {
        ClassifierName::Linear => {
            let config = LinearProbeConfig { epochs: args.epochs, ..Default::default() };
            linear = LinearProbe::fit_with_progress(
                &config, &train_x, &train_y, classes, args.seed, &progress,
            )?
            .0;
            &linear
        }
        ClassifierName::Knn => {
            knn = KnnClassifier::new(KnnConfig::default(), &train_x, &train_y, classes)?;
            &knn
        }
    };
    let triggered = match (&args.triggered, args.target) {
        (Some(path), Some(target)) => {
            if target >= classes {
                bail!("--target {target} is not one of the {classes} classes");
            }
            Some((features(path, &EvalTransform::crop_only(args.crop))?, target))
        }
        _ => None,
    };
    let result = evaluate(
        classifier,
        LabelledFeatures { features: &test_x, labels: &test_y },
        triggered.as_ref().map(|((x, y, _), target)| TriggeredSet {
            set: LabelledFeatures { features: x, labels: y },
            target: *target,
        }),
    )?;
    let name = |c: usize| names.as_ref().and_then(|n| n.get(c)).cloned().unwrap_or(c.to_string());
    println!(
        "top-1 accuracy (CA for a clean encoder, BA for a backdoored one): {:.2}% ({}/{})",
        result.clean.accuracy.percent(),
        result.clean.accuracy.correct,
        result.clean.accuracy.total
    );
    if let Some(a) = &result.attack {
        println!(
            "ASR: {:.2}% ({} of {} triggered non-target images -> {}; {} target-class images left out)",
            a.percent(),
            a.hits,
            a.eligible,
            name(a.target),
            a.excluded
        );
    }
    println!("per-class accuracy:");
    for (c, acc) in result.clean.per_class.iter().enumerate() {
        println!(
            "  {:>3} {:<24} {:6.2}% ({}/{})",
            c,
            name(c),
            acc.percent(),
            acc.correct,
            acc.total
        );
    }
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&result).expect("results serialise");
        write_atomic(path, json.as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Dataset labels as class indices; a negative label (a poison marker) is an error here.
fn labels(ds: &dyn Dataset, raw: &[i64]) -> anyhow::Result<Vec<usize>> {
    raw.iter()
        .enumerate()
        .map(|(i, &l)| {
            usize::try_from(l).with_context(|| {
                format!("{}: label {l} is not a class index (poisons do not belong in a downstream set)", ds.source(i))
            })
        })
        .collect()
}
