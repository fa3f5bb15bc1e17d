//! How well a poison detector separates poisons from clean images, measured against the
//! known poison list: AUROC over the scores, and precision and recall of the images it
//! flags (the highest-scored ones).
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A detector's result on one set whose poisons are known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectionQuality {
    /// Images scored.
    pub images: usize,
    /// Poisons among them.
    pub poisons: usize,
    /// Images flagged (the highest-scored).
    pub flagged: usize,
    /// Poisons among the flagged images.
    pub flagged_poisons: usize,
    /// Share of the flagged images that are poisons; `None` when nothing is flagged.
    pub precision: Option<f64>,
    /// Share of the poisons that are flagged; `None` when the set holds no poison.
    pub recall: Option<f64>,
    /// Probability that a random poison scores above a random clean image (ties count
    /// half); `None` when the set holds no poison or no clean image.
    pub auroc: Option<f64>,
}

/// The area under the ROC curve of `scores` (higher: more likely a poison) against
/// `poison`, by the rank-sum (Mann-Whitney U) identity with tied scores given their mean
/// rank. `None` when either class is empty.
pub fn auroc(scores: &[f64], poison: &[bool]) -> Result<Option<f64>> {
    check(scores, poison)?;
    let positives = poison.iter().filter(|&&p| p).count();
    let negatives = poison.len() - positives;
    if positives == 0 || negatives == 0 {
        return Ok(None);
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        // Ranks start + 1 ..= end share their mean.
        let mean_rank = (start + 1 + end) as f64 / 2.0;
        rank_sum += mean_rank * order[start..end].iter().filter(|&&i| poison[i]).count() as f64;
        start = end;
    }
    let p = positives as f64;
    let u = rank_sum - p * (p + 1.0) / 2.0;
    Ok(Some(u / (p * negatives as f64)))
}

/// Marks the `count` highest-scored images; equal scores are taken in index order, so the
/// choice is the same on every machine.
pub fn flag_highest(scores: &[f64], count: usize) -> Vec<bool> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let mut flagged = vec![false; scores.len()];
    for &i in order.iter().take(count) {
        flagged[i] = true;
    }
    flagged
}

/// AUROC, precision and recall of a detector whose `scores` flagged `flagged`.
pub fn detection_quality(
    scores: &[f64],
    poison: &[bool],
    flagged: &[bool],
) -> Result<DetectionQuality> {
    check(scores, poison)?;
    if flagged.len() != scores.len() {
        return Err(Error::Length {
            what: "flags (one per score)",
            expected: scores.len(),
            actual: flagged.len(),
        });
    }
    let poisons = poison.iter().filter(|&&p| p).count();
    let n_flagged = flagged.iter().filter(|&&f| f).count();
    let hits = poison.iter().zip(flagged).filter(|&(&p, &f)| p && f).count();
    let share = |num: usize, den: usize| (den > 0).then(|| num as f64 / den as f64);
    Ok(DetectionQuality {
        images: scores.len(),
        poisons,
        flagged: n_flagged,
        flagged_poisons: hits,
        precision: share(hits, n_flagged),
        recall: share(hits, poisons),
        auroc: auroc(scores, poison)?,
    })
}

fn check(scores: &[f64], poison: &[bool]) -> Result<()> {
    if poison.len() != scores.len() {
        return Err(Error::Length {
            what: "poison marks (one per score)",
            expected: scores.len(),
            actual: poison.len(),
        });
    }
    if let Some(row) = scores.iter().position(|s| s.is_nan()) {
        return Err(Error::NonFinite { row });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AUROC by its definition: the share of (poison, clean) pairs ordered correctly.
    fn auroc_by_pairs(scores: &[f64], poison: &[bool]) -> f64 {
        let (mut good, mut pairs) = (0.0, 0.0);
        for (i, &pi) in poison.iter().enumerate() {
            for (j, &pj) in poison.iter().enumerate() {
                if pi && !pj {
                    pairs += 1.0;
                    good += match scores[i].total_cmp(&scores[j]) {
                        std::cmp::Ordering::Greater => 1.0,
                        std::cmp::Ordering::Equal => 0.5,
                        std::cmp::Ordering::Less => 0.0,
                    };
                }
            }
        }
        good / pairs
    }

    #[test]
    fn auroc_matches_the_pair_count_with_ties() {
        use corruptencoder_core::{item_rng, uniform, uniform_int};
        for case in 0..50 {
            let mut rng = item_rng(5, 0, case);
            let n = uniform_int(&mut rng, 2, 40) as usize;
            // Few distinct values, so ties are common.
            let scores: Vec<f64> = (0..n).map(|_| uniform_int(&mut rng, 0, 4) as f64).collect();
            let mut poison: Vec<bool> = (0..n).map(|_| uniform(&mut rng, 0.0, 1.0) < 0.3).collect();
            poison[0] = true;
            poison[1] = false;
            let got = auroc(&scores, &poison).unwrap().unwrap();
            assert!((got - auroc_by_pairs(&scores, &poison)).abs() < 1e-12);
        }
    }

    #[test]
    fn perfect_reversed_and_one_class_sets() {
        let poison = [false, false, true, true];
        assert_eq!(auroc(&[0.1, 0.2, 0.8, 0.9], &poison).unwrap(), Some(1.0));
        assert_eq!(auroc(&[0.9, 0.8, 0.2, 0.1], &poison).unwrap(), Some(0.0));
        assert_eq!(auroc(&[1.0; 4], &poison).unwrap(), Some(0.5));
        assert_eq!(auroc(&[0.1, 0.2], &[false, false]).unwrap(), None);
        assert!(auroc(&[f64::NAN, 0.2], &[true, false]).is_err());
        assert!(auroc(&[0.1], &[true, false]).is_err());
    }

    #[test]
    fn flags_take_the_highest_scores_and_ties_in_index_order() {
        let scores = [0.5, 2.0, 0.5, 3.0, 0.5];
        assert_eq!(flag_highest(&scores, 3), [true, true, false, true, false]);
        assert_eq!(flag_highest(&scores, 0), [false; 5]);
        assert_eq!(flag_highest(&scores, 9), [true; 5]);
    }

    #[test]
    fn precision_and_recall_count_flagged_poisons() {
        let scores = [0.9, 0.8, 0.7, 0.1];
        let poison = [true, false, true, true];
        let flagged = flag_highest(&scores, 2);
        let q = detection_quality(&scores, &poison, &flagged).unwrap();
        assert_eq!((q.images, q.poisons, q.flagged, q.flagged_poisons), (4, 3, 2, 1));
        assert_eq!(q.precision, Some(0.5));
        assert_eq!(q.recall, Some(1.0 / 3.0));
        // Of the poisons 0, 2 and 3, only 0 outscores the one clean image.
        assert_eq!(q.auroc, Some(1.0 / 3.0));
        let none = detection_quality(&scores, &poison, &[false; 4]).unwrap();
        assert_eq!(none.precision, None);
    }
}
