//! The classifier registry ([`ClassifierConfig`]) and the scoring stage both front doors
//! call: fit the downstream classifier on train features, then CA/BA and ASR.
use corruptencoder_core::{Progress, SettingError, set_number};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::evaluate::{Classifier, LabelledFeatures, TriggeredSet, evaluate};
use crate::knn::{KnnClassifier, KnnConfig};
use crate::linear_probe::{LinearProbe, LinearProbeConfig};
use crate::metrics::DownstreamResult;

/// The downstream classifier and its settings, tagged by `kind` in TOML
/// (`[eval.classifier] kind = "linear"`). Default: the authors' linear probe (method.md
/// section 7). A new classifier is one file implementing [`Classifier`] plus one variant
/// here with its arms in the `match`es below, the only place that names each classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ClassifierConfig {
    /// The authors' linear probe (method.md section 7).
    Linear(LinearProbeConfig),
    /// The weighted kNN monitor (k 200, T 0.1).
    Knn(KnnConfig),
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        Self::Linear(LinearProbeConfig::default())
    }
}

impl ClassifierConfig {
    /// Every classifier with its default settings, in the order help texts list them.
    pub fn all() -> Vec<Self> {
        vec![Self::Linear(LinearProbeConfig::default()), Self::Knn(KnnConfig::default())]
    }

    /// The `kind` tags of every classifier.
    pub fn names() -> Vec<&'static str> {
        Self::all().iter().map(Self::name).collect()
    }

    /// The default settings of the classifier named `name` (the `kind` tag).
    pub fn named(name: &str) -> Option<Self> {
        Self::all().into_iter().find(|c| c.name() == name)
    }

    /// The settings as the report states them, in one line.
    pub fn describe(&self) -> String {
        match self {
            Self::Linear(c) => c.describe(),
            Self::Knn(c) => c.describe(),
        }
    }

    /// Sets the number `key` of the classifier's settings to `value` (a command-line flag
    /// that applies to some classifiers only); one without that setting is an error.
    pub fn set_field(&mut self, key: &str, value: f64) -> std::result::Result<(), SettingError> {
        let name = self.name();
        set_number(self, ("kind", name), key, value)
    }

    /// The `kind` tag.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Linear(_) => "linear",
            Self::Knn(_) => "knn",
        }
    }

    /// Checks the settings before any feature is extracted.
    pub fn validate(&self) -> std::result::Result<(), SettingError> {
        match self {
            Self::Linear(c) => c.validate(),
            Self::Knn(c) => c.validate(),
        }
    }

    /// Trains the classifier on `train` (`seed`: the probe's initialisation and order).
    pub fn fit(
        &self,
        train: LabelledFeatures<'_>,
        classes: usize,
        seed: u64,
        progress: &dyn Progress,
    ) -> Result<Box<dyn Classifier>> {
        Ok(match self {
            Self::Linear(c) => {
                let (probe, _) = LinearProbe::fit_with_progress(
                    c,
                    train.features,
                    train.labels,
                    classes,
                    seed,
                    progress,
                )?;
                Box::new(probe)
            }
            Self::Knn(c) => {
                Box::new(KnnClassifier::new(*c, train.features, train.labels, classes)?)
            }
        })
    }
}

/// What the scoring stage needs: labelled train and test features, the triggered set.
#[derive(Debug, Clone, Copy)]
pub struct ScoreInput<'a> {
    /// Downstream training features.
    pub train: LabelledFeatures<'a>,
    /// Clean test features (CA or BA).
    pub test: LabelledFeatures<'a>,
    /// Triggered test features and the target class (ASR).
    pub triggered: Option<TriggeredSet<'a>>,
    /// Number of classes.
    pub classes: usize,
    /// Seed of the classifier.
    pub seed: u64,
}

/// The scoring stage: fit `classifier` on the train features, score test and triggered
/// sets. The target class is checked before the classifier is trained.
pub fn score(
    classifier: &ClassifierConfig,
    input: ScoreInput<'_>,
    progress: &dyn Progress,
) -> Result<DownstreamResult> {
    if let Some(t) = &input.triggered
        && t.target >= input.classes
    {
        return Err(Error::Label {
            what: "the target class",
            label: t.target,
            classes: input.classes,
        });
    }
    let fitted = classifier.fit(input.train, input.classes, input.seed, progress)?;
    evaluate(fitted.as_ref(), input.test, input.triggered)
}

/// Dataset labels as class indices. A negative label marks a poison in a pre-training
/// list and has no place in a downstream set: an error naming the row.
pub fn class_labels(what: &'static str, raw: &[i64]) -> Result<Vec<usize>> {
    raw.iter()
        .enumerate()
        .map(|(row, &l)| {
            usize::try_from(l).map_err(|_| Error::NegativeLabel { what, row, label: l })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Features;

    #[test]
    fn both_classifiers_score_a_separable_set_and_round_trip() {
        let x = Features::from_rows(&[[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]]).unwrap();
        let y = [0, 0, 1, 1];
        let set = LabelledFeatures { features: &x, labels: &y };
        for c in [
            ClassifierConfig::Linear(LinearProbeConfig { epochs: 20, ..Default::default() }),
            ClassifierConfig::Knn(KnnConfig { k: 1, ..Default::default() }),
        ] {
            let text = toml::to_string(&c).unwrap();
            assert_eq!(toml::from_str::<ClassifierConfig>(&text).unwrap(), c);
            let input = ScoreInput {
                train: set,
                test: set,
                triggered: Some(TriggeredSet { set, target: 1 }),
                classes: 2,
                seed: 3,
            };
            let r = score(&c, input, &corruptencoder_core::NoProgress).unwrap();
            assert_eq!(r.clean.accuracy.top1, 1.0, "{}", c.name());
        }
    }

    #[test]
    fn a_bad_target_or_label_is_refused_before_training() {
        let x = Features::from_rows(&[[1.0, 0.0], [0.0, 1.0]]).unwrap();
        let set = LabelledFeatures { features: &x, labels: &[0, 1] };
        let input = ScoreInput {
            train: set,
            test: set,
            triggered: Some(TriggeredSet { set, target: 5 }),
            classes: 2,
            seed: 0,
        };
        let err = score(&ClassifierConfig::default(), input, &corruptencoder_core::NoProgress);
        assert!(err.unwrap_err().to_string().contains("target class"));
        let err = class_labels("test labels", &[0, -1]).unwrap_err().to_string();
        assert!(err.contains("row 1") && err.contains("-1"), "{err}");
    }
}
