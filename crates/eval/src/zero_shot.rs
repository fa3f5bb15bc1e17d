//! Zero-shot classification of image-text encoders (CLIP): each image goes to the class
//! whose prompt embedding is nearest in cosine, with no downstream training; clean accuracy
//! (CA/BA) and the ASR counted both ways the authors do.
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::features::Features;
use crate::metrics::{
    Accuracy, AttackSuccess, ClassificationReport, attack_success_rate, top1_accuracy,
};

/// The class of each image row: argmax over classes of the cosine between the image
/// embedding and the class embedding (`classes` has one row per class). Ties go to the
/// lower class index.
pub fn zero_shot_predict(images: &Features, classes: &Features) -> Result<Vec<usize>> {
    if images.dim() != classes.dim() {
        return Err(Error::Length {
            what: "class embedding width (the image embedding's)",
            expected: images.dim(),
            actual: classes.dim(),
        });
    }
    if classes.rows() == 0 {
        return Err(Error::Empty { what: "class embeddings" });
    }
    let (images, classes) = (images.l2_normalized(), classes.l2_normalized());
    Ok(images
        .iter_rows()
        .map(|x| {
            let mut best = (0, f32::NEG_INFINITY);
            for (c, w) in classes.iter_rows().enumerate() {
                let s: f32 = x.iter().zip(w).map(|(a, b)| a * b).sum();
                if s > best.1 {
                    best = (c, s);
                }
            }
            best.0
        })
        .collect())
}

/// Zero-shot scores of one image-text encoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZeroShotResult {
    /// Clean test set: CA for a clean encoder, BA for a backdoored one.
    pub clean: ClassificationReport,
    /// ASR over every triggered image, target class included: the authors' CLIP script's
    /// count (`asr_all` in reports).
    pub asr_all: Accuracy,
    /// ASR with target-class images left out: the image-only script's count (method.md section 2;
    /// `asr_non_target` in reports).
    pub asr_non_target: AttackSuccess,
}

/// Scores zero-shot predictions: `clean` on the clean test set against `labels`,
/// `triggered` on its triggered twin against `triggered_labels` (their true classes).
pub fn zero_shot_scores(
    (clean, labels): (&[usize], &[usize]),
    (triggered, triggered_labels): (&[usize], &[usize]),
    classes: usize,
    target: usize,
) -> Result<ZeroShotResult> {
    let hits: Vec<usize> = triggered.iter().map(|&p| usize::from(p == target)).collect();
    let ones = vec![1; hits.len()];
    Ok(ZeroShotResult {
        clean: ClassificationReport::new(clean, labels, classes)?,
        asr_all: top1_accuracy(&hits, &ones)?,
        asr_non_target: attack_success_rate(triggered, triggered_labels, target)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_prompt_in_cosine_wins() {
        let classes = Features::from_rows(&[[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]).unwrap();
        // Scale does not matter (cosine); the third row is nearest class 2.
        let images = Features::from_rows(&[[5.0, 1.0], [0.1, 0.3], [-2.0, 0.5]]).unwrap();
        assert_eq!(zero_shot_predict(&images, &classes).unwrap(), vec![0, 1, 2]);
        let narrow = Features::from_rows(&[[1.0]]).unwrap();
        assert!(zero_shot_predict(&images, &narrow).is_err());
    }

    #[test]
    fn asr_both_ways_differ_by_the_target_images() {
        // Target 1; triggered labels: two target-class images (both predicted 1), four others
        // of which two are predicted 1.
        let labels = [1, 1, 0, 0, 2, 2];
        let preds = [1, 1, 1, 0, 1, 2];
        let r = zero_shot_scores((&[0, 1], &[0, 0]), (&preds, &labels), 3, 1).unwrap();
        assert_eq!((r.asr_all.correct, r.asr_all.total), (4, 6));
        assert_eq!((r.asr_non_target.hits, r.asr_non_target.eligible), (2, 4));
        assert!((r.clean.accuracy.percent() - 50.0).abs() < 1e-9);
    }
}
