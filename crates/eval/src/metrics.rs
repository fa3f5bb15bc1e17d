//! CA, BA and ASR (method.md section 2) and the per-class breakdowns behind them.
//!
//! CA and BA are the same number, top-1 accuracy on the clean test set; they differ only in
//! which encoder (clean or backdoored) produced the features. ASR is measured on the
//! triggered test set with target-class images left out of the denominator.
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::features::check_labels;

/// A count of correct predictions out of a total.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    /// Predictions equal to the label.
    pub correct: u64,
    /// Items counted.
    pub total: u64,
    /// `correct / total` as a fraction in `[0, 1]`; 0 when `total` is 0.
    pub top1: f64,
}

impl Accuracy {
    fn new(correct: u64, total: u64) -> Self {
        let top1 = if total == 0 { 0.0 } else { correct as f64 / total as f64 };
        Self { correct, total, top1 }
    }

    /// The accuracy in percent, as the paper's tables print it.
    pub fn percent(&self) -> f64 {
        100.0 * self.top1
    }
}

/// Top-1 accuracy of `predictions` against `labels`: CA for a clean encoder, BA for a
/// backdoored one (method.md section 2).
pub fn top1_accuracy(predictions: &[usize], labels: &[usize]) -> Result<Accuracy> {
    same_len(predictions, labels)?;
    let correct = predictions.iter().zip(labels).filter(|(p, l)| p == l).count();
    Ok(Accuracy::new(correct as u64, labels.len() as u64))
}

/// The attack success rate with the counts behind it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AttackSuccess {
    /// The target class.
    pub target: usize,
    /// Triggered images of a non-target class predicted as the target.
    pub hits: u64,
    /// Triggered images of a non-target class (the denominator).
    pub eligible: u64,
    /// Target-class images, left out of the denominator.
    pub excluded: u64,
    /// `hits / eligible` as a fraction in `[0, 1]`; 0 when nothing is eligible.
    pub asr: f64,
}

impl AttackSuccess {
    /// The ASR in percent, as the paper's tables print it.
    pub fn percent(&self) -> f64 {
        100.0 * self.asr
    }
}

/// ASR exactly as method.md section 2: #{triggered test images with true class != target and
/// prediction == target} / #{test images with true class != target}.
///
/// `predictions` are on the *triggered* test images, `labels` their true classes. The
/// authors' scripts disagree on the denominator (method.md section 8); this is the single-modal
/// one.
pub fn attack_success_rate(
    predictions: &[usize],
    labels: &[usize],
    target: usize,
) -> Result<AttackSuccess> {
    same_len(predictions, labels)?;
    let (mut hits, mut eligible) = (0u64, 0u64);
    for (&p, &l) in predictions.iter().zip(labels) {
        if l != target {
            eligible += 1;
            hits += u64::from(p == target);
        }
    }
    let excluded = labels.len() as u64 - eligible;
    let asr = if eligible == 0 { 0.0 } else { hits as f64 / eligible as f64 };
    Ok(AttackSuccess { target, hits, eligible, excluded, asr })
}

/// Counts of (true class, predicted class) pairs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    /// Number of classes.
    pub classes: usize,
    /// Row-major `classes x classes`: `counts[truth * classes + prediction]`.
    pub counts: Vec<u64>,
}

impl ConfusionMatrix {
    /// Tallies predictions against labels; both must be below `classes`.
    pub fn new(predictions: &[usize], labels: &[usize], classes: usize) -> Result<Self> {
        same_len(predictions, labels)?;
        check_labels("labels", labels, labels.len(), classes)?;
        check_labels("predictions", predictions, predictions.len(), classes)?;
        let mut counts = vec![0u64; classes * classes];
        for (&p, &l) in predictions.iter().zip(labels) {
            counts[l * classes + p] += 1;
        }
        Ok(Self { classes, counts })
    }

    /// Items of class `truth` predicted as `prediction`.
    pub fn get(&self, truth: usize, prediction: usize) -> u64 {
        self.counts[truth * self.classes + prediction]
    }

    /// Top-1 accuracy within each true class (`total` 0 for a class absent from the set).
    pub fn per_class(&self) -> Vec<Accuracy> {
        (0..self.classes)
            .map(|c| {
                let row = &self.counts[c * self.classes..(c + 1) * self.classes];
                Accuracy::new(row[c], row.iter().sum())
            })
            .collect()
    }

