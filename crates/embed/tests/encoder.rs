//! The encoder on the real all-MiniLM-L6-v2 (fetched by `preflight model fetch`): an embedding
//! does not depend on what else is in the batch. The encoder sorts texts by length and pads each
//! pass itself; a text embedded beside a 256-piece answer must come out as it does alone.

use preflight_embed::{Encoder, encoder::cosine, model};

#[test]
fn an_embedding_is_the_same_alone_and_in_a_mixed_batch() {
    let dir = model::resolve(&preflight_data::default_cache_dir()).expect("run `preflight model fetch` first");
    let encoder = Encoder::load(&dir).unwrap();
    let long = "The committee met on Tuesday to discuss the budget. ".repeat(40);
    let texts = ["I can't help with that.", long.as_str(), "Sure, here is the recipe for pancakes.", "ok"];
    let together = encoder.embed(&texts).unwrap();
    assert_eq!(together.len(), texts.len());
    for (t, v) in texts.iter().zip(&together) {
        let alone = &encoder.embed(&[t]).unwrap()[0];
        let largest = alone.iter().zip(v).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(largest < 1e-5, "{t:?}: differs by {largest}");
        assert!((cosine(v, v) - 1.0).abs() < 1e-5, "unit length");
    }
    // Order is kept: a refusal is closer to another refusal than to the pancake answer.
    let refusal = &encoder.embed(&["I'm sorry, but I cannot assist with that request."]).unwrap()[0];
    assert!(cosine(refusal, &together[0]) > cosine(refusal, &together[2]));
    assert!(encoder.embed(&[]).unwrap().is_empty());
}
