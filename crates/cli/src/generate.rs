//! `preflight generate`: prints what `preflight_session::generate` wrote, cell by cell.

use std::time::Duration;

use anyhow::Result;
use preflight_session::generate::{Spec, generate};

use crate::{args::GenerateArgs, exit, out::outln};

pub fn command(a: GenerateArgs) -> Result<i32> {
    let base_url = a.base_url.clone().unwrap_or_else(preflight_session::default_base_url);
    let cache_dir = preflight_session::cache_dir(a.cache_dir.as_deref());
    let g = generate(&Spec {
        categories: &a.category,
        n: a.n,
        attacker: &a.attacker,
        base_url: &base_url,
        api_key_env: &a.api_key_env,
        timeout: Duration::from_secs_f64(a.timeout.unwrap_or(120.0)),
        styles: a.styles.as_deref(),
        out: &a.out,
        similarity: a.similarity,
        semantic: (!a.no_semantic).then_some(a.semantic),
        rounds: a.rounds,
        seed: a.seed,
        cache_dir: &cache_dir,
        headers: &a.net.headers,
        ca_bundle: a.net.ca_bundle.as_deref(),
    })?;
    outln!(
        "{:<16} {:<14} {:>6} {:>11} {:>13} {:>10}",
        "CATEGORY",
        "STYLE",
        "KEPT",
        "SAME WORDS",
        "SAME MEANING",
        "DIVERSITY"
    );
    for c in &g.cells {
        let mark = if c.kept < g.quota { "  thin" } else { "" };
        let div = c.diversity.map(|d| format!("{d:.2}")).unwrap_or_else(|| "-".into());
        outln!(
            "{:<16} {:<14} {:>6} {:>11} {:>13} {:>10}{mark}",
            c.category,
            c.style,
            c.kept,
            c.dropped,
            c.dropped_semantic,
            div
        );
    }
    if !a.no_semantic {
        outln!("(diversity: mean cosine distance between a cell's prompts, 0 = all alike)");
    }
    let thin = g.cells.iter().filter(|c| c.kept < g.quota).count();
    outln!(
        "\n{} prompts in {} ({} cells, {} wanted per cell; {thin} thin). Use it in a suite:\n[[datasets]]\npath = \"{}\"\ncolumns = {{ id = \"id\", prompt = \"prompt\", expected = \"expected\", category = \"category\" }}",
        g.total(),
        g.out.display(),
        g.cells.len(),
        g.quota,
        g.out.display()
    );
    Ok(exit::PASS)
}
