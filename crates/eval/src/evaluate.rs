//! One call from cached features to CA/BA and ASR.
use crate::error::Result;
use crate::features::{Features, check_labels};
use crate::metrics::{ClassificationReport, DownstreamResult, attack_success_rate};

/// A trained downstream classifier over cached features.
pub trait Classifier: Send + Sync {
    /// Number of classes.
    fn classes(&self) -> usize;
    /// The predicted class of every row.
    fn predict(&self, features: &Features) -> Result<Vec<usize>>;
}

/// Features of a labelled test set.
#[derive(Debug, Clone, Copy)]
pub struct LabelledFeatures<'a> {
    /// One row per image.
    pub features: &'a Features,
    /// True class of each row.
    pub labels: &'a [usize],
}

/// The triggered test set and the class the attack aims at.
#[derive(Debug, Clone, Copy)]
pub struct TriggeredSet<'a> {
    /// Features of the triggered test images with their true classes.
    pub set: LabelledFeatures<'a>,
    /// The target class.
    pub target: usize,
}

/// Scores `classifier` on the clean test set (CA or BA) and, if given, the triggered set
/// (ASR, method.md section 2).
pub fn evaluate(
    classifier: &dyn Classifier,
    clean: LabelledFeatures<'_>,
    triggered: Option<TriggeredSet<'_>>,
) -> Result<DownstreamResult> {
    let classes = classifier.classes();
    check_labels("clean test labels", clean.labels, clean.features.rows(), classes)?;
    let predictions = classifier.predict(clean.features)?;
    let clean = ClassificationReport::new(&predictions, clean.labels, classes)?;
    let attack = match triggered {
        Some(t) => {
            let labels = t.set.labels;
            check_labels("triggered test labels", labels, t.set.features.rows(), classes)?;
            let predictions = classifier.predict(t.set.features)?;
            Some(attack_success_rate(&predictions, labels, t.target)?)
        }
        None => None,
    };
    Ok(DownstreamResult { clean, attack })
}
