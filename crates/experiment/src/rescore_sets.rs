//! The test sets a re-scoring needs and each encoder's features of them. Sets go under
//! `<experiment>/rescore/testsets/`, made by the same rules as the experiment's own
//! (`inputs::testset_config`: same crop, band, format and seed, so the same draws place
//! every trigger); the experiment's own sets are used where they are the ones asked for.
//! Features are cached per run in `<run>/rescore/<set>.safetensors`.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use corruptencoder_core::Progress;
use corruptencoder_data::{Dataset, ImageLimits, SyntheticSet, write_references};
use corruptencoder_poison::{AttackConfig, TestTrigger};
use corruptencoder_train::{
    EvalTransform, ExtractOptions, ExtractedFeatures, FeatureJob, FeatureSets,
};

use crate::config::{DataConfig, ExperimentConfig};
use crate::error::{Error, Result, io};
use crate::inputs::{Inputs, target_patch, testset_config, triggered_set};
use crate::plan::Plan;
use crate::stages::SETS;

/// One labelled set of images to score on.
pub(crate) struct ScoredSet {
    /// Its name in the feature caches.
    pub(crate) name: String,
    pub(crate) dataset: Arc<dyn Dataset>,
    /// Whether its images are stored already cropped (the triggered sets).
    cropped: bool,
    /// Its name in a run's own `features.safetensors`, when it is the experiment's own set.
    run_cache: Option<&'static str>,
}

/// Every set of a re-scoring: the downstream train and test sets, a triggered set per
/// trigger size, and a target-patch set per target class and size (where the class has a
/// reference object).
pub(crate) struct RescoreSets {
    pub(crate) train: ScoredSet,
    pub(crate) test: ScoredSet,
    pub(crate) triggered: Vec<(u32, ScoredSet)>,
    pub(crate) patches: Vec<((usize, u32), ScoredSet)>,
    /// The target classes scored.
    pub(crate) targets: Vec<usize>,
    /// Downstream classes.
    pub(crate) classes: usize,
}

/// What building the sets needs.
pub(crate) struct SetsRequest<'a> {
    pub(crate) config: &'a ExperimentConfig,
    pub(crate) inputs: &'a Inputs,
    pub(crate) dir: &'a Path,
    pub(crate) sizes: &'a [u32],
    pub(crate) targets: &'a [usize],
    pub(crate) limits: &'a ImageLimits,
}

impl RescoreSets {
    /// Finds or writes every set; `notes` gets the target classes without a patch.
    pub(crate) fn prepare(
        req: &SetsRequest<'_>,
        notes: &mut Vec<String>,
        progress: &dyn Progress,
    ) -> Result<Self> {
        let (config, inputs) = (req.config, req.inputs);
        let base = req.dir.join("rescore").join("testsets");
        let own_size = config.testset.trigger_size;
        let mut triggered = Vec::new();
        for &size in req.sizes {
            let own = size == own_size;
            let dir =
                if own { req.dir.join("testset") } else { base.join(format!("trigger-{size}px")) };
            let trigger = || -> Result<TestTrigger> {
                let source = inputs.sources.trigger.as_ref().ok_or(Error::NoTrigger)?;
                Ok(TestTrigger::Patch(source.load(size, req.limits)?))
            };
            let ts = testset_config(config, size);
            let dataset = triggered_set(
                config,
                inputs.test.as_ref(),
                &ts,
                &dir,
                trigger,
                req.limits,
                progress,
            )?;
            let run_cache = own.then_some(SETS[2]);
            triggered.push((
                size,
                ScoredSet { name: format!("trigger-{size}px"), dataset, cropped: true, run_cache },
            ));
        }
        let mut patches = Vec::new();
        for &target in req.targets {
            let Some(references) = references_of(req, target)? else {
                notes.push(format!(
                    "Target class {target}: no reference object of that class, so no \
                     target-patch ASR (give [data] references of it)."
                ));
                continue;
            };
            for &size in req.sizes {
                let own = size == own_size && target == config.attack.target;
                let name = format!("target-patch-{target}-{size}px");
                let dir = if own { req.dir.join("testset-ceiling") } else { base.join(&name) };
                let Some(object) = target_patch(Some(&references), size, req.limits)? else {
                    continue;
                };
                let ts = testset_config(config, size);
                let patch = || Ok(TestTrigger::Patch(object));
                let dataset = triggered_set(
                    config,
                    inputs.test.as_ref(),
                    &ts,
                    &dir,
                    patch,
                    req.limits,
                    progress,
                )?;
                let run_cache = own.then_some(SETS[3]);
                patches
                    .push(((target, size), ScoredSet { name, dataset, cropped: true, run_cache }));
            }
        }
        let plain = |name: &'static str, dataset: &Arc<dyn Dataset>| ScoredSet {
            name: name.into(),
            dataset: dataset.clone(),
            cropped: false,
            run_cache: Some(name),
        };
        Ok(Self {
            train: plain(SETS[0], &inputs.train),
            test: plain(SETS[1], &inputs.test),
            triggered,
            patches,
            targets: req.targets.to_vec(),
            classes: inputs.classes,
        })
    }

    fn all(&self) -> impl Iterator<Item = &ScoredSet> {
        [&self.train, &self.test]
            .into_iter()
            .chain(self.triggered.iter().map(|t| &t.1))
            .chain(self.patches.iter().map(|p| &p.1))
    }
}

