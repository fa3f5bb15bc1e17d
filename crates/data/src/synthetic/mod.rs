//! An embedded, procedurally generated labelled image set for the CPU demo.
//!
//! Class identity is carried by local texture (pattern family, orientation, period and
//! palette), objects are masked shapes on varied procedural backgrounds, and everything is
//! a pure function of (seed, stream, index).
mod scene;
mod set;
mod shape;
mod texture;
mod write;

pub use set::{LabelledImages, SyntheticConfig, SyntheticSample, SyntheticSet, SyntheticSplit};
pub use write::{SYNTHETIC_LIST, WrittenSplit, write_references};
