//! An embedded, procedurally generated labelled image set for the CPU demo.
//!
//! Two worlds ([`SyntheticWorld`]): in `patterns`, class identity is carried by local
//! texture (pattern family, orientation, period and palette); in `objects`, by silhouette
//! and surface texture with colours shared by all classes. Objects are masked shapes on
//! varied procedural backgrounds, and everything is a pure function of (seed, stream, index).
mod captions;
mod objects;
mod scene;
mod set;
mod shape;
mod texture;
mod write;

pub use captions::SYNTHETIC_CAPTION_TEMPLATES;
pub use set::{
    LabelledImages, SyntheticConfig, SyntheticSample, SyntheticSet, SyntheticSplit, SyntheticWorld,
};
pub use write::{SYNTHETIC_CAPTIONS, SYNTHETIC_LIST, WrittenSplit, write_references};
