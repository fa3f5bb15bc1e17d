//! The feature stage both front doors call: load an encoder, extract the features of
//! named labelled sets, and cache them as one safetensors file beside the run.
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use burn::prelude::Device;
use corruptencoder_core::{Progress, write_atomic};
use corruptencoder_data::{Dataset, ImageLimits};

use crate::encoder::EncoderConfig;
use crate::error::Result;
use crate::features::extract::{EvalTransform, ExtractedFeatures, extract_features};
use crate::io::import::load_encoder_weights;
use crate::io::tensors::{HostTensor, HostValues, read_safetensors, to_safetensors};

/// Features of several named sets (`train`, `test`, `triggered`) under one encoder.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeatureSets {
    /// The sets by name.
    pub sets: BTreeMap<String, ExtractedFeatures>,
}

/// One labelled set to extract, under its name.
#[derive(Clone, Copy)]
pub struct FeatureJob<'a> {
    /// Name of the set in the cache.
    pub name: &'a str,
    /// The images.
    pub dataset: &'a dyn Dataset,
    /// The test transform applied to them.
    pub transform: EvalTransform,
}

/// How features are extracted.
#[derive(Debug, Clone)]
pub struct ExtractOptions {
    /// Images per forward pass.
    pub batch_size: usize,
    /// Inference device (not an autodiff device).
    pub device: Device,
    /// Image decoding limits.
    pub limits: ImageLimits,
}

impl ExtractOptions {
    /// Images per forward pass unless a caller says otherwise: the probe's batch (method.md
    /// section 7), which fits a ResNet-18 at 224 px on a CPU.
    pub const DEFAULT_BATCH: usize = 256;
}

impl FeatureSets {
    /// The feature stage: loads the encoder at `encoder` (our safetensors or a PyTorch
    /// checkpoint; `arch` checks or, when `None`, infers the architecture) and extracts
    /// every job's features.
    pub fn extract(
        encoder: &Path,
        arch: Option<&EncoderConfig>,
        jobs: &[FeatureJob<'_>],
        opts: &ExtractOptions,
        progress: &dyn Progress,
    ) -> Result<Self> {
        let (encoder, _) = load_encoder_weights(encoder, arch, &opts.device)?;
        let mut sets = BTreeMap::new();
        for job in jobs {
            let f = extract_features(
                &encoder,
                job.dataset,
                &job.transform,
                opts.batch_size,
                &opts.device,
                &opts.limits,
                progress,
            )?;
            sets.insert(job.name.to_owned(), f);
        }
        Ok(Self { sets })
    }

    /// The set `name`.
    pub fn get(&self, name: &str) -> Option<&ExtractedFeatures> {
        self.sets.get(name)
    }

    /// The cache at `path`, if it is there, readable and holds every set of `names`.
    pub fn read(path: &Path, names: &[&str]) -> Option<Self> {
        if !path.exists() {
            return None;
        }
        let (tensors, _) = read_safetensors(path).ok()?;
        let mut sets = BTreeMap::new();
        for &name in names {
            let f = tensors.get(&format!("{name}.features"))?;
            let l = tensors.get(&format!("{name}.labels"))?;
            let (HostValues::F32(values), HostValues::I64(labels)) = (&f.values, &l.values) else {
                return None;
            };
            let [rows, dim] = f.shape[..] else { return None };
            if values.len() != rows * dim || labels.len() != rows {
                return None;
            }
            let set = ExtractedFeatures { values: values.clone(), dim, labels: labels.clone() };
            sets.insert(name.to_owned(), set);
        }
        Some(Self { sets })
    }

    /// Writes the cache atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut tensors = BTreeMap::new();
        for (name, f) in &self.sets {
            let rows = f.labels.len();
            let values = HostValues::F32(f.values.clone());
            tensors.insert(
                format!("{name}.features"),
                HostTensor { shape: vec![rows, f.dim], values },
            );
            let labels = HostValues::I64(f.labels.clone());
            tensors
                .insert(format!("{name}.labels"), HostTensor { shape: vec![rows], values: labels });
        }
        let bytes = to_safetensors(&tensors, HashMap::new(), path)?;
        write_atomic(path, &bytes)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_round_trips_and_refuses_what_it_lacks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("features.safetensors");
        let f = ExtractedFeatures {
            values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            dim: 3,
            labels: vec![0, -1],
        };
        let sets = FeatureSets { sets: BTreeMap::from([("train".to_owned(), f)]) };
        assert!(FeatureSets::read(&path, &["train"]).is_none());
        sets.write(&path).unwrap();
        assert_eq!(FeatureSets::read(&path, &["train"]).unwrap(), sets);
        assert!(FeatureSets::read(&path, &["train", "test"]).is_none());
        fs_err::write(&path, b"not safetensors").unwrap();
        assert!(FeatureSets::read(&path, &["train"]).is_none());
    }
}
