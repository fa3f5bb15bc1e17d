//! The files of a trained image-text model: the whole model (`clip.safetensors`, module
//! paths) beside the image encoder's `encoder.safetensors`, and its tokenizer.
use std::collections::HashMap;
use std::path::Path;

use burn::module::Module as _;
use corruptencoder_core::write_atomic;

use super::model::Clip;
use crate::error::{Error, Result};
use crate::io::tensors::{load_module, module_tensors, read_safetensors, to_safetensors};

/// The whole model's file beside `encoder.safetensors` (which holds the image encoder alone,
/// in torchvision names, for the linear probe).
pub const CLIP_FILE: &str = "clip.safetensors";
/// The tokenizer saved with the model.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
const CLIP_FORMAT: &str = "corruptencoder-clip-1";

/// Writes the whole model (inference state) as safetensors with module-path keys.
pub(crate) fn export_clip(model: &Clip, steps: u64, path: &Path) -> Result<()> {
    let tensors = module_tensors(&model.valid());
    let meta = HashMap::from([(CLIP_FORMAT.to_owned(), format!("steps={steps}"))]);
    write_atomic(path, &to_safetensors(&tensors, meta, path)?)?;
    Ok(())
}

/// Reads a model written by `export_clip` into a freshly built one.
pub(crate) fn import_clip(fresh: Clip, path: &Path) -> Result<Clip> {
    let (tensors, meta) = read_safetensors(path)?;
    if !meta.contains_key(CLIP_FORMAT) {
        return Err(Error::BadWeights {
            path: path.to_path_buf(),
            what: "not a corruptencoder CLIP model".into(),
        });
    }
    load_module(fresh, &tensors, "", path)
}
