use corruptencoder_eval::{KnnClassifier, KnnConfig, top1_accuracy};

use crate::clusters::split;

#[test]
fn knn_classifies_clusters() {
    let ((train, y), (test, test_y)) = split(11, 8, 80, 32, 10.0);
    let knn = KnnClassifier::new(KnnConfig::default(), &train, &y, 8).unwrap();
    let predictions = knn.predict(&test).unwrap();
    let acc = top1_accuracy(&predictions, &test_y).unwrap();
    assert!(acc.top1 >= 0.95, "{acc:?}");
    // Deterministic: a second run gives identical scores.
    assert_eq!(knn.scores(&test).unwrap(), knn.scores(&test).unwrap());
}

#[test]
fn knn_with_k_larger_than_bank_uses_everything() {
    let ((train, y), (test, test_y)) = split(12, 3, 5, 8, 10.0);
    let knn = KnnClassifier::new(KnnConfig { k: 1000, temperature: 0.1 }, &train, &y, 3).unwrap();
    let acc = top1_accuracy(&knn.predict(&test).unwrap(), &test_y).unwrap();
    assert!(acc.top1 >= 0.9, "{acc:?}");
}