/// The folder of reference objects of class `target`: the experiment's own for its target;
/// for another class of the synthetic world, its first reference written under
/// `rescore/references/`; none for another class of real data.
fn references_of(req: &SetsRequest<'_>, target: usize) -> Result<Option<PathBuf>> {
    if target == req.config.attack.target {
        return Ok(req.inputs.sources.references.clone());
    }
    let DataConfig::Synthetic(s) = &req.config.data else { return Ok(None) };
    let dir = req.dir.join("rescore").join("references").join(format!("class-{target}"));
    if !dir.exists() {
        let world = SyntheticSet::new(s.world.clone())?;
        write_references(&world.references(target, 1)?, &dir)?;
    }
    Ok(Some(dir))
}

/// One encoder's features of every set, by set name, and the seconds spent extracting the
/// ones no cache held.
pub(crate) fn run_features(
    config: &ExperimentConfig,
    p: &Plan,
    encoder: &Path,
    sets: &RescoreSets,
    opts: &ExtractOptions,
    progress: &dyn Progress,
) -> Result<(BTreeMap<String, ExtractedFeatures>, f64)> {
    let cache = p.dir.join("rescore");
    let ctrl = matches!(p.attack, Some(AttackConfig::Ctrl(_)));
    let mut found = BTreeMap::new();
    let mut missing = Vec::new();
    for set in sets.all() {
        let own = set.run_cache.filter(|&name| !(ctrl && name == SETS[2]));
        let file = cache.join(format!("{}.safetensors", set.name));
        let cached = FeatureSets::read(&file, &[set.name.as_str()])
            .and_then(|f| f.sets.into_values().next())
            .or_else(|| {
                let name = own?;
                FeatureSets::read(&p.dir.join("features.safetensors"), &[name])?.sets.remove(name)
            });
        match cached {
            Some(f) => {
                found.insert(set.name.clone(), f);
            }
            None => missing.push(set),
        }
    }
    if missing.is_empty() {
        return Ok((found, 0.0));
    }
    let clock = std::time::Instant::now();
    let t = config.eval.transform;
    let jobs: Vec<FeatureJob<'_>> = missing
        .iter()
        .map(|set| FeatureJob {
            name: &set.name,
            dataset: set.dataset.as_ref(),
            transform: if set.cropped { EvalTransform::crop_only(t.crop) } else { t },
        })
        .collect();
    let extracted =
        FeatureSets::extract(encoder, Some(&config.pretrain.encoder), &jobs, opts, progress)?;
    let seconds = clock.elapsed().as_secs_f64();
    fs_err::create_dir_all(&cache).map_err(io("create", &cache))?;
    for (name, f) in extracted.sets {
        let one = FeatureSets { sets: BTreeMap::from([(name.clone(), f.clone())]) };
        one.write(&cache.join(format!("{name}.safetensors")))?;
        found.insert(name, f);
    }
    Ok((found, seconds))
}