    /// How many items were predicted as each class: a backdoor shows as a spike at the
    /// target on triggered inputs.
    pub fn predicted_totals(&self) -> Vec<u64> {
        (0..self.classes).map(|p| (0..self.classes).map(|t| self.get(t, p)).sum()).collect()
    }
}

/// Everything measured on one labelled prediction set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    /// Overall top-1 accuracy.
    pub accuracy: Accuracy,
    /// Top-1 accuracy per true class.
    pub per_class: Vec<Accuracy>,
    /// The confusion matrix.
    pub confusion: ConfusionMatrix,
}

impl ClassificationReport {
    /// Builds the report; labels and predictions must be below `classes`.
    pub fn new(predictions: &[usize], labels: &[usize], classes: usize) -> Result<Self> {
        let confusion = ConfusionMatrix::new(predictions, labels, classes)?;
        Ok(Self {
            accuracy: top1_accuracy(predictions, labels)?,
            per_class: confusion.per_class(),
            confusion,
        })
    }
}

/// The downstream result of one encoder: accuracy on the clean test set (CA or BA) and,
/// when a triggered test set was evaluated, the ASR.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DownstreamResult {
    /// Clean test set: CA for a clean encoder, BA for a backdoored one.
    pub clean: ClassificationReport,
    /// Triggered test set, when one was evaluated.
    pub attack: Option<AttackSuccess>,
}

fn same_len(predictions: &[usize], labels: &[usize]) -> Result<()> {
    if predictions.len() != labels.len() {
        return Err(Error::Length {
            what: "predictions (one per label)",
            expected: labels.len(),
            actual: predictions.len(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top1_counts_matches() {
        let a = top1_accuracy(&[0, 1, 2, 2], &[0, 1, 1, 2]).unwrap();
        assert_eq!((a.correct, a.total), (3, 4));
        assert!((a.percent() - 75.0).abs() < 1e-12);
        assert!(top1_accuracy(&[0], &[0, 1]).is_err());
        assert_eq!(top1_accuracy(&[], &[]).unwrap().top1, 0.0);
    }

    #[test]
    fn asr_leaves_target_class_out_of_denominator() {
        // Target 2. Labels: two target-class images (both predicted 2: must not count),
        // four others of which three are predicted as the target.
        let labels = [2, 2, 0, 1, 0, 1];
        let preds = [2, 2, 2, 2, 0, 2];
        let s = attack_success_rate(&preds, &labels, 2).unwrap();
        assert_eq!((s.hits, s.eligible, s.excluded), (3, 4, 2));
        assert!((s.asr - 0.75).abs() < 1e-12);
        // Counting target-class images would give 5/6; method.md's definition gives 3/4.
        assert!((s.percent() - 75.0).abs() < 1e-9);
    }

    #[test]
    fn asr_of_only_target_images_is_zero_not_nan() {
        let s = attack_success_rate(&[1, 1], &[1, 1], 1).unwrap();
        assert_eq!((s.eligible, s.asr), (0, 0.0));
    }

    #[test]
    fn confusion_and_per_class() {
        let r = ClassificationReport::new(&[0, 1, 1, 2, 0], &[0, 1, 2, 2, 2], 4).unwrap();
        assert_eq!(r.confusion.get(2, 1), 1);
        assert_eq!(r.confusion.get(2, 0), 1);
        assert_eq!(r.confusion.get(2, 2), 1);
        assert_eq!(r.per_class[2].correct, 1);
        assert_eq!(r.per_class[2].total, 3);
        assert_eq!(r.per_class[3].total, 0);
        assert_eq!(r.confusion.predicted_totals(), vec![2, 2, 1, 0]);
        assert_eq!(r.accuracy.correct, 3);
        assert!(ClassificationReport::new(&[4], &[0], 4).is_err());
    }

    #[test]
    fn result_round_trips_through_json() {
        let r = DownstreamResult {
            clean: ClassificationReport::new(&[0, 1], &[0, 0], 2).unwrap(),
            attack: Some(attack_success_rate(&[1, 1], &[0, 1], 1).unwrap()),
        };
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<DownstreamResult>(&json).unwrap(), r);
    }
}
