//! `preflight view`: serves the store to a browser until interrupted (`preflight_view`).

use anyhow::{Context, Result};

use crate::{args::ViewArgs, out::outln};

pub fn view(a: &ViewArgs) -> Result<i32> {
    // The store must exist (the viewer never makes one) and be readable now, not at the first page.
    preflight_store::Store::open_read_only(&a.store.store)?;
    let addr = std::net::SocketAddr::new(a.bind, a.port);
    let app = preflight_view::App::new(a.store.store.clone());
    let server = preflight_view::Server::start(app, addr).with_context(|| format!("cannot listen on {addr}"))?;
    outln!("preflight view: {} (store {}; Ctrl-C stops)", server.url(), a.store.store.display());
    server.wait();
    Ok(crate::exit::PASS)
}
