//! The viewer's HTTP side: a hyper server on one address, the access rules (the Host check, the
//! token off loopback, the form secret), the security headers every answer carries, and the
//! request / response types the pages work with (so pages are plain functions, tested without a
//! socket).

use std::{net::SocketAddr, sync::Arc, time::Duration};

use http_body_util::{BodyExt, Full, Limited};
use hyper::{Request, Response, StatusCode, body::Bytes, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;

use crate::app::App;

/// The policy of every page: nothing but this server's own style sheet and forms; no script at
/// all, so nothing a model wrote can run even if it slipped past the escaping.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
                       base-uri 'none'; frame-ancestors 'none'";

/// The cookie that carries the access token once the token link was opened.
const TOKEN_COOKIE: &str = "preflight_token";

/// Largest request body read (a review form is a few hundred bytes).
const MAX_BODY: usize = 64 * 1024;

/// A request as the pages see it.
#[derive(Debug, Clone, Default)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub form: Vec<(String, String)>,
}

impl Req {
    pub fn get(path: &str, query: &[(&str, &str)]) -> Req {
        Req {
            method: "GET".into(),
            path: path.into(),
            query: query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            form: Vec::new(),
        }
    }

    /// A query parameter, `None` when absent or empty.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    pub fn field(&self, key: &str) -> Option<&str> {
        self.form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// An answer: a page, a redirect, an error.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
}

impl Resp {
    pub fn html(body: String) -> Resp {
        Resp { status: 200, content_type: "text/html; charset=utf-8", body: body.into_bytes(), headers: Vec::new() }
    }

    pub fn redirect(to: &str) -> Resp {
        Resp {
            status: 303,
            content_type: "text/plain; charset=utf-8",
            body: Vec::new(),
            headers: vec![("location", to.to_string())],
        }
    }

    pub fn text(status: u16, text: impl Into<String>) -> Resp {
        Resp { status, content_type: "text/plain; charset=utf-8", body: text.into().into_bytes(), headers: Vec::new() }
    }

    pub fn with_header(mut self, k: &'static str, v: String) -> Resp {
        self.headers.push((k, v));
        self
    }
}

/// How the viewer is reached.
#[derive(Debug, Clone)]
pub struct Access {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Required of every request when the address is not loopback: a link carries it once, a
    /// cookie afterwards.
    pub token: Option<String>,
}

/// Random hex from the kernel (an access token, the form secret).
pub fn random_hex(bytes: usize) -> String {
    use std::io::Read;
    let mut b = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b)).expect("/dev/urandom");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn cookie_token(req: &Request<hyper::body::Incoming>) -> Option<String> {
    req.headers().get_all(hyper::header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|c| {
        c.split(';').map(str::trim).find_map(|kv| kv.strip_prefix(TOKEN_COOKIE)?.strip_prefix('=').map(str::to_string))
    })
}

/// Compares two secrets in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The Host header names this server: on loopback only its own names are accepted, so a page on
/// another site cannot reach the viewer through a DNS name rebound to 127.0.0.1.
fn host_ok(access: &Access, host: Option<&str>) -> bool {
    if access.token.is_some() {
        return true;
    }
    let Some(host) = host else { return false };
    let port = access.addr.port();
    [format!("127.0.0.1:{port}"), format!("localhost:{port}"), format!("[::1]:{port}")].iter().any(|h| h == host)
}

async fn answer(
    app: Arc<App>,
    access: Arc<Access>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let host = req.headers().get(hyper::header::HOST).and_then(|h| h.to_str().ok()).map(str::to_string);
    let origin = req.headers().get(hyper::header::ORIGIN).and_then(|h| h.to_str().ok()).map(str::to_string);
    let cookie = cookie_token(&req);
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let query: Vec<(String, String)> =
        req.uri().query().map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
    let resp = if !host_ok(&access, host.as_deref()) {
        Resp::text(421, "this viewer answers to its own address only")
    } else if let Some(token) = &access.token {
        let given = query.iter().find(|(k, _)| k == "token").map(|(_, v)| v.clone());
        match (given, cookie) {
            (Some(t), _) if same_secret(&t, token) => {
                // The token moves from the link into a cookie, and out of the address bar.
                Resp::redirect(&path)
                    .with_header("set-cookie", format!("{TOKEN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"))
            }
            (_, Some(c)) if same_secret(&c, token) => {
                read_and_handle(&app, req, method, path, query, origin, host).await
            }
            _ => Resp::text(401, "this viewer needs its token: open the link `preflight view` printed"),
        }
    } else {
        read_and_handle(&app, req, method, path, query, origin, host).await
    };
    Ok(to_hyper(resp))
}

