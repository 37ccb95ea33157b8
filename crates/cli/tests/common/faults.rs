//! A std-only HTTP/1.1 server on `127.0.0.1` that imitates a misbehaving OpenAI chat-completions endpoint.
#![allow(dead_code)]

use std::{
    fmt::Write as _,
    io::{ErrorKind, Read, Write},
    net::{Shutdown, SocketAddr, TcpListener, TcpStream},
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    thread::{self, JoinHandle},
    time::{Duration, Instant},
};

/// How the server answers each request, so tests can drive the client through every failure path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer every request with this HTTP status and an OpenAI-style error JSON body.
    Status(u16),
    /// 429 with an optional Retry-After header value (e.g. Some("0")).
    RateLimited(Option<String>),
    /// 200, Content-Type application/json, body that is not JSON (`<html>oops`).
    MalformedJson,
    /// 200 with a valid completion object whose "choices" is [].
    EmptyChoices,
    /// 200 with a valid completion whose message content is null (and refusal null).
    NullContent,
    /// 200 whose Content-Length promises far more than the half a valid body sent before the socket closes.
    Truncated,
    /// Read the request, then never answer; the connection stays open until the server is dropped.
    Hang,
    /// Accept and close the connection at once without writing anything.
    Close,
    /// 200 with this content; `{key}` becomes the bearer token (empty if none), `{prompt}` the last message content.
    Reply(String),
    /// This HTTP status with exactly these body bytes (a proxy's error page, say), not JSON.
    StatusBody(u16, String),
    /// Cycle through these faults, one per request (request i gets faults[i % len]; an empty list answers 500).
    Cycle(Vec<Fault>),
}

impl Fault {
    /// Resolves cycles down to the plain fault that request number `i` gets (nested cycles advance per lap).
    fn pick(&self, i: usize) -> &Fault {
        match self {
            Fault::Cycle(list) if !list.is_empty() => list[i % list.len()].pick(i / list.len()),
            _ => self,
        }
    }
}

/// Longest request head accepted, so a broken client cannot make the server buffer without bound.
const MAX_HEAD: usize = 64 * 1024;
/// Largest request body accepted, for the same reason.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// How long a connection may stall while sending its request before the server gives up on it.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A running fault server; dropping it stops the accept loop and releases hanging connections.
pub struct FaultServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

/// State the accept thread and the per-connection threads share with the handle.
struct Shared {
    fault: Mutex<Fault>,
    stop: AtomicBool,
    requests: AtomicU64,
    next: AtomicUsize,
    hung: Mutex<Vec<TcpStream>>,
}

impl FaultServer {
    /// Binds 127.0.0.1 on a free port and starts answering every connection with `fault`.
    pub fn start(fault: Fault) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fault server");
        let addr = listener.local_addr().expect("fault server address");
        let shared = Arc::new(Shared {
            fault: Mutex::new(fault),
            stop: AtomicBool::new(false),
            requests: AtomicU64::new(0),
            next: AtomicUsize::new(0),
            hung: Mutex::new(Vec::new()),
        });
        let accept_shared = Arc::clone(&shared);
        let accept = thread::Builder::new()
            .name("fault-accept".into())
            .spawn(move || accept_loop(&listener, &accept_shared))
            .expect("spawn fault accept thread");
        FaultServer { addr, shared, accept: Some(accept) }
    }

    /// The OpenAI-style base URL to hand the client, e.g. `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Answers later requests with `fault` instead (the outage is over, say).
    pub fn set_fault(&self, fault: Fault) {
        *self.shared.fault.lock().unwrap_or_else(PoisonError::into_inner) = fault;
    }

    /// Complete requests read so far (for Close: accepted connections), to check retries and call counts.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }
}

impl Drop for FaultServer {
    /// Stops accepting, wakes the accept thread with one self-connection, and closes hanging connections.
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let woke = TcpStream::connect_timeout(&self.addr, Duration::from_millis(500)).is_ok();
        if let Some(handle) = self.accept.take()
            && woke
        {
            let _ = handle.join();
        }
        let hung = std::mem::take(&mut *self.shared.hung.lock().unwrap_or_else(PoisonError::into_inner));
        for stream in hung {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

/// Accepts connections until stopped, giving each its request number and its own thread.
fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = conn else {
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        let index = shared.next.fetch_add(1, Ordering::SeqCst);
        let fault = shared.fault.lock().unwrap_or_else(PoisonError::into_inner).pick(index).clone();
        if fault == Fault::Close {
            shared.requests.fetch_add(1, Ordering::SeqCst);
            drop(stream);
            continue;
        }
        let conn_shared = Arc::clone(shared);
        let _ = thread::Builder::new().name("fault-conn".into()).spawn(move || handle(stream, &conn_shared, index));
    }
}

/// One parsed HTTP request: the headers that matter here and the body.
struct Request {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    /// The value of header `name` (lowercase), if present.
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The bearer token from the Authorization header, or "" if there is none.
    fn bearer(&self) -> &str {
        let Some(value) = self.header("authorization") else { return "" };
        match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => "",
        }
    }

