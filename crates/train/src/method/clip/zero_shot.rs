//! A trained image-text model loaded for evaluation: image and text embeddings for
//! zero-shot classification (the scoring itself is `eval`'s, on plain matrices).
use std::path::Path;

use burn::prelude::*;
use corruptencoder_core::Progress;
use corruptencoder_data::{Dataset, Encoded, ImageLimits, Tokenizer};

use super::files::{CLIP_FILE, TOKENIZER_FILE, import_clip};
use super::model::Clip;
use super::model::token_tensors;
use crate::config::PretrainConfig;
use crate::error::{Error, Result};
use crate::features::extract::{EvalTransform, ExtractedFeatures, extract_with};
use crate::method::MethodConfig;

/// CLIP's zero-shot prompt templates at our scale (`{class}` is the class name); the
/// prompt embeddings of a class are averaged (CLIP's prompt ensembling).
pub const ZERO_SHOT_TEMPLATES: [&str; 3] =
    ["a photo of a {class}.", "a photo of the {class}.", "a close-up photo of a {class}."];

/// A trained CLIP with its tokenizer, in inference mode.
#[derive(Debug)]
pub struct ClipEncoders {
    model: Clip,
    tokenizer: Tokenizer,
    device: Device,
}

impl ClipEncoders {
    /// Loads `clip.safetensors` and `tokenizer.json` from the run folder of a `clip`
    /// pre-training, building the model from its `config.toml`.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let config = PretrainConfig::from_stored_toml_file(&dir.join("config.toml"))?;
        let MethodConfig::Clip(cc) = &config.method else {
            let method = config.method.name();
            return Err(Error::NotImageText { path: dir.to_path_buf(), method });
        };
        let tokenizer = Tokenizer::from_file(&dir.join(TOKENIZER_FILE))?;
        // Every weight is replaced by the file's; the draw only sets shapes.
        let rng = &mut corruptencoder_core::item_rng(0, 0, 0);
        let fresh = cc.init(&config.encoder, tokenizer.vocab_size(), device, rng);
        let model = import_clip(fresh, &dir.join(CLIP_FILE))?;
        Ok(Self { model, tokenizer, device: device.clone() })
    }

    /// L2-normalised embeddings of `texts`, row-major `[N, embed_dim]`.
    pub fn embed_texts(&self, texts: &[String]) -> Result<Vec<f32>> {
        let encoded: Vec<Encoded> = texts.iter().map(|t| self.tokenizer.encode(t)).collect();
        let rows: Vec<usize> = (0..texts.len()).collect();
        let (tokens, eot) = token_tensors(&encoded, &rows, self.tokenizer.context, &self.device);
        let e = crate::loss::l2_normalize(self.model.encode_texts(tokens, eot));
        to_vec(e)
    }

    /// One unit-norm embedding per class, `[classes, embed_dim]`: the normalised mean of the
    /// class name's prompt embeddings over `templates`.
    pub fn class_embeddings(&self, class_names: &[String], templates: &[&str]) -> Result<Vec<f32>> {
        let mut out = Vec::new();
        for name in class_names {
            let prompts: Vec<String> =
                templates.iter().map(|t| t.replace("{class}", name)).collect();
            let e = self.embed_texts(&prompts)?;
            let dim = e.len() / prompts.len().max(1);
            let mut mean = vec![0f32; dim];
            for row in e.chunks_exact(dim) {
                mean.iter_mut().zip(row).for_each(|(m, v)| *m += v);
            }
            let norm = mean.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
            out.extend(mean.iter().map(|v| v / norm));
        }
        Ok(out)
    }

    /// Image embeddings (projected, not normalised) of every sample of `ds`.
    pub fn embed_images(
        &self,
        ds: &dyn Dataset,
        transform: &EvalTransform,
        batch: usize,
        limits: &ImageLimits,
        progress: &dyn Progress,
    ) -> Result<ExtractedFeatures> {
        let forward = |x: Tensor<4>| self.model.encode_images(x);
        extract_with(&forward, ds, transform, batch, &self.device, limits, progress)
    }
}

fn to_vec(t: Tensor<2>) -> Result<Vec<f32>> {
    let data = t.into_data().convert::<f32>();
    data.try_to_vec::<f32>().map_err(|e| Error::TensorData { what: format!("{e:?}") })
}
