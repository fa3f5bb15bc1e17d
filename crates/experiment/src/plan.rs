//! The runs an experiment makes, in order, and where each one's files go.
use std::path::{Path, PathBuf};

use corruptencoder_poison::AttackConfig;
use corruptencoder_report::{RANDOM_ENCODER, SweepPoint};

use crate::config::{ArmConfig, AttackSettings, ExperimentConfig};
use crate::error::{Error, Invalid, Result};

/// One planned run: an arm at one sweep value and seed.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) arm: ArmConfig,
    /// The arm's attack at this sweep value (`None`: the clean arm).
    pub(crate) attack: Option<AttackConfig>,
    pub(crate) sweep: Option<SweepPoint>,
    pub(crate) shared: AttackSettings,
    pub(crate) seed: u64,
    pub(crate) dir: PathBuf,
    /// The random-encoder baseline of this seed: no poisons, no training.
    pub(crate) baseline: bool,
}

impl Plan {
    pub(crate) fn label(&self) -> String {
        let mut s = self.arm.name.clone();
        if let Some(p) = &self.sweep {
            s += &format!(" ({p})");
        }
        s + &format!(" seed {}", self.seed)
    }
}

/// Every run in order, seed by seed: a seed's random-encoder baseline (it depends on
/// neither poisons nor sweep), then its arms and sweep values. Seed-major order means an
/// experiment stopped part way holds whole seeds, each with every arm, so its paired
/// comparisons are usable before the last seed is run. Clean arms ignore the sweep.
pub(crate) fn plan(config: &ExperimentConfig, out: &Path) -> Result<Vec<Plan>> {
    let mut points = Vec::new();
    for arm in &config.arms {
        match &arm.attack {
            None => points.push((arm, None, config.attack.clone(), None)),
            Some(attack) => {
                let swept = config.sweep_points(attack).map_err(|e| Error::Invalid {
                    path: out.join("experiment.toml"),
                    source: Invalid::in_arm(&arm.name)(e),
                })?;
                for (value, shared, attack) in swept {
                    let sweep = value
                        .zip(config.sweep.as_ref())
                        .map(|(value, s)| SweepPoint { parameter: s.parameter.clone(), value });
                    points.push((arm, sweep, shared, Some(attack)));
                }
            }
        }
    }
    let mut plans = Vec::new();
    for &seed in &config.seeds {
        plans.push(Plan {
            arm: ArmConfig { name: RANDOM_ENCODER.into(), attack: None, defense: None },
            attack: None,
            sweep: None,
            shared: config.attack.clone(),
            seed,
            dir: run_dir(out, RANDOM_ENCODER, None, seed),
            baseline: true,
        });
        for (arm, sweep, shared, attack) in &points {
            plans.push(Plan {
                arm: (*arm).clone(),
                attack: attack.clone(),
                sweep: sweep.clone(),
                shared: shared.clone(),
                seed,
                dir: run_dir(out, &arm.name, sweep.as_ref(), seed),
                baseline: false,
            });
        }
    }
    Ok(plans)
}

/// `runs/<arm>[/<parameter>-<value>]/seed-<seed>` under `out`: the one place a run's folder
/// is named (the report finds poison previews through it).
pub(crate) fn run_dir(out: &Path, arm: &str, sweep: Option<&SweepPoint>, seed: u64) -> PathBuf {
    let mut dir = out.join("runs").join(arm);
    if let Some(s) = sweep {
        dir = dir.join(format!("{}-{}", s.parameter, s.value));
    }
    dir.join(format!("seed-{seed}"))
}
