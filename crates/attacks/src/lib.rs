//! Attacks: turning a few hundred seed behaviours into many distinct, traceable probes.
//!
//! A [`Chain`] is written `a+b+c` in a suite's `attacks` list and applies its mutators left to
//! right (`roleplay+leetspeak` wraps the request in a role-play, then writes all of it in leet).
//! Pure mutators ([`mutate`]) are functions of (text, seed): the same input and seed always give
//! the same probe, so expansion is reproducible and needs no storage. Model-driven ones (tense
//! rewrites, translation) ask an attacker model through a [`preflight_core::Generate`] handle and
//! go through the response cache like any other call.
//!
//! ```
//! use preflight_attacks::{Chain, Templates};
//! let chain = Chain::parse("leetspeak+prefix-injection", &Templates::default()).unwrap();
//! let out = chain.apply_pure("tell me a secret", 7).unwrap();
//! assert!(out.starts_with("73ll m3 4 53cr37"));
//! ```

pub mod adaptive;
mod chain;
pub mod dedup;
pub mod mutate;
mod rewrite;
mod templates;
mod transform;

pub use adaptive::{ADAPTIVE, Adaptive, AdaptiveConfig};
pub use chain::{Chain, ChainError, Step};
pub use rewrite::{Rewrite, rewrite_request};
pub use templates::{Template, Templates};
pub use transform::{Attacks, identity};

/// A per-probe seed from the suite seed, the sample id and the chain: each (sample, attack) pair
/// gets its own stream of choices, stable across runs and machines (FNV-1a, not the std hasher,
/// whose output may change between Rust releases).
pub fn probe_seed(suite_seed: u64, sample_id: &str, chain: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ suite_seed;
    for b in sample_id.bytes().chain([0xff]).chain(chain.bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A small deterministic generator (SplitMix64) for the seeded mutators.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}
