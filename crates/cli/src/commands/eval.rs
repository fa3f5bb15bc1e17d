//! `corruptencoder eval`: features of a labelled downstream train and test set (and the
//! triggered test set) under a frozen encoder, the authors' linear probe or kNN, and the
//! metrics CA/BA, ASR, per-class accuracy and the confusion matrix (docs/method.md
//! section 7).
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::Args;
use corruptencoder_core::write_atomic;
use corruptencoder_data::{Dataset, ImageLimits, open_dataset};
use corruptencoder_eval::{
    ClassifierConfig, DownstreamResult, Features, LabelledFeatures, ScoreInput, TriggeredSet,
    class_labels, score,
};
use corruptencoder_train::{EvalTransform, ExtractOptions, FeatureJob, FeatureSets};

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
    /// Downstream classifier, with its defaults (linear: the authors' probe).
    #[arg(long, value_parser = classifier_parser())]
    classifier: Option<ClassifierConfig>,
    /// Shorter side after resizing, before the centre crop (default: docs/method.md section
    /// 7's); 0 skips resizing.
    #[arg(long, default_value_t = EvalTransform::default().resize)]
    resize: u32,
    /// Centre-crop side (default: docs/method.md section 7's; a warning says when the
    /// encoder's run folder shows it was pre-trained on another side). Triggered images,
    /// already cropped by `testset`, are only centre-cropped.
    #[arg(long, default_value_t = EvalTransform::default().crop)]
    crop: u32,
    /// Linear-probe epochs (learning-rate steps stay where the probe's settings put them;
    /// default: the probe's, method.md section 7).
    #[arg(long)]
    epochs: Option<usize>,
    /// Images per forward pass.
    #[arg(long, default_value_t = ExtractOptions::DEFAULT_BATCH)]
    batch_size: usize,
    /// Seed of the probe's initialisation and shuffling.
    #[arg(long, default_value_t)]
    seed: u64,
    /// Also write the full result (per-class accuracy, confusion matrix) as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Device for feature extraction: flex (CPU, default), cuda[:N], wgpu, libtorch.
    #[arg(long, default_value = "flex")]
    device: String,
}

/// `--classifier`'s values: the classifier registry's names.
fn classifier_parser() -> impl clap::builder::TypedValueParser<Value = ClassifierConfig> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(ClassifierConfig::names())
        .map(|name| ClassifierConfig::named(&name).expect("a registered name"))
}

impl EvalArgs {
    /// The classifier's defaults with the flags that set its values laid over them.
    fn classifier(&self) -> anyhow::Result<ClassifierConfig> {
        let mut c = self.classifier.clone().unwrap_or_default();
        if let Some(epochs) = self.epochs {
            c.set_field("epochs", epochs as f64)?;
        }
        Ok(c)
    }
}

/// A labelled downstream set, opened.
struct Set {
    name: &'static str,
    dataset: Box<dyn Dataset>,
    transform: EvalTransform,
}

pub(crate) fn run(args: EvalArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    // Everything that can be checked is checked before features are extracted.
    let classifier = args.classifier()?;
    classifier.validate()?;
    if args.batch_size == 0 || args.crop == 0 {
        bail!("--batch-size and --crop must be positive");
    }
    let device = device(&args.device)?;
    super::warn_on_view_size(&args.encoder, args.crop);
    let transform = EvalTransform { resize: args.resize, crop: args.crop };
    let open = |name, path: &PathBuf, transform| -> anyhow::Result<Set> {
        let dataset =
            open_dataset(path, None).with_context(|| format!("opening {}", path.display()))?;
        Ok(Set { name, dataset, transform })
    };
    let mut sets =
        vec![open("train", &args.train, transform)?, open("test", &args.test, transform)?];
    let names = sets[0].dataset.class_names().map(<[String]>::to_vec);
    let train_labels: Vec<i64> =
        (0..sets[0].dataset.len()).map(|i| sets[0].dataset.label(i)).collect();
    let classes = names
        .as_ref()
        .map_or(0, Vec::len)
        .max(train_labels.iter().max().map_or(0, |&m| m.max(-1) + 1) as usize);
    if let Some(target) = args.target
        && target >= classes
    {
        bail!("--target {target} is not one of the {classes} classes");
    }
    if let Some(path) = &args.triggered {
        sets.push(open("triggered", path, EvalTransform::crop_only(args.crop))?);
    }
    let jobs: Vec<FeatureJob<'_>> = sets
        .iter()
        .map(|s| FeatureJob { name: s.name, dataset: s.dataset.as_ref(), transform: s.transform })
        .collect();
    let opts =
        ExtractOptions { batch_size: args.batch_size, device, limits: ImageLimits::default() };
    let progress = ui.progress();
    let features = FeatureSets::extract(&args.encoder, None, &jobs, &opts, &progress)
        .with_context(|| format!("features under encoder {}", args.encoder.display()))?;
    let get = |name: &'static str| -> anyhow::Result<(Features, Vec<usize>)> {
        let f = features.get(name).expect("extracted");
        Ok((Features::new(f.values.clone(), f.dim)?, class_labels(name, &f.labels)?))
    };
    let (train_x, train_y) = get("train")?;
    let (test_x, test_y) = get("test")?;
    let triggered = match args.target {
        Some(target) if args.triggered.is_some() => Some((get("triggered")?, target)),
        _ => None,
    };
    let input = ScoreInput {
        train: LabelledFeatures { features: &train_x, labels: &train_y },
        test: LabelledFeatures { features: &test_x, labels: &test_y },
        triggered: triggered.as_ref().map(|((x, y), target)| TriggeredSet {
            set: LabelledFeatures { features: x, labels: y },
            target: *target,
        }),
        classes,
        seed: args.seed,
    };
    let result = score(&classifier, input, &progress)?;
    print_result(&result, names.as_deref());
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&result).expect("results serialise");
        write_atomic(path, json.as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}

#[expect(clippy::print_stdout, reason = "the scores are the command's output")]
fn print_result(result: &DownstreamResult, names: Option<&[String]>) {
    let name = |c: usize| names.and_then(|n| n.get(c)).cloned().unwrap_or(c.to_string());
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
}
