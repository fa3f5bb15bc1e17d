//! Image-text pre-training (a small CLIP): the model, its training loop and zero-shot
//! embeddings. Unlike the image-only methods it reads captions and steps with AdamW, so it
//! has its own loop beside `pretrain.rs`'s, sharing the checkpoints, log and output folder.
mod model;
mod train;
mod zero_shot;

pub use model::{Clip, ClipConfig, TextTower};
pub(crate) use train::train_clip;
pub use train::{CLIP_FILE, TOKENIZER_FILE};
pub use zero_shot::{ClipEncoders, ZERO_SHOT_TEMPLATES};
