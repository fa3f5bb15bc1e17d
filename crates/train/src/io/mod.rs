//! Tensors to and from files: checkpoints, module tensors as safetensors, the
//! torchvision-named encoder export and the import of foreign encoders.
pub(crate) mod checkpoint;
pub(crate) mod import;
pub(crate) mod tensors;
pub(crate) mod weights;
