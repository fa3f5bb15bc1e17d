//! The inputs every run shares: the clean pre-training list, the downstream sets, the attack
//! inputs and the triggered test sets. For synthetic data they are written once into
//! `<out>/data` (a `.complete` marker makes an interrupted write start over).
use std::path::{Path, PathBuf};
use std::sync::Arc;

use corruptencoder_core::{Progress, item_rng, write_atomic};
use corruptencoder_data::{
    Dataset, Filter, ImageLimits, SyntheticSet, SyntheticSplit, load_references, open_dataset,
    png_bytes, resize_rgb, write_references,
};
use corruptencoder_poison::{
    AttackConfig, AttackSources, CtrlConfig, TestSetConfig, TestSetOptions, TestTrigger,
    TriggerSource, write_test_set,
};
use image::{Rgb, RgbImage};

use rand::Rng as _;

use crate::config::{DataConfig, ExperimentConfig};
use crate::error::{Error, Result, io};

/// RNG stream of the generated trigger.
const TRIGGER_STREAM: u64 = 0x7716;

/// What the runs share.
#[derive(Debug)]
pub(crate) struct Inputs {
    /// The clean pre-training list (`path label` lines).
    pub(crate) clean_list: PathBuf,
    /// The clean image-caption pairs, where the data has captions (image-text runs).
    pub(crate) clean_captions: Option<PathBuf>,
    /// Its number of images.
    pub(crate) clean_images: usize,
    /// Labelled downstream training set.
    pub(crate) train: Arc<dyn Dataset>,
    /// Labelled downstream test set.
    pub(crate) test: Arc<dyn Dataset>,
    /// Triggered test set with a patch trigger.
    pub(crate) triggered: Arc<dyn Dataset>,
    /// Triggered test set with CTRL's frequency trigger, when an arm runs CTRL.
    pub(crate) triggered_ctrl: Option<Arc<dyn Dataset>>,
    /// The target-patch set: the test images with a patch of the target class's own object
    /// where the trigger goes (when there are reference objects to cut it from).
    pub(crate) target_patch: Option<Arc<dyn Dataset>>,
    /// Number of downstream classes.
    pub(crate) classes: usize,
    /// Class names, where known.
    pub(crate) class_names: Vec<String>,
    /// Where the attacks' inputs are; each run loads what its attack needs.
    pub(crate) sources: AttackSources,
}

/// Most poisons any run makes.
fn max_poisons(config: &ExperimentConfig, clean: usize) -> usize {
    poisons_for(config.max_shared(|a| a.poison_ratio), clean)
}

/// Poisons for `ratio` of `clean` images: rounded, at least one.
pub(crate) fn poisons_for(ratio: f64, clean: usize) -> usize {
    ((ratio * clean as f64).round() as usize).max(1)
}

/// Checks the user's files before the experiment folder is created: the datasets open and
/// every attack input path exists.
pub(crate) fn check_files(config: &ExperimentConfig) -> Result<()> {
    let DataConfig::Files(f) = &config.data else { return Ok(()) };
    for path in [&f.pretrain, &f.downstream_train, &f.downstream_test] {
        open_dataset(path, None)?;
    }
    let sources = f.sources();
    let paths = [
        &sources.references,
        &sources.backgrounds,
        &sources.supports,
        &sources.target_images,
        &f.class_names,
    ];
    for path in paths.into_iter().flatten().chain([&f.trigger]) {
        if !path.exists() {
            return Err(Error::Missing { path: path.clone() });
        }
    }
    Ok(())
}

