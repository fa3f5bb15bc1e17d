//! The image-text model: an image tower (one of our encoders and a linear projection), a
//! small text transformer, and CLIP's learnable temperature.
use burn::module::Param;
use burn::nn::attention::generate_autoregressive_mask;
use burn::nn::transformer::{
    TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput,
};
use burn::nn::{Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use corruptencoder_core::{Rng, SettingError};
use corruptencoder_data::Encoded;
use serde::{Deserialize, Serialize};

use crate::encoder::{Encoder, EncoderConfig};
use crate::loss::clip_loss;

/// Image-text (CLIP) settings; the image encoder is the run's `[encoder]`. Defaults are a
/// small CPU-scale model (CLIP's own text tower is 12 layers of width 512); the optimiser
/// is AdamW with the run's `[optim]` learning rate, weight decay and warm-up.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClipConfig {
    /// Width of the joint embedding both towers project to (CLIP RN50: 1024).
    pub embed_dim: usize,
    /// Width of the text transformer.
    pub text_width: usize,
    /// Pre-norm transformer layers.
    pub text_layers: usize,
    /// Attention heads (must divide `text_width`).
    pub text_heads: usize,
    /// Tokens per caption, start and end included (CLIP: 77).
    pub context: usize,
    /// Most words in the vocabulary built from the training captions.
    pub max_words: usize,
    /// Words seen fewer times than this are `<unk>`.
    pub min_word_count: usize,
    /// Initial temperature (CLIP: 0.07, i.e. logit scale ln(1/0.07)).
    pub init_temperature: f64,
    /// Largest logit scale `exp(s)` (CLIP clamps at 100).
    pub max_logit_scale: f64,
    /// AdamW's moments.
    pub adam: crate::optim::AdamConfig,
}

impl Default for ClipConfig {
    fn default() -> Self {
        Self {
            embed_dim: 128,
            text_width: 128,
            text_layers: 3,
            text_heads: 4,
            context: 24,
            max_words: 10_000,
            min_word_count: 1,
            init_temperature: 0.07,
            max_logit_scale: 100.0,
            adam: crate::optim::AdamConfig::default(),
        }
    }
}

impl ClipConfig {
    pub(crate) fn validate(&self) -> Result<(), SettingError> {
        let widths = [
            ("embed_dim", self.embed_dim),
            ("text_width", self.text_width),
            ("text_layers", self.text_layers),
        ];
        if let Some((key, _)) = widths.iter().find(|(_, v)| *v == 0) {
            return Err(SettingError::new(*key, 0, "must be at least 1"));
        }
        if self.text_heads == 0 || !self.text_width.is_multiple_of(self.text_heads) {
            let problem = format!("must divide text_width {}", self.text_width);
            return Err(SettingError::new("text_heads", self.text_heads, problem));
        }
        if self.context < 3 {
            let problem = "must hold <sot>, a word and <eot> (at least 3)";
            return Err(SettingError::new("context", self.context, problem));
        }
        if !(self.init_temperature > 0.0 && self.max_logit_scale >= 1.0 / self.init_temperature) {
            let problem = "must be positive, with 1 / init_temperature at most max_logit_scale";
            return Err(SettingError::new("init_temperature", self.init_temperature, problem));
        }
        Ok(())
    }

    /// The report's line.
    pub(crate) fn describe(&self) -> String {
        format!(
            "CLIP (embedding {}, text transformer {} layers x {} wide, {} heads, context {}, \
             initial temperature {}, AdamW)",
            self.embed_dim,
            self.text_layers,
            self.text_width,
            self.text_heads,
            self.context,
            self.init_temperature
        )
    }

    /// Builds the model for a vocabulary of `vocab` tokens, weights drawn from `rng`.
    pub fn init(
        &self,
        encoder: &EncoderConfig,
        vocab: usize,
        device: &Device,
        rng: &mut Rng,
    ) -> Clip {
        let w = self.text_width;
        let transformer =
            TransformerEncoderConfig::new(w, 4 * w, self.text_heads, self.text_layers)
                .with_norm_first(true)
                .with_dropout(0.0);
        let model = Clip {
            image: encoder.init(device, rng),
            image_proj: LinearConfig::new(encoder.feature_dim(), self.embed_dim)
                .with_bias(false)
                .init(device),
            text: TextTower {
                token: EmbeddingConfig::new(vocab, w).init(device),
                position: Param::from_tensor(Tensor::zeros([self.context, w], device)),
                transformer: transformer.init(device),
                norm: LayerNormConfig::new(w).init(device),
                proj: LinearConfig::new(w, self.embed_dim).with_bias(false).init(device),
            },
            logit_scale: Param::from_tensor(Tensor::from_floats(
                [(1.0 / self.init_temperature).ln() as f32],
                device,
            )),
            max_logit_scale: self.max_logit_scale.ln(),
        };
        // The image encoder was drawn by `encoder.init`; the rest from the same stream.
        let Clip { image, image_proj, text, logit_scale, max_logit_scale } = model;
        Clip {
            image,
            image_proj: crate::init::init_weights(image_proj, rng),
            text: crate::init::init_weights(text, rng),
            logit_scale,
            max_logit_scale,
        }
    }
}

