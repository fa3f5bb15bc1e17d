//! Tensors and records to and from files: checkpoints, module tensors as safetensors, the
//! torchvision-named encoder export, PyTorch export, TensorBoard event files and the import
//! of foreign encoders.
pub(crate) mod checkpoint;
pub(crate) mod export;
pub(crate) mod import;
pub(crate) mod tensorboard;
pub(crate) mod tensors;
pub(crate) mod weights;