/// Prepares (or finds, when resuming) the shared inputs under `out`.
pub(crate) fn prepare(
    config: &ExperimentConfig,
    out: &Path,
    limits: &ImageLimits,
    progress: &dyn Progress,
) -> Result<Inputs> {
    let data = out.join("data");
    let mut inputs = match &config.data {
        DataConfig::Synthetic(s) => {
            if !data.join(".complete").exists() {
                if data.exists() {
                    fs_err::remove_dir_all(&data).map_err(io("remove", &data))?;
                }
                write_synthetic(config, s, &data, progress)?;
                write_atomic(&data.join(".complete"), b"")?;
            }
            read_synthetic(s, &data)?
        }
        DataConfig::Files(f) => {
            let clean = open_dataset(&f.pretrain, None)?;
            let train: Arc<dyn Dataset> = open_dataset(&f.downstream_train, None)?.into();
            let test: Arc<dyn Dataset> = open_dataset(&f.downstream_test, None)?.into();
            let classes = class_count(train.as_ref());
            Inputs {
                clean_list: f.pretrain.clone(),
                clean_captions: clean.caption(0).is_some().then(|| f.pretrain.clone()),
                clean_images: clean.len(),
                class_names: match &f.class_names {
                    Some(path) => read_class_names(path)?,
                    None => train.class_names().map(<[String]>::to_vec).unwrap_or_default(),
                },
                train,
                triggered: test.clone(),
                triggered_ctrl: None,
                target_patch: None,
                test,
                classes,
                sources: f.sources(),
            }
        }
    };
    let size = config.testset.trigger_size;
    let patch = || -> Result<TestTrigger> {
        let trigger = inputs.sources.trigger.as_ref().ok_or(Error::NoTrigger)?;
        Ok(TestTrigger::Patch(trigger.load(size, limits)?))
    };
    inputs.triggered = test_set(config, &inputs, out, "testset", patch, limits, progress)?;
    if config.arms.iter().filter_map(|a| a.attack.as_ref()).any(AttackConfig::triggers_by_frequency)
    {
        let ctrl = || Ok(TestTrigger::Frequency(CtrlConfig::default().trigger()?));
        inputs.triggered_ctrl =
            Some(test_set(config, &inputs, out, "testset-ctrl", ctrl, limits, progress)?);
    }
    if let Some(object) = target_patch(inputs.sources.references.as_deref(), size, limits)? {
        let patch = || Ok(TestTrigger::Patch(object.clone()));
        // Its folder and feature-cache names say `ceiling`, as in every finished experiment
        // folder (which would otherwise write and extract it again).
        inputs.target_patch =
            Some(test_set(config, &inputs, out, "testset-ceiling", patch, limits, progress)?);
    }
    Ok(inputs)
}

/// Class names, one per non-blank line.
fn read_class_names(path: &Path) -> Result<Vec<String>> {
    let text = fs_err::read_to_string(path).map_err(io("read", path))?;
    Ok(text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect())
}

/// The target patch: the centre square of the object box of the first reference in `dir`,
/// at `size` px. Pasted where the trigger goes, it shows how far a target-looking patch of
/// the trigger's size moves an encoder's predictions; a backdoor can move them further.
pub(crate) fn target_patch(
    dir: Option<&Path>,
    size: u32,
    limits: &ImageLimits,
) -> Result<Option<RgbImage>> {
    let Some(dir) = dir else { return Ok(None) };
    let set = load_references(dir, limits)?;
    let Some(r) = set.references.first() else { return Ok(None) };
    let b = r.object_box;
    let side = b.w.min(b.h);
    let (x, y) = (b.x + (b.w - side) / 2, b.y + (b.h - side) / 2);
    let square = image::imageops::crop_imm(&r.image, x, y, side, side).to_image();
    Ok(Some(resize_rgb(&square, size, size, Filter::Bicubic)))
}

fn class_count(ds: &dyn Dataset) -> usize {
    match ds.class_names() {
        Some(names) => names.len(),
        None => (0..ds.len()).map(|i| ds.label(i).max(0) as usize + 1).max().unwrap_or(0),
    }
}

/// The triggered twin of the downstream test set, made once per experiment (its seed is
/// the experiment's first seed, so every arm is scored on the same images, and every set
/// has its trigger at the same place).
fn test_set(
    config: &ExperimentConfig,
    inputs: &Inputs,
    out: &Path,
    name: &str,
    trigger: impl FnOnce() -> Result<TestTrigger>,
    limits: &ImageLimits,
    progress: &dyn Progress,
) -> Result<Arc<dyn Dataset>> {
    let dir = out.join(name);
    let ts = testset_config(config, config.testset.trigger_size);
    triggered_set(config, inputs.test.as_ref(), &ts, &dir, trigger, limits, progress)
}

/// The experiment's triggered test sets' settings, with a trigger of `trigger_size` px.
pub(crate) fn testset_config(config: &ExperimentConfig, trigger_size: u32) -> TestSetConfig {
    let t = &config.testset;
    let transform = &config.eval.transform;
    TestSetConfig {
        resize: (transform.resize > 0).then_some(transform.resize),
        crop: transform.crop,
        trigger_size,
        band: t.band,
        format: t.format,
        jpeg_quality: 75,
    }
}

