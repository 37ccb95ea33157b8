//! The shipped calibration belongs to the shipped weights and the development set as committed:
//! retraining without recalibrating (or editing the labels) fails here, not silently in a report.

use preflight_embed::{Classifier, Shipped, classifier::FEATURES};

#[test]
fn the_shipped_calibration_is_of_these_weights_and_these_labels() {
    let c = Classifier::builtin();
    assert_eq!(c.weights.len(), FEATURES);
    let s = Shipped::builtin();
    let hash = preflight_core::sha256_hex(serde_json::to_string(&c).unwrap().as_bytes());
    assert_eq!(s.prompt_hash, hash, "weights/refusal-v3.dev.json was measured with other weights");
    assert_eq!(s.judge_model, format!("{}+{}", c.encoder, c.version));
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let labels = std::fs::read(format!("{root}/{}", s.labels)).unwrap();
    assert_eq!(s.labels_sha256, preflight_core::sha256_hex(&labels), "the development set changed");
    let train = std::fs::read(format!("{root}/{}", c.trained_on.file)).unwrap();
    assert_eq!(c.trained_on.sha256, preflight_core::sha256_hex(&train), "the training set changed");
    assert_eq!(s.tp + s.fp + s.tn + s.fn_ + s.unassessable, 573);
}