/// CLIP's text transformer at small scale: token and position embeddings, pre-norm layers
/// with causal attention, a final layer norm, the `<eot>` position's features, a linear
/// projection.
#[derive(Module, Debug)]
pub struct TextTower {
    token: Embedding,
    position: Param<Tensor<2>>,
    transformer: TransformerEncoder,
    norm: LayerNorm,
    proj: Linear,
}

impl TextTower {
    /// `tokens` `[B, L]` and the `<eot>` position of each row `[B]` to `[B, embed_dim]`.
    pub fn forward(&self, tokens: Tensor<2, Int>, eot: Tensor<1, Int>) -> Tensor<2> {
        let [b, l] = tokens.dims();
        let device = tokens.device();
        let position = self.position.val();
        let w = position.dims()[1];
        let x = self.token.forward(tokens) + position.slice([0..l, 0..w]).unsqueeze::<3>();
        // Causal attention, as CLIP's text encoder: a token sees only the ones before it.
        let mask = generate_autoregressive_mask(b, l, &device);
        let x = self.transformer.forward(TransformerEncoderInput::new(x).mask_attn(mask));
        let x = self.norm.forward(x);
        let rows = Tensor::<1, Int>::arange(0..b as i64, &device) * l as i64 + eot;
        self.proj.forward(x.reshape([b * l, w]).select(0, rows))
    }
}

/// The image-text model trained by method `clip`.
#[derive(Module, Debug)]
pub struct Clip {
    image: Encoder,
    image_proj: Linear,
    text: TextTower,
    /// Log of the inverse temperature, learned.
    logit_scale: Param<Tensor<1>>,
    #[module(skip)]
    max_logit_scale: f64,
}

impl Clip {
    /// `[B, 3, H, W]` images to `[B, embed_dim]` (not normalised).
    pub fn encode_images(&self, images: Tensor<4>) -> Tensor<2> {
        self.image_proj.forward(self.image.forward(images))
    }

    /// Token ids `[B, L]` and `<eot>` positions `[B]` to `[B, embed_dim]` (not normalised).
    pub fn encode_texts(&self, tokens: Tensor<2, Int>, eot: Tensor<1, Int>) -> Tensor<2> {
        self.text.forward(tokens, eot)
    }

    /// The batch's symmetric InfoNCE loss; pair `i` is image `i` with caption `i`.
    pub fn forward(
        &self,
        images: Tensor<4>,
        tokens: Tensor<2, Int>,
        eot: Tensor<1, Int>,
    ) -> Tensor<1> {
        clip_loss(self.encode_images(images), self.encode_texts(tokens, eot), self.logit_scale())
    }

    /// The log inverse temperature the losses use: the learned value, clamped at the
    /// largest logit scale. `[1]`.
    pub fn logit_scale(&self) -> Tensor<1> {
        self.logit_scale.val().clamp_max(self.max_logit_scale)
    }

    /// The image encoder (exported as `encoder.safetensors` for the linear probe).
    pub fn encoder(&self) -> &Encoder {
        &self.image
    }

    /// The current temperature `1 / exp(logit_scale)`, clamped as in the loss.
    pub fn temperature(&self) -> f64 {
        let s = self.logit_scale.val().into_scalar::<f64>().min(self.max_logit_scale);
        (-s).exp()
    }
}

/// Token ids `[n, context]` and `<eot>` positions `[n]` of captions `rows`.
pub(crate) fn token_tensors(
    encoded: &[Encoded],
    rows: &[usize],
    context: usize,
    device: &Device,
) -> (Tensor<2, Int>, Tensor<1, Int>) {
    let ids: Vec<i64> =
        rows.iter().flat_map(|&r| encoded[r].ids.iter().map(|&t| i64::from(t))).collect();
    let eot: Vec<i64> = rows.iter().map(|&r| encoded[r].eot as i64).collect();
    (
        Tensor::from_data(TensorData::new(ids, [rows.len(), context]), device),
        Tensor::from_data(TensorData::new(eot, [rows.len()]), device),
    )
}
