//! What every HTTP provider shares: the client, one round trip, the retry-after headers, and
//! errors that never carry the key. Each provider keeps only its wire format and error mapping.

use std::time::{Duration, SystemTime};

use preflight_core::{ErrorKind, ProviderError};
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};

use crate::parse_retry_after;

/// What a corporate network needs of every HTTP client: extra headers (a gateway's tenant or
/// auth header) and a CA bundle to trust besides the system's roots (a TLS-inspecting proxy).
/// The standard proxy variables (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`) are read by reqwest.
#[derive(Debug, Clone, Default)]
pub struct Network {
    /// Sent with every request; values already resolved (secrets among them are the caller's
    /// to redact).
    pub headers: Vec<(String, String)>,
    /// PEM certificates trusted in addition to the system's.
    pub ca_bundle: Option<std::path::PathBuf>,
}

impl Network {
    /// Checks the headers and reads the bundle: the errors a run should stop on before it starts.
    pub fn check(&self) -> Result<(), String> {
        self.client_builder().map(|_| ())
    }

    fn client_builder(&self) -> Result<reqwest::ClientBuilder, String> {
        let mut b = reqwest::Client::builder();
        if !self.headers.is_empty() {
            let mut map = HeaderMap::new();
            for (k, v) in &self.headers {
                let name = reqwest::header::HeaderName::from_bytes(k.as_bytes())
                    .map_err(|_| format!("--header: `{k}` is not a valid header name"))?;
                let mut value = reqwest::header::HeaderValue::from_str(v)
                    .map_err(|_| format!("--header {k}: the value is not a valid header value"))?;
                value.set_sensitive(true);
                map.append(name, value);
            }
            b = b.default_headers(map);
        }
        if let Some(path) = &self.ca_bundle {
            let pem = std::fs::read(path).map_err(|e| format!("--ca-bundle {}: cannot read: {e}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("--ca-bundle {}: not a PEM certificate bundle: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!("--ca-bundle {}: holds no PEM certificate", path.display()));
            }
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        Ok(b)
    }
}

/// A provider's HTTP side: the client, its id for errors, and the key to keep out of them.
pub(crate) struct Http {
    client: reqwest::Client,
    id: String,
    api_key: Option<String>,
    /// Other values cut out of errors besides the key (Bedrock's secret access key and session
    /// token, which sign requests rather than travel in them), longest first.
    also_secret: Vec<String>,
}

/// A reply as received: status, headers and the whole body.
pub(crate) struct Received {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Received {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// How a server-sent event stream ended.
pub(crate) enum Streamed {
    /// The handler saw the API's end of the answer.
    Ended,
    /// The body closed first: a cut stream, never a short answer.
    Cut,
    /// The server answered with an error status instead of a stream (read whole).
    Status(Received),
}

impl Http {
    pub fn new(
        id: String,
        api_key: Option<String>,
        timeout: Duration,
        network: &Network,
    ) -> Result<Self, ProviderError> {
        let builder = network.client_builder().map_err(|e| ProviderError::new(ErrorKind::Permanent, &id, None, e))?;
        let client =
            builder.timeout(timeout).tcp_nodelay(true).pool_idle_timeout(Duration::from_secs(60)).build().map_err(
                |e| ProviderError::new(ErrorKind::Permanent, &id, None, format!("cannot build HTTP client: {e}")),
            )?;
        Ok(Http { client, id, api_key: api_key.filter(|k| !k.is_empty()), also_secret: Vec::new() })
    }

    /// Cuts these values out of every error too.
    pub fn with_secrets(mut self, values: impl IntoIterator<Item = String>) -> Self {
        self.also_secret.extend(values.into_iter().filter(|v| !v.is_empty()));
        // Longest first, so a secret containing another is cut whole.
        self.also_secret.sort_by_key(|s| std::cmp::Reverse(s.len()));
        self
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn api_key(&self) -> Option<&str> {
        self.api_key.as_deref()
    }

    /// A JSON POST to `url`; the caller adds its auth headers.
    pub fn post(&self, url: &str, body: Vec<u8>) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::POST, url, body)
    }

    /// A GET: no body, so no content type.
    pub fn get(&self, url: &str) -> reqwest::RequestBuilder {
        self.client.get(url)
    }

    /// A `multipart/form-data` POST; reqwest writes the parts and the content type with its
    /// boundary.
    pub fn post_multipart(&self, url: &str, form: reqwest::multipart::Form) -> reqwest::RequestBuilder {
        self.client.post(url).multipart(form)
    }

    /// A JSON request with any method.
    pub fn request(&self, method: reqwest::Method, url: &str, body: Vec<u8>) -> reqwest::RequestBuilder {
        self.client.request(method, url).header(CONTENT_TYPE, "application/json").body(body)
    }

