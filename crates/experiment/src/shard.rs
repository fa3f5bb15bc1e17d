//! Shards: a fixed, balanced share of an experiment's runs, so that the N tasks of a job
//! array (`sbatch --array=0-(N-1)`, task K running `--shard K/N`) together run each run
//! exactly once into one output folder.
//!
//! Runs are dealt like cards: grouped by arm (arms in the order they first appear in the
//! plan, each arm's runs in plan order), the j-th run of that sequence goes to shard
//! `j mod N`. Every shard thus holds `floor(R/N)` or `ceil(R/N)` of the `R` runs, and every
//! arm's runs (its seeds and sweep values) are spread as evenly over the shards, so that
//! no shard gets only the cheap random-encoder baselines or only one expensive arm. Each
//! shard runs its runs in plan order. The dealing depends on the plan alone, so every
//! shard computes the same one.
use std::fmt;
use std::num::NonZeroUsize;
use std::str::FromStr;

use corruptencoder_core::SettingError;

/// The configuration key (and flag) that names a shard.
const KEY: &str = "shard";

/// Shard `index` of `count` (written `K/N`, K in `0..N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: usize,
    count: NonZeroUsize,
}

impl Shard {
    /// The whole experiment: one shard holding every run.
    pub const WHOLE: Self = Self { index: 0, count: NonZeroUsize::MIN };

    /// Shard `index` of `count`; `index` must be below `count`.
    pub fn new(index: usize, count: usize) -> Result<Self, SettingError> {
        let value = format!("{index}/{count}");
        let Some(count) = NonZeroUsize::new(count) else {
            return Err(SettingError::new(
                KEY,
                value,
                "N, the number of shards, must be at least 1",
            ));
        };
        if index >= count.get() {
            let problem = format!(
                "K must be below N: the {count} shards are numbered 0 to {} (as `sbatch \
                 --array=0-{}` numbers its tasks)",
                count.get() - 1,
                count.get() - 1
            );
            return Err(SettingError::new(KEY, value, problem));
        }
        Ok(Self { index, count })
    }

    /// This shard's number K, in `0..N`.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The number of shards N.
    pub fn count(&self) -> NonZeroUsize {
        self.count
    }

    /// Whether this is one shard of several (not the whole experiment).
    pub fn is_part(&self) -> bool {
        self.count.get() > 1
    }

    /// The positions, in plan order, of this shard's runs among runs of the arms `arms`
    /// (one name per run, in plan order).
    pub fn runs_of(&self, arms: &[&str]) -> Vec<usize> {
        let owner = assign_shards(arms, self.count);
        (0..arms.len()).filter(|&k| owner[k] == self.index).collect()
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = SettingError;

    /// `K/N`: two whole numbers, K in `0..N`.
    fn from_str(text: &str) -> Result<Self, SettingError> {
        let number = |s: &str| s.trim().parse::<usize>().ok();
        match text.split_once('/').map(|(k, n)| (number(k), number(n))) {
            Some((Some(k), Some(n))) => Self::new(k, n),
            _ => Err(SettingError::new(
                KEY,
                text,
                "must be K/N: this shard's number K (0 to N-1) and the number of shards N, \
                 e.g. 0/4",
            )),
        }
    }
}

/// The shard, in `0..count`, of each run whose arm is `arms[k]` (plan order), dealt as the
/// module describes: near-equal counts, each arm spread as evenly.
pub fn assign_shards(arms: &[&str], count: NonZeroUsize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..arms.len()).collect();
    // Stable: each arm's runs keep their plan order.
    order.sort_by_key(|&k| arms.iter().position(|a| *a == arms[k]));
    let mut owner = vec![0; arms.len()];
    for (j, &k) in order.iter().enumerate() {
        owner[k] = j % count.get();
    }
    owner
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn nz(n: usize) -> NonZeroUsize {
        NonZeroUsize::new(n).unwrap()
    }

    #[test]
    fn a_shard_is_written_k_slash_n_and_anything_else_is_refused_by_key() {
        assert_eq!("3/4".parse::<Shard>().unwrap(), Shard::new(3, 4).unwrap());
        assert_eq!(" 0 / 1 ".parse::<Shard>().unwrap(), Shard::WHOLE);
        assert_eq!(Shard::new(2, 5).unwrap().to_string(), "2/5");
        assert!(!Shard::WHOLE.is_part() && Shard::new(0, 2).unwrap().is_part());
        let err = |s: &str| s.parse::<Shard>().unwrap_err().to_string();
        assert!(err("0/0").starts_with("shard = 0/0: N, the number of shards, must be at least 1"));
        let e = err("3/2");
        assert!(e.starts_with("shard = 3/2: K must be below N") && e.contains("0 to 1"), "{e}");
        for bad in ["x", "3", "1/2/3", "-1/2", "a/b", ""] {
            assert!(err(bad).starts_with(&format!("shard = {bad}: must be K/N")), "{bad}");
        }
    }

    /// Four runs a seed (the baseline and three arms) over three seeds into four shards:
    /// dealt by plain `k mod 4`, shard 0 would get every baseline and nothing else.
    #[test]
    fn each_shard_gets_a_mix_of_arms() {
        let seed = ["random-encoder", "clean", "ce", "ctrl"];
        let arms: Vec<&str> = seed.iter().copied().cycle().take(12).collect();
        let owner = assign_shards(&arms, nz(4));
        for s in 0..4 {
            let mine: Vec<&str> = (0..12).filter(|&k| owner[k] == s).map(|k| arms[k]).collect();
            assert_eq!(mine.len(), 3);
            let mut distinct = mine.clone();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), 3, "shard {s} holds {mine:?}");
        }
    }

    proptest! {
        /// Every run lands in exactly one shard; counts differ by at most one; each arm's
        /// runs differ by at most one between shards too; and `runs_of` lists the same.
        #[test]
        fn shards_cover_every_run_once_with_near_equal_counts(
            arms in prop::collection::vec(0usize..5, 0..60),
            n in 1usize..9,
        ) {
            let names = ["random-encoder", "clean", "ce", "ctrl", "ssl"];
            let arms: Vec<&str> = arms.iter().map(|&a| names[a]).collect();
            let owner = assign_shards(&arms, nz(n));
            prop_assert_eq!(owner.len(), arms.len());
            let mut seen = vec![0usize; arms.len()];
            let mut counts = Vec::new();
            for k in 0..n {
                let mine = Shard::new(k, n).unwrap().runs_of(&arms);
                prop_assert!(mine.windows(2).all(|w| w[0] < w[1]), "in plan order");
                mine.iter().for_each(|&r| seen[r] += 1);
                counts.push(mine.len());
            }
            prop_assert!(seen.iter().all(|&c| c == 1), "each run once: {:?}", seen);
            let spread = |c: &[usize]| c.iter().max().unwrap() - c.iter().min().unwrap();
            prop_assert!(spread(&counts) <= 1, "{:?}", counts);
            for name in names {
                let per: Vec<usize> = (0..n)
                    .map(|s| (0..arms.len()).filter(|&k| arms[k] == name && owner[k] == s).count())
                    .collect();
                prop_assert!(spread(&per) <= 1, "{}: {:?}", name, per);
            }
        }
    }
}
