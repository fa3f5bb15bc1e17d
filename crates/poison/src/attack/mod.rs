//! Attacks, one file each, behind the [`Attack`] trait.
mod base;
mod clip_carlini;
mod clip_corrupt_encoder;
mod config;
mod corrupt_encoder;
mod corrupt_encoder_config;
mod ctrl;
mod inputs;
mod poisoned_encoder;
mod prepared_reference;
mod ssl_backdoor;

pub use base::{Attack, Layout, PoisonItem, PoisonKind};
pub use clip_carlini::{ClipCarlini, ClipCarliniConfig};
pub use clip_corrupt_encoder::{ClipCorruptEncoder, ClipCorruptEncoderConfig, reference_objects};
pub use config::{AttackConfig, BuiltAttack, make_poisons};
pub use corrupt_encoder::{
    AreaRatio, CorruptEncoder, CorruptEncoderConfig, Layouts, TriggerPlacement, resized_object_size,
};
pub use ctrl::{Ctrl, CtrlConfig};
pub use inputs::{AttackInputs, AttackSources, Input};
pub use poisoned_encoder::{PoisonedEncoder, PoisonedEncoderConfig};
pub use ssl_backdoor::{SslBackdoor, SslBackdoorConfig};
