//! Image-text pre-training (a small CLIP): the model, its side of the training loop, its
//! files and zero-shot embeddings. It reads captions and steps with AdamW; the loop,
//! checkpoints, step log and output folder are the contrastive methods'. CleanCLIP
//! fine-tunes a trained model through the same loop (`cleanclip/`).
mod cleanclip;
mod files;
mod learner;
mod model;
mod zero_shot;

pub use cleanclip::{CLEANCLIP_FILE, CleanClipConfig, PAIRS_FILE, finetune_cleanclip};
pub use files::{CLIP_FILE, TOKENIZER_FILE};
pub(crate) use learner::train_image_text;
pub use model::{Clip, ClipConfig, TextTower};
pub use zero_shot::{ClipEncoders, ZERO_SHOT_TEMPLATES};
