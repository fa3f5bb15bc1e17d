//! `experiment FILE --plan`: the runs, checked as a run checks them, with the shard that
//! runs each (`--shards N`, or only shard K's with `--shard K/N`) and each run's
//! pre-training time estimated from steps measured on this machine. Creates nothing.
use std::num::NonZeroUsize;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use corruptencoder_experiment::{
    Estimates, ExperimentConfig, PlannedRun, PretrainEstimate, Shard, assign_shards,
    estimate_pretraining, plan_runs,
};

use crate::commands::pretrain::device;

/// Which runs the plan lists.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Listing {
    /// Every run, in plan order.
    All,
    /// Every run, shard by shard.
    Shards(NonZeroUsize),
    /// One shard's runs.
    Shard(Shard),
}

#[expect(clippy::print_stdout, reason = "the plan is the command's output")]
pub(crate) fn print_plan(
    config: &ExperimentConfig,
    out: &Path,
    listing: Listing,
    device_name: &str,
) -> anyhow::Result<ExitCode> {
    let context = || format!("planning experiment into {}", out.display());
    let runs = plan_runs(config, out).with_context(context)?;
    let device = device(device_name)?;
    let estimates = estimate_pretraining(config, out, &device).with_context(context)?;
    let arms: Vec<&str> = runs.iter().map(|r| r.arm.as_str()).collect();
    let owner = match listing {
        Listing::All => None,
        Listing::Shards(n) => Some(assign_shards(&arms, n)),
        Listing::Shard(s) => Some(assign_shards(&arms, s.count())),
    };
    let mut order: Vec<usize> = (0..runs.len()).collect();
    if let Some(owner) = &owner {
        order.sort_by_key(|&k| (owner[k], k));
    }
    if let Listing::Shard(s) = listing {
        order.retain(|&k| owner.as_ref().is_some_and(|o| o[k] == s.index()));
    }
    let shard_column = if owner.is_some() { " shard |" } else { "" };
    println!("| # | arm | sweep | seed | finished | folder |{shard_column} pre-training |");
    println!("|---|---|---|---|---|---|{}---|", if owner.is_some() { "---|" } else { "" });
    for &k in &order {
        let shard = owner.as_ref().map_or(String::new(), |o| format!(" {} |", o[k]));
        let time = cell(&estimates.runs[k]);
        println!("{}{shard} {time} |", row(k, &runs[k]));
    }
    println!();
    let left = |ks: &[usize]| ks.iter().filter(|&&k| !runs[k].finished).count();
    match (listing, &owner) {
        (Listing::Shard(s), _) => println!(
            "shard {s}: {} of the {} runs, {} to run, into {}",
            order.len(),
            runs.len(),
            left(&order),
            out.display()
        ),
        _ => println!("{} runs, {} to run, into {}", runs.len(), left(&order), out.display()),
    }
    if let (Listing::Shards(n), Some(owner)) = (listing, &owner) {
        for s in 0..n.get() {
            let mine: Vec<usize> = order.iter().copied().filter(|&k| owner[k] == s).collect();
            let time = total(&estimates, mine.iter().copied().filter(|&k| !runs[k].finished));
            println!("shard {s}/{n}: {}, {} to run, {time}", runs_n(mine.len()), left(&mine));
        }
    } else {
        let time = total(&estimates, order.iter().copied().filter(|&k| !runs[k].finished));
        println!("{time}");
    }
    println!("{}", method_note(&estimates, &device));
    Ok(ExitCode::SUCCESS)
}

/// The plan's columns of run `k`, as far as the folder.
fn row(k: usize, r: &PlannedRun) -> String {
    let sweep = r.sweep.as_ref().map_or("-".to_owned(), ToString::to_string);
    let done = if r.finished { "yes" } else { "no" };
    format!("| {} | {} | {sweep} | {} | {done} | {} |", k + 1, r.arm, r.seed, r.dir.display())
}

/// A run's estimated pre-training.
fn cell(e: &PretrainEstimate) -> String {
    match e.seconds {
        _ if e.steps == 0 => "none".into(),
        Some(s) => format!("~{} ({} steps)", duration(s), e.steps),
        None => format!("not timed ({} steps)", e.steps),
    }
}

/// The estimated pre-training of the runs `ks` still to run.
fn total(estimates: &Estimates, ks: impl Iterator<Item = usize>) -> String {
    let (mut seconds, mut untimed) = (0.0, 0);
    for k in ks {
        match estimates.runs[k].seconds {
            Some(s) => seconds += s,
            None => untimed += 1,
        }
    }
    let untimed =
        if untimed > 0 { format!(" and {} not timed", runs_n(untimed)) } else { String::new() };
    format!("~{} of pre-training to run{untimed}", duration(seconds))
}

/// How the times were made, so that nobody reads them as measurements of the runs.
fn method_note(estimates: &Estimates, device: &impl std::fmt::Debug) -> String {
    let batches: Vec<String> = estimates
        .batches
        .iter()
        .map(|(timed, run)| {
            if timed == run {
                format!("batch {run}")
            } else {
                format!("batch {timed} scaled to {run}")
            }
        })
        .collect();
    let batches = if batches.is_empty() { "none timed".to_owned() } else { batches.join(", ") };
    format!(
        "Times are estimates from {} pre-training steps measured on this machine ({device:?}; \
         {batches}) times each run's steps; poisons, image loading, features and the probe are \
         left out, and image-text pre-training is not timed.",
        estimates.measured_steps
    )
}

/// `1 run`, `2 runs`.
pub(crate) fn runs_n(n: usize) -> String {
    if n == 1 { "1 run".into() } else { format!("{n} runs") }
}

/// `0.4 s`, `12 s`, `3.5 min`, `2.1 h`, `1.5 d`.
fn duration(seconds: f64) -> String {
    match seconds {
        s if s < 10.0 => format!("{s:.1} s"),
        s if s < 120.0 => format!("{s:.0} s"),
        s if s < 7200.0 => format!("{:.1} min", s / 60.0),
        s if s < 172_800.0 => format!("{:.1} h", s / 3600.0),
        s => format!("{:.1} d", s / 86_400.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_the_unit_that_suits_them() {
        assert_eq!(duration(0.04), "0.0 s");
        assert_eq!(duration(12.4), "12 s");
        assert_eq!(duration(210.0), "3.5 min");
        assert_eq!(duration(7560.0), "2.1 h");
        assert_eq!(duration(3.0 * 86_400.0), "3.0 d");
        let e = PretrainEstimate { steps: 30, seconds: Some(75.0) };
        assert_eq!(cell(&e), "~75 s (30 steps)");
        assert_eq!(cell(&PretrainEstimate { steps: 0, seconds: Some(0.0) }), "none");
        assert_eq!(cell(&PretrainEstimate { steps: 9, seconds: None }), "not timed (9 steps)");
    }
}