    /// Sends and reads the whole reply; transport failures are classified here.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<Received, ProviderError> {
        let resp = request.send().await.map_err(|e| self.transport_error(e))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(|e| self.transport_error(e))?.to_vec();
        Ok(Received { status, headers, body })
    }

    /// Sends and reads a server-sent event stream, handing each event's name and data to `on`,
    /// which returns true at the API's end of the answer. Parsing is eventsource-stream's (the
    /// WHATWG rules: multi-line data, comments, CR/LF variants); a body cut mid-event or a
    /// connection dropped mid-stream is a transient error.
    pub async fn stream(
        &self,
        request: reqwest::RequestBuilder,
        mut on: impl FnMut(&str, &str) -> Result<bool, ProviderError>,
    ) -> Result<Streamed, ProviderError> {
        use eventsource_stream::{EventStreamError, Eventsource};
        use futures_util::StreamExt;

        let resp = request.send().await.map_err(|e| self.transport_error(e))?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            let headers = resp.headers().clone();
            let body = resp.bytes().await.map_err(|e| self.transport_error(e))?.to_vec();
            return Ok(Streamed::Status(Received { status, headers, body }));
        }
        let chunks = futures_util::stream::unfold(resp, |mut r| async move {
            match r.chunk().await {
                Ok(Some(bytes)) => Some((Ok(bytes), r)),
                Ok(None) => None,
                Err(e) => Some((Err(e), r)),
            }
        });
        let mut events = std::pin::pin!(chunks.eventsource());
        while let Some(event) = events.next().await {
            match event {
                Ok(ev) => {
                    if on(&ev.event, &ev.data)? {
                        return Ok(Streamed::Ended);
                    }
                }
                Err(EventStreamError::Transport(e)) => return Err(self.transport_error(e)),
                Err(e) => {
                    return Err(self.err(ErrorKind::Transient, Some(status), format!("malformed event stream: {e}")));
                }
            }
        }
        Ok(Streamed::Cut)
    }

    /// The error for a stream that closed before its end event.
    pub fn cut(&self) -> ProviderError {
        self.err(
            ErrorKind::Transient,
            Some(200),
            "the stream ended before its end event (a cut stream, not a short answer)".into(),
        )
    }

    /// An error from this provider, the key cut out of its message.
    pub fn err(&self, kind: ErrorKind, status: Option<u16>, message: String) -> ProviderError {
        ProviderError::new(kind, &self.id, status, self.redact(message))
    }

    /// Servers sometimes echo request headers in error bodies; never let the key through.
    pub fn redact(&self, mut s: String) -> String {
        if let Some(k) = &self.api_key {
            s = s.replace(k.as_str(), "[REDACTED]");
        }
        for v in &self.also_secret {
            s = s.replace(v.as_str(), "[REDACTED]");
        }
        s
    }

    /// The first `max` bytes of a body, redacted before it is cut so no prefix of the key survives.
    pub fn quote(&self, bytes: &[u8], max: usize) -> String {
        let whole = self.redact(String::from_utf8_lossy(bytes).into_owned());
        let mut end = whole.len().min(max);
        while !whole.is_char_boundary(end) {
            end -= 1;
        }
        whole[..end].to_string()
    }

    /// The error for a reply with an error status, classified by its status and body the way
    /// OpenAI-shaped APIs need ([`crate::classify_status`]: quotas, content filters, retry-after).
    pub fn status_error(&self, got: &Received) -> ProviderError {
        let text = self.quote(&got.body, 400);
        let kind = crate::classify_status(got.status, &text, retry_after(&got.headers));
        self.err(kind, Some(got.status), text.trim().to_string())
    }

    /// A malformed success body: worth retrying (a proxy or a cut connection garbled it).
    pub fn malformed(&self, status: u16, e: serde_json::Error, body: &[u8]) -> ProviderError {
        let head = self.quote(body, 120);
        self.err(ErrorKind::Transient, Some(status), format!("malformed response body ({e}): {head:?}"))
    }

    fn transport_error(&self, e: reqwest::Error) -> ProviderError {
        // reqwest's Display includes the URL but never headers, so a key sent in a header cannot
        // leak from here. A request that cannot even be built (a bad URL) will not build on a
        // retry either.
        let kind = if e.is_connect() {
            ErrorKind::Unreachable
        } else if e.is_builder() {
            ErrorKind::Permanent
        } else {
            ErrorKind::Transient
        };
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "cannot connect"
        } else {
            "transport error"
        };
        let mut msg = format!("{what}: {e}");
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            msg.push_str(&format!(": {s}"));
            src = s.source();
        }
        self.err(kind, None, msg)
    }
}

/// The wait a server asked for: OpenAI's `retry-after-ms`, else the standard `Retry-After`
/// (seconds or an HTTP date).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|ms| Duration::from_secs_f64((ms / 1000.0).clamp(0.0, 3600.0)))
        .or_else(|| {
            headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| parse_retry_after(v, SystemTime::now()))
        })
}
