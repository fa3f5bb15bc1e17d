//! One-command experiments: arms (clean, each attack, each defense) sharing one
//! pre-training set and one downstream task; per arm poison → pre-train → features →
//! probe → CA/BA/ASR (image-text arms add zero-shot CA/BA and both ASRs); several seeds; a
//! sweep over one parameter; resume; and the report.
//!
//! The output folder holds `experiment.toml`, `data/` (synthetic data), `testset*/`,
//! `runs/<arm>[/<parameter>-<value>]/seed-<s>/{poisons,pretrain,features.safetensors,
//! result.json}`, `figures/`, `results.json`, `report.md` and `report.html`; [`rescore`]
//! adds `rescore/`, `runs/.../rescore/`, `rescore.json` and `rescore.md`.
#![deny(missing_docs)]

mod clip;
mod config;
mod context;
mod decree;
mod detection;
mod dry_run;
mod error;
mod identity;
mod inputs;
mod options;
mod plan;
mod presets;
mod report;
mod rescore;
mod rescore_sets;
mod runner;
mod stages;
mod sweep;
mod validate;

pub use config::{
    ArmConfig, AttackSettings, DataConfig, EvalSettings, ExperimentConfig, FileData, SweepConfig,
    SweepValue, SyntheticData, TestsetSettings,
};
pub use dry_run::{PlannedRun, plan_runs};
pub use error::{Error, Invalid, Result};
pub use options::{Observer, RunOptions};
pub use rescore::{RescoreOptions, rescore};
pub use runner::run_experiment;
