//! Which suite a run means: a file, or a built-in suite by name; loaded with `--only` applied.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use preflight_suite::{Resolver, Suite};

use crate::builtin;

/// A suite argument as a run stores it: a file made absolute, or `builtin:NAME`.
pub fn resolve(arg: &Path) -> Result<PathBuf> {
    if arg.is_file() {
        return Ok(std::fs::canonicalize(arg).unwrap_or_else(|_| arg.to_path_buf()));
    }
    match builtin::lookup(&arg.to_string_lossy()) {
        Some((name, _)) => Ok(PathBuf::from(format!("builtin:{name}"))),
        None => bail!("{}: no such suite file, nor a built-in suite ({})", arg.display(), builtin::names().join(", ")),
    }
}

/// Loads a suite file, or a built-in suite named `builtin:NAME`, keeping only the `only`
/// categories when given.
pub fn load(path: &Path, only: &[String], cache_dir: &Path) -> Result<Suite> {
    let text = path.to_string_lossy();
    let resolver = Resolver { cache_dir: cache_dir.to_path_buf(), embedded: builtin::FILES };
    let mut suite = match text.strip_prefix("builtin:") {
        Some(name) => {
            let (_, src) = builtin::lookup(name).with_context(|| format!("no built-in suite `{name}`"))?;
            Suite::parse(&src, path, &resolver)?
        }
        None => {
            let src = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
            Suite::parse(&src, path, &resolver)?
        }
    };
    if !only.is_empty() {
        suite.keep_categories(only)?;
    }
    Ok(suite)
}