/// The triggered twin of `test` in `dir`, written there first unless it already is (with
/// the experiment's first seed: every set places its trigger by the same draws).
pub(crate) fn triggered_set(
    config: &ExperimentConfig,
    test: &dyn Dataset,
    ts: &TestSetConfig,
    dir: &Path,
    trigger: impl FnOnce() -> Result<TestTrigger>,
    limits: &ImageLimits,
    progress: &dyn Progress,
) -> Result<Arc<dyn Dataset>> {
    if !dir.exists() {
        let trigger = trigger()?;
        let opts = TestSetOptions {
            out: dir.to_path_buf(),
            force: false,
            seed: config.seeds[0],
            config_toml: toml::to_string_pretty(ts).expect("test-set config serialises"),
            limits: *limits,
        };
        write_test_set(test, ts, &trigger, &opts, progress)?;
    }
    Ok(open_dataset(&dir.join("filelist.txt"), None)?.into())
}

fn write_synthetic(
    config: &ExperimentConfig,
    s: &crate::config::SyntheticData,
    data: &Path,
    progress: &dyn Progress,
) -> Result<()> {
    let world = SyntheticSet::new(s.world.clone())?;
    let target = config.attack.target;
    world.write_split(SyntheticSplit::Pretrain, s.pretrain, &data.join("pretrain"), progress)?;
    world.write_split(
        SyntheticSplit::DownstreamTrain,
        s.downstream_train,
        &data.join("downstream-train"),
        progress,
    )?;
    world.write_split(
        SyntheticSplit::DownstreamTest,
        s.downstream_test,
        &data.join("downstream-test"),
        progress,
    )?;
    let refs = config.max_shared(|a| a.references as f64) as usize;
    write_references(&world.references(target, refs)?, &data.join("references"))?;
    let (bw, bh) = s.background_size;
    world.write_backgrounds(s.backgrounds, bw, bh, &data.join("backgrounds"))?;
    let supports = data.join("supports");
    fs_err::create_dir_all(&supports).map_err(io("create", &supports))?;
    for (name, img) in world.supports(target, 8)? {
        write_atomic(&supports.join(format!("{name}.png")), &png_bytes(&img))?;
    }
    // Target-class images for the baselines: pre-training-split images past the clean
    // set, so no poison is a copy of a clean image.
    let targets = data.join("targets");
    fs_err::create_dir_all(&targets).map_err(io("create", &targets))?;
    let classes = s.world.classes;
    let first = s.pretrain + (target + classes - s.pretrain % classes) % classes;
    let n = max_poisons(config, s.pretrain);
    for k in 0..n {
        let sample = world.sample(SyntheticSplit::Pretrain, first + k * classes);
        debug_assert_eq!(sample.label, target);
        write_atomic(&targets.join(format!("target-{k:05}.png")), &png_bytes(&sample.image))?;
    }
    write_atomic(&data.join("trigger.png"), &png_bytes(&generated_trigger(s.world.seed)))?;
    Ok(())
}

fn read_synthetic(s: &crate::config::SyntheticData, data: &Path) -> Result<Inputs> {
    let world = SyntheticSet::new(s.world.clone())?;
    let train: Arc<dyn Dataset> = open_dataset(&data.join("downstream-train"), None)?.into();
    let test: Arc<dyn Dataset> = open_dataset(&data.join("downstream-test"), None)?.into();
    Ok(Inputs {
        clean_list: data.join("pretrain").join(corruptencoder_data::SYNTHETIC_LIST),
        clean_captions: Some(data.join("pretrain").join(corruptencoder_data::SYNTHETIC_CAPTIONS)),
        clean_images: s.pretrain,
        train,
        triggered: test.clone(),
        triggered_ctrl: None,
        target_patch: None,
        test,
        classes: s.world.classes,
        class_names: world.class_names(),
        sources: AttackSources {
            references: Some(data.join("references")),
            backgrounds: Some(data.join("backgrounds")),
            supports: Some(data.join("supports")),
            target_images: Some(data.join("targets")),
            trigger: Some(TriggerSource::File(data.join("trigger.png"))),
        },
    })
}

/// An 80 px trigger of 4 x 4 saturated colour blocks, like the authors' random-pattern
/// trigger image (which the product must not depend on).
pub(crate) fn generated_trigger(seed: u64) -> RgbImage {
    let mut rng = item_rng(seed, TRIGGER_STREAM, 0);
    let colours: Vec<Rgb<u8>> = (0..16)
        .map(|_| {
            let mut c = [0u8; 3];
            for v in &mut c {
                *v = if rng.random::<bool>() { 255 } else { 0 };
            }
            if c == [0, 0, 0] || c == [255, 255, 255] {
                c[rng.random_range(0..3)] = 128;
            }
            Rgb(c)
        })
        .collect();
    RgbImage::from_fn(80, 80, |x, y| colours[(y / 20 * 4 + x / 20) as usize])
}