    /// The body as text (lossy), for the cheap JSON look-ups below.
    fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Why a request could not be read: either the socket failed or the request was not valid HTTP.
enum ReadError {
    Io,
    Bad(u16, &'static str),
}

/// Serves one connection: reads the request, counts it, then misbehaves as the fault says.
fn handle(mut stream: TcpStream, shared: &Shared, index: usize) {
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let request = match read_request(&mut stream) {
        Ok(request) => request,
        Err(ReadError::Io) => return,
        Err(ReadError::Bad(status, message)) => {
            let _ = respond(&mut stream, status, &[], error_body(message, "invalid_request_error", "null").as_bytes());
            finish(stream);
            return;
        }
    };
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let model = json_string_field(&request.body_text(), "model").unwrap_or_else(|| "mock".to_string());
    let fault = shared.fault.lock().unwrap_or_else(PoisonError::into_inner).pick(index).clone();
    let result = match &fault {
        Fault::StatusBody(code, body) => respond(&mut stream, *code, &[], body.as_bytes()),
        Fault::Status(code) => {
            let body = error_body(&format!("injected fault: HTTP {code}"), "server_error", "null");
            respond(&mut stream, *code, &[], body.as_bytes())
        }
        Fault::RateLimited(retry_after) => {
            let headers: Vec<(&str, &str)> = retry_after.iter().map(|v| ("Retry-After", v.as_str())).collect();
            let body = error_body("Rate limit reached (injected fault)", "requests", "\"rate_limit_exceeded\"");
            respond(&mut stream, 429, &headers, body.as_bytes())
        }
        Fault::MalformedJson => respond(&mut stream, 200, &[], b"<html>oops"),
        Fault::EmptyChoices => respond(&mut stream, 200, &[], empty_choices_body(&model).as_bytes()),
        Fault::NullContent => respond(&mut stream, 200, &[], completion_body(&model, None).as_bytes()),
        Fault::Truncated => {
            let body = completion_body(&model, Some("this reply is cut off before it ends"));
            let sent = &body.as_bytes()[..body.len() / 2];
            write_truncated(&mut stream, body.len() + 4096, sent)
        }
        Fault::Hang => {
            let mut hung = shared.hung.lock().unwrap_or_else(PoisonError::into_inner);
            if !shared.stop.load(Ordering::SeqCst) {
                hung.push(stream);
            }
            return;
        }
        Fault::Reply(template) => {
            let prompt = last_message_content(&request.body_text());
            let content = fill_template(template, request.bearer(), prompt.as_deref());
            respond(&mut stream, 200, &[], completion_body(&model, Some(&content)).as_bytes())
        }
        // `pick` never returns these two; answer something sane instead of panicking in a server thread.
        Fault::Close => return,
        Fault::Cycle(_) => {
            let body = error_body("injected fault: empty cycle", "server_error", "null");
            respond(&mut stream, 500, &[], body.as_bytes())
        }
    };
    if result.is_ok() {
        finish(stream);
    }
}

/// Reads one request: the head up to the blank line, then exactly Content-Length body bytes.
fn read_request(stream: &mut TcpStream) -> Result<Request, ReadError> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = find(&buf, b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > MAX_HEAD {
            return Err(ReadError::Bad(431, "request head too large"));
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Err(ReadError::Io),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Err(ReadError::Io),
        }
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| ReadError::Bad(400, "request head is not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Bad(400, "malformed request line"));
    };
    if method.is_empty() || !target.starts_with('/') || !version.starts_with("HTTP/1.") {
        return Err(ReadError::Bad(400, "malformed request line"));
    }
    let mut headers = Vec::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(ReadError::Bad(400, "malformed header line"));
        };
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let mut request = Request { headers, body: Vec::new() };
    if request.header("transfer-encoding").is_some() {
        return Err(ReadError::Bad(411, "send Content-Length, not Transfer-Encoding"));
    }
    let length = match request.header("content-length") {
        None => 0,
        Some(v) => v.parse::<usize>().map_err(|_| ReadError::Bad(400, "bad Content-Length"))?,
    };
    if length > MAX_BODY {
        return Err(ReadError::Bad(413, "request body too large"));
    }
    if request.header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").map_err(|_| ReadError::Io)?;
    }
    let mut body = buf.split_off(head_end + 4);
    body.truncate(length);
    if body.len() < length {
        let start = body.len();
        body.resize(length, 0);
        stream.read_exact(&mut body[start..]).map_err(|_| ReadError::Io)?;
    }
    request.body = body;
    Ok(request)
}

