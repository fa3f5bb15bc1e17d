//! One-command experiments: arms (clean, each attack, each defense) sharing one
//! pre-training set and one downstream task; per arm poison → pre-train → features →
//! probe → CA/BA/ASR (image-text arms add zero-shot CA/BA and both ASRs); defenses' stages
//! around them (filtering, inspection, CleanCLIP's fine-tuning); several seeds; a
//! sweep over one parameter; resume; shards, which split the runs between processes that
//! share the output folder ([`run_shard`], [`Shard`]); and the report.
//!
//! The output folder holds `experiment.toml`, `data/` (synthetic data), `testset*/`,
//! `runs/<arm>[/<parameter>-<value>]/seed-<s>/{poisons,pretrain,features.safetensors,
//! result.json}` (and a defense's folder: `detection/`, `decree/`, `cleanclip/`),
//! `figures/`, `results.json`, `report.md` and `report.html`; [`rescore`] adds `rescore/`,
//! `runs/.../rescore/`, `rescore.json` and `rescore.md`. Beside the folder, `.<out>.lock` is
//! the lock its processes share.
#![deny(missing_docs)]

mod cleanclip;
mod clip;
mod config;
mod context;
mod decree;
mod detection;
mod dry_run;
mod error;
mod estimate;
mod finish;
mod identity;
mod inputs;
mod lock;
mod options;
mod plan;
mod presets;
mod report;
mod rescore;
mod rescore_sets;
mod run_log;
mod runner;
mod shard;
mod stages;
mod sweep;
mod validate;
mod workdir;

pub use config::{
    ArmConfig, AttackSettings, DataConfig, EvalSettings, ExperimentConfig, FileData, SweepConfig,
    SweepValue, SyntheticData, TestsetSettings,
};
pub use dry_run::{PlannedRun, plan_runs};
pub use error::{Error, Invalid, Result};
pub use estimate::{Estimates, MEASURED_STEPS, PretrainEstimate, estimate_pretraining};
pub use options::{Observer, RunOptions};
pub use rescore::{RescoreOptions, rescore};
pub use runner::{ShardOutcome, report_experiment, run_experiment, run_shard};
pub use shard::{Shard, assign_shards};
