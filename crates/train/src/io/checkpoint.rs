//! Training checkpoints: one safetensors file per epoch holding the method's tensors
//! (`model.<path>`), the optimizer's buffers (`sgd.<path>`: SGD's momentum, or AdamW's
//! `m.`/`v.` moments) and, as metadata, where training stands. Enough to continue a killed
//! run bit-identically.
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use burn::prelude::*;
use corruptencoder_core::write_atomic;

use crate::error::{Error, Result};
use crate::io::tensors::{
    HostTensor, HostValues, load_module, module_tensors, read_safetensors, to_safetensors,
};
use crate::optim::OptimBuffers;

const FORMAT: &str = "corruptencoder-pretrain-checkpoint-1";

/// Where a checkpoint leaves training.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    /// Epochs completed.
    pub(crate) epochs: usize,
    /// Optimizer steps completed.
    pub(crate) step: u64,
}

/// The file of the checkpoint after `epochs` epochs.
pub(crate) fn checkpoint_path(dir: &Path, epochs: usize) -> PathBuf {
    dir.join(format!("epoch-{epochs:04}.safetensors"))
}

/// The checkpoint with the most epochs in `dir`, if any.
pub(crate) fn latest_checkpoint(dir: &Path) -> Option<PathBuf> {
    let entries = fs_err::read_dir(dir).ok()?;
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            name.starts_with("epoch-") && name.ends_with(".safetensors")
        })
        .max()
}

/// Writes the checkpoint of `method` and the optimizer's `buffers` at `pos` atomically and
/// returns its path.
pub(crate) fn save_checkpoint<M: Module>(
    dir: &Path,
    method: &M,
    buffers: &OptimBuffers,
    pos: Position,
) -> Result<PathBuf> {
    let path = checkpoint_path(dir, pos.epochs);
    // `valid()` first folds pending batch-norm statistics into the running buffers.
    let synced = method.valid();
    let mut tensors: BTreeMap<String, HostTensor> =
        module_tensors(&synced).into_iter().map(|(k, v)| (format!("model.{k}"), v)).collect();
    for (k, buf) in buffers {
        tensors.insert(format!("sgd.{k}"), HostTensor::from_tensor(buf.clone()));
    }
    // One metadata key: safetensors writes its metadata map in hash order, and a checkpoint
    // must be byte-identical whether or not the run was resumed.
    let meta =
        HashMap::from([(FORMAT.to_owned(), format!("epochs={} step={}", pos.epochs, pos.step))]);
    write_atomic(&path, &to_safetensors(&tensors, meta, &path)?)?;
    Ok(path)
}

/// Loads a checkpoint into a freshly built `method`; returns it with the optimizer's
/// buffers and the position to continue from.
pub(crate) fn load_checkpoint<M: Module>(
    path: &Path,
    method: M,
    device: &Device,
) -> Result<(M, OptimBuffers, Position)> {
    let (tensors, meta) = read_safetensors(path)?;
    let bad = |what: &str| Error::BadWeights { path: path.to_path_buf(), what: what.to_owned() };
    let position =
        meta.get(FORMAT).ok_or_else(|| bad("not a corruptencoder pre-training checkpoint"))?;
    let number = |key: &str| {
        position
            .split(' ')
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse::<u64>().ok())
            .ok_or_else(|| bad(key))
    };
    let pos = Position { epochs: number("epochs")? as usize, step: number("step")? };
    let method = load_module(method, &tensors, "model.", path)?;
    let mut buffers = OptimBuffers::new();
    for (k, t) in &tensors {
        if let (Some(name), HostValues::F32(v)) = (k.strip_prefix("sgd."), &t.values) {
            buffers.insert(
                name.to_owned(),
                Tensor::from_data(
                    TensorData::new(v.clone(), t.shape.clone()),
                    &device.clone().inner(),
                ),
            );
        }
    }
    Ok((method, buffers, pos))
}
