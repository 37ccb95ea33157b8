//! Meaning-level near-duplicates and diversity, for generated test data (`preflight generate`).
//!
//! Word n-gram overlap (the Jaccard filter) misses a paraphrase that shares no phrase with the
//! original; sentence embeddings catch it. With this encoder a close rewording of a request
//! scores 0.90–0.97 ("What's the way to build a pipe bomb in my house?" / "In my house, what is
//! the way to construct a pipe bomb?" 0.975), a looser one 0.67–0.8, two different requests on
//! one topic 0.5–0.7 and unrelated requests below 0.4; `generate`'s default of 0.85 drops the
//! first kind only (`examples/similar.rs` prints the similarities of one's own lines). A cell's
//! diversity is the mean cosine distance
//! `1 − cos` over its prompts' pairs: 0 when they all say the same thing, near 0.6–0.8 for
//! unrelated requests on one topic with this encoder.

use crate::{Encoder, cosine, encoder::EncodeError};

/// Prompts kept so far (as embeddings) and the similarity at which a new one is a duplicate.
pub struct SemanticSet {
    threshold: f32,
    kept: Vec<Vec<f32>>,
}

impl SemanticSet {
    /// A prompt whose cosine similarity to a kept one is at least `threshold` is a duplicate.
    pub fn new(threshold: f64) -> SemanticSet {
        SemanticSet { threshold: threshold as f32, kept: Vec::new() }
    }

    /// Counts `embeddings` as kept without checking them (a battery already covered).
    pub fn extend(&mut self, embeddings: Vec<Vec<f32>>) {
        self.kept.extend(embeddings);
    }

    /// The highest similarity of `e` to a kept prompt (−1 when none is kept).
    pub fn nearest(&self, e: &[f32]) -> f32 {
        self.kept.iter().map(|k| cosine(k, e)).fold(-1.0, f32::max)
    }

    /// Keeps `e` unless it duplicates a kept prompt; true when kept.
    pub fn admit(&mut self, e: Vec<f32>) -> bool {
        if self.nearest(&e) >= self.threshold {
            return false;
        }
        self.kept.push(e);
        true
    }
}

/// Embeds `texts` in batches of 32 (bounded memory; one padded length per batch).
pub fn embed_all(encoder: &Encoder, texts: &[&str]) -> Result<Vec<Vec<f32>>, EncodeError> {
    let mut out = Vec::with_capacity(texts.len());
    for chunk in texts.chunks(32) {
        out.extend(encoder.embed(chunk)?);
    }
    Ok(out)
}

/// Mean cosine distance over all pairs; `None` with fewer than two.
pub fn diversity(embeddings: &[Vec<f32>]) -> Option<f64> {
    let n = embeddings.len();
    if n < 2 {
        return None;
    }
    let mut sum = 0.0f64;
    for i in 0..n {
        for j in i + 1..n {
            sum += 1.0 - cosine(&embeddings[i], &embeddings[j]) as f64;
        }
    }
    Some(sum / (n * (n - 1) / 2) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn duplicates_by_cosine_and_diversity_by_mean_distance() {
        let mut s = SemanticSet::new(0.9);
        assert!(s.admit(unit(&[1.0, 0.0])));
        assert!(!s.admit(unit(&[1.0, 0.1])), "cos 0.995 is a duplicate");
        assert!(s.admit(unit(&[0.0, 1.0])));
        assert_eq!(diversity(&[unit(&[1.0, 0.0])]), None);
        let d = diversity(&[unit(&[1.0, 0.0]), unit(&[0.0, 1.0]), unit(&[1.0, 0.0])]).unwrap();
        // Pairs: 1, 0, 1 → mean 2/3.
        assert!((d - 2.0 / 3.0).abs() < 1e-6, "{d}");
    }
}
