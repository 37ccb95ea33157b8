//! `--ca-bundle` against a real TLS server on 127.0.0.1 whose certificate is signed by a test
//! CA (tests/fixtures/tls, made by its gen.sh): trusted through the bundle the request
//! succeeds; without it the handshake fails as an unreachable endpoint, never as an answer.

use std::{path::PathBuf, sync::Arc, time::Duration};

use preflight_core::{ErrorKind, GenSettings, Generate, GenerateRequest};
use preflight_providers::{Network, OpenAi, OpenAiConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        ServerConfig,
        crypto::ring::default_provider,
        pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    },
};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls").join(name)
}

const ANSWER: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"over TLS"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#;

/// Serves every connection one chat completion over TLS; returns the port.
async fn tls_server() -> u16 {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(fixture("server.pem")).unwrap().map(Result::unwrap).collect();
    let key = PrivateKeyDer::from_pem_file(fixture("server.key")).unwrap();
    let config = ServerConfig::builder_with_provider(Arc::new(default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A failed handshake (the client not trusting us) just ends the connection.
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read the head, then as much body as Content-Length says.
                loop {
                    let Ok(n) = tls.read(&mut chunk).await else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf);
                    if let Some(head_end) = text.find("\r\n\r\n") {
                        let len = text[..head_end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if buf.len() >= head_end + 4 + len {
                            break;
                        }
                    }
                }
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{ANSWER}",
                    ANSWER.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}

fn client(port: u16, ca_bundle: Option<PathBuf>) -> OpenAi {
    let mut cfg = OpenAiConfig::new("m");
    cfg.base_url = format!("https://127.0.0.1:{port}/v1");
    cfg.api_key = Some("sk-test-0123456789".into());
    cfg.timeout = Duration::from_secs(10);
    cfg.network = Network { headers: Vec::new(), ca_bundle };
    OpenAi::new(cfg).unwrap()
}

#[tokio::test]
async fn a_server_signed_by_the_bundles_ca_is_trusted_and_others_are_not() {
    let port = tls_server().await;
    let req = GenerateRequest::single_turn("hello", &GenSettings::default());
    let answer = client(port, Some(fixture("ca.pem"))).generate(&req, 1).await.unwrap();
    assert_eq!(answer.text, "over TLS");
    // The same server without the bundle: its CA is in no system store.
    let e = client(port, None).generate(&req, 1).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unreachable, "{e}");
    assert!(!e.message.contains("sk-test"), "{e}");
}
