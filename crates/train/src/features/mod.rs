//! Frozen-encoder features of labelled sets, and their cache.
pub(crate) mod extract;
pub(crate) mod sets;