async fn read_and_handle(
    app: &Arc<App>,
    req: Request<hyper::body::Incoming>,
    method: String,
    path: String,
    query: Vec<(String, String)>,
    origin: Option<String>,
    host: Option<String>,
) -> Resp {
    let mut form = Vec::new();
    if method == "POST" {
        // A form from another site may not post here (the Origin, when sent, is this host).
        if let (Some(o), Some(h)) = (&origin, &host)
            && o.split_once("://").map(|(_, rest)| rest) != Some(h.as_str())
        {
            return Resp::text(403, "a form from another origin");
        }
        match Limited::new(req.into_body(), MAX_BODY).collect().await {
            Ok(b) => form = form_urlencoded::parse(&b.to_bytes()).into_owned().collect(),
            Err(_) => return Resp::text(413, "request body too large"),
        }
    }
    let r = Req { method, path, query, form };
    let app = app.clone();
    // Pages read SQLite: off the async threads.
    tokio::task::spawn_blocking(move || app.handle(&r)).await.unwrap_or_else(|_| Resp::text(500, "the page failed"))
}

fn to_hyper(r: Resp) -> Response<Full<Bytes>> {
    let mut b = Response::builder()
        .status(StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", r.content_type)
        .header("content-security-policy", CSP)
        .header("x-content-type-options", "nosniff")
        // `same-origin`, not `no-referrer`: with no referrer policy a browser sends `Origin: null` on
        // its own forms, and the origin check could not tell them from a foreign page's.
        .header("referrer-policy", "same-origin")
        .header("x-frame-options", "DENY")
        .header("cache-control", "no-store");
    for (k, v) in &r.headers {
        b = b.header(*k, v);
    }
    b.body(Full::new(Bytes::from(r.body))).expect("valid response")
}

/// A running viewer; dropping it stops the server.
pub struct Server {
    pub access: Access,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Binds `addr` (port 0: any free port) and serves `app` from a thread of its own.
    pub fn start(app: App, addr: SocketAddr) -> std::io::Result<Server> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let token = (!addr.ip().is_loopback()).then(|| random_hex(16));
        let access = Access { addr, token };
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (app, shared) = (Arc::new(app), Arc::new(access.clone()));
        let thread = std::thread::Builder::new().name("preflight-view".into()).spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .max_blocking_threads(8)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                tokio::pin!(rx);
                loop {
                    tokio::select! {
                        _ = &mut rx => break,
                        acc = listener.accept() => {
                            let Ok((stream, _)) = acc else { continue };
                            let (app, access) = (app.clone(), shared.clone());
                            tokio::spawn(async move {
                                let svc = service_fn(move |req| answer(app.clone(), access.clone(), req));
                                let _ = http1::Builder::new()
                                    .timer(hyper_util::rt::TokioTimer::new())
                                    .header_read_timeout(Duration::from_secs(30))
                                    .serve_connection(TokioIo::new(stream), svc)
                                    .await;
                            });
                        }
                    }
                }
            });
            rt.shutdown_timeout(Duration::from_millis(200));
        })?;
        Ok(Server { access, shutdown: Some(tx), thread: Some(thread) })
    }

    /// The address to open: with the token when one is needed.
    pub fn url(&self) -> String {
        let host = if self.access.addr.ip().is_unspecified() {
            format!("127.0.0.1:{}", self.access.addr.port())
        } else {
            self.access.addr.to_string()
        };
        match &self.access.token {
            Some(t) => format!("http://{host}/?token={t}"),
            None => format!("http://{host}/"),
        }
    }

    /// Serves until the process ends.
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_servers_own_names_are_accepted_on_loopback() {
        let a = Access { addr: "127.0.0.1:8080".parse().unwrap(), token: None };
        assert!(host_ok(&a, Some("127.0.0.1:8080")) && host_ok(&a, Some("localhost:8080")));
        assert!(!host_ok(&a, Some("evil.example:8080")) && !host_ok(&a, Some("127.0.0.1:9")) && !host_ok(&a, None));
        let t = Access { addr: "0.0.0.0:8080".parse().unwrap(), token: Some("t".into()) };
        assert!(host_ok(&t, Some("10.0.0.5:8080")), "off loopback the token guards instead");
        assert!(same_secret("abc", "abc") && !same_secret("abc", "abd") && !same_secret("abc", "ab"));
    }
}