/// Writes a complete response with correct Content-Length, JSON content type and `Connection: close`.
fn respond(stream: &mut TcpStream, status: u16, extra: &[(&str, &str)], body: &[u8]) -> std::io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        reason(status),
        body.len()
    );
    for (name, value) in extra {
        let _ = write!(out, "{name}: {value}\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes)?;
    stream.flush()
}

/// Writes a 200 head that promises `promised` body bytes, sends only `sent`, then closes the socket.
fn write_truncated(stream: &mut TcpStream, promised: usize, sent: &[u8]) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {promised}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(sent)?;
    stream.flush()
}

/// Ends our side, then waits (briefly) for the client to close, so unread bytes never turn our close into a reset.
fn finish(mut stream: TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut sink = [0u8; 1024];
    while Instant::now() < deadline {
        match stream.read(&mut sink) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
}

/// The reason phrase for common statuses (clients ignore it, but humans reading traces do not).
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// An OpenAI-style error object; `code` is raw JSON (`null` or a quoted string).
fn error_body(message: &str, kind: &str, code: &str) -> String {
    format!(
        r#"{{"error":{{"message":{},"type":{},"param":null,"code":{code}}}}}"#,
        json_string(message),
        json_string(kind)
    )
}

/// A chat.completion object with one choice whose content is `content` (or null).
fn completion_body(model: &str, content: Option<&str>) -> String {
    let content = content.map_or_else(|| "null".to_string(), json_string);
    let choices = format!(
        r#"[{{"index":0,"message":{{"role":"assistant","content":{content},"refusal":null}},"logprobs":null,"finish_reason":"stop"}}]"#
    );
    completion_with_choices(model, &choices)
}

/// A chat.completion object whose choices list is empty.
fn empty_choices_body(model: &str) -> String {
    completion_with_choices(model, "[]")
}

/// The shared chat.completion envelope around raw JSON `choices`.
fn completion_with_choices(model: &str, choices: &str) -> String {
    format!(
        r#"{{"id":"chatcmpl-abc123","object":"chat.completion","created":1700000000,"model":{},"choices":{choices},"usage":{{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}}}"#,
        json_string(model)
    )
}

/// Replaces `{key}` and `{prompt}` in one pass, so substituted text is never scanned again; no prompt keeps `{prompt}`.
fn fill_template(template: &str, key: &str, prompt: Option<&str>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(pos) = rest.find('{') {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        if let Some(after) = tail.strip_prefix("{key}") {
            out.push_str(key);
            rest = after;
        } else if let (Some(after), Some(prompt)) = (tail.strip_prefix("{prompt}"), prompt) {
            out.push_str(prompt);
            rest = after;
        } else {
            out.push('{');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Encodes `s` as a JSON string literal, escaping quotes, backslashes and every control character as \u00XX.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The string value of the first `"field": "..."` in `json`, decoded; None if absent or not a string.
fn json_string_field(json: &str, field: &str) -> Option<String> {
    let needle = format!("\"{field}\"");
    let mut from = 0;
    while let Some(pos) = json[from..].find(&needle) {
        let after = from + pos + needle.len();
        if let Some(value) = string_value_after_key(&json[after..]) {
            return Some(value);
        }
        from = after;
    }
    None
}

/// The last message's content: the decoded value of the last `"content": "..."` in the body.
fn last_message_content(json: &str) -> Option<String> {
    let needle = "\"content\"";
    let mut end = json.len();
    while let Some(pos) = json[..end].rfind(needle) {
        if let Some(value) = string_value_after_key(&json[pos + needle.len()..]) {
            return Some(value);
        }
        end = pos;
    }
    None
}

/// Given text right after a JSON key, skips `:` and whitespace and decodes the string value that follows.
fn string_value_after_key(rest: &str) -> Option<String> {
    let rest = rest.trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    decode_json_string(rest)
}

/// Decodes a JSON string body up to its closing quote (all escapes, surrogate pairs included); None if malformed.
fn decode_json_string(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                '/' => out.push('/'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'u' => {
                    let high = hex4(&mut chars)?;
                    let code = if (0xd800..0xdc00).contains(&high) {
                        if chars.next()? != '\\' || chars.next()? != 'u' {
                            return None;
                        }
                        let low = hex4(&mut chars)?;
                        if !(0xdc00..0xe000).contains(&low) {
                            return None;
                        }
                        0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00)
                    } else {
                        high
                    };
                    out.push(char::from_u32(code)?);
                }
                _ => return None,
            },
            c => out.push(c),
        }
    }
    None
}

/// Reads four hex digits of a `\u` escape.
fn hex4(chars: &mut std::str::Chars<'_>) -> Option<u32> {
    (0..4).try_fold(0u32, |acc, _| Some(acc * 16 + chars.next()?.to_digit(16)?))
}

/// The first index where `needle` occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
