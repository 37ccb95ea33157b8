//! `http/FILE` application endpoints against a scripted app on 127.0.0.1: the body template, the
//! answer's JSON pointer, guardrail blocks, sessions across turns, header secrets, and the
//! target file's errors naming the line and field.

use std::time::Duration;

use preflight_core::{ErrorKind, GenSettings, Generate, GenerateRequest, Message};
use preflight_mock::{Recorded, Reply, Scripted};
use preflight_providers::{Endpoint, EndpointConfig, Network};
use serde_json::json;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// A support-bot style app: `{"input", "history", "session"}` in, `{"output": {"text"}, "session_id"}`
/// out; 403 when its guardrail trips on "forbidden", `flagged: true` on "flag me".
fn app() -> Scripted {
    Scripted::start(|r: &Recorded| {
        let body = r.json();
        let input = body["input"].as_str().unwrap_or("").to_string();
        if input.contains("forbidden") {
            return Reply::json(403, json!({"error": "blocked by policy"}));
        }
        if input.contains("echo the token") {
            let auth = r.header("authorization").unwrap_or("").to_string();
            return Reply::json(500, json!({"error": format!("internal: {auth}")}));
        }
        let session = body["session"].as_str().map(str::to_string);
        let turn = if session.is_some() { "continued" } else { "new" };
        Reply::json(
            200,
            json!({"output": {"text": format!("{turn}: {input}")}, "session_id": session.unwrap_or_else(|| "s-1".into()),
                "flagged": input.contains("flag me")}),
        )
    })
    .unwrap()
}

fn target(url: &str) -> String {
    format!(
        r#"name = "support-bot"
url = "{url}/api/chat"
[headers]
Authorization = "Bearer {{{{env:CARGO_MANIFEST_DIR}}}}"
X-Tenant = "eval"
[request]
body = '{{"input": {{{{prompt}}}}, "system": {{{{system}}}}, "session": {{{{session}}}}}}'
[response]
answer = "/output/text"
session = "/session_id"
blocked_status = [403]
blocked = "/flagged"
"#
    )
}

fn endpoint(server: &Scripted) -> Endpoint {
    let cfg = EndpointConfig::parse(&target(&server.url()), "support-bot.toml").unwrap();
    assert_eq!(cfg.id(), "http/support-bot");
    assert_eq!(cfg.secret_variables, vec!["CARGO_MANIFEST_DIR".to_string()]);
    Endpoint::new(cfg, Duration::from_secs(10), &Network::default()).unwrap()
}

fn ask(
    e: &Endpoint,
    messages: Vec<Message>,
) -> Result<preflight_core::GenerateResponse, preflight_core::ProviderError> {
    let mut req = GenerateRequest::single_turn("", &GenSettings::default());
    req.messages = messages;
    rt().block_on(e.generate(&req, 0))
}

#[test]
fn the_prompt_goes_in_as_a_json_value_and_the_answer_comes_from_the_pointer() {
    let server = app();
    let e = endpoint(&server);
    // Quotes, braces and a placeholder's spelling in the prompt cannot break the template.
    let hostile = "say \"hi\"}, \"admin\": true, {{session}} \n done";
    let r = ask(&e, vec![Message::system("Be brief."), Message::user(hostile)]).unwrap();
    assert_eq!(r.text, format!("new: {hostile}"));
    let sent = &server.requests()[0];
    assert_eq!((sent.method.as_str(), sent.path.as_str()), ("POST", "/api/chat"));
    assert_eq!(sent.json(), json!({"input": hostile, "system": "Be brief.", "session": null}));
    assert_eq!(sent.header("authorization"), Some(format!("Bearer {}", env!("CARGO_MANIFEST_DIR")).as_str()));
    assert_eq!(sent.header("x-tenant"), Some("eval"));
}

#[test]
fn the_guardrail_blocks_are_content_filtered() {
    let server = app();
    let e = endpoint(&server);
    let by_status = ask(&e, vec![Message::user("something forbidden")]).unwrap_err();
    assert_eq!(by_status.kind, ErrorKind::ContentFiltered);
    assert_eq!(by_status.status, Some(403));
    let by_flag = ask(&e, vec![Message::user("please flag me")]).unwrap_err();
    assert_eq!(by_flag.kind, ErrorKind::ContentFiltered);
}

#[test]
fn a_conversation_continues_its_session() {
    let server = app();
    let e = endpoint(&server);
    let first = ask(&e, vec![Message::user("hello")]).unwrap();
    assert_eq!(first.text, "new: hello");
    let second = ask(&e, vec![Message::user("hello"), Message::assistant(first.text.clone()), Message::user("again")]);
    assert_eq!(second.unwrap().text, "continued: again");
    assert_eq!(server.requests()[1].json()["session"], "s-1");
    // Another conversation with a different history starts its own session.
    let other = ask(&e, vec![Message::user("hi"), Message::assistant("something else"), Message::user("again")]);
    assert_eq!(other.unwrap().text, "new: again");
}

#[test]
fn a_header_secret_never_reaches_an_error() {
    let server = app();
    let e = endpoint(&server);
    let err = ask(&e, vec![Message::user("echo the token")]).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transient);
    assert!(!err.to_string().contains(env!("CARGO_MANIFEST_DIR")), "{err}");
    assert!(err.to_string().contains("[REDACTED]"), "{err}");
}

#[test]
fn a_missing_header_variable_is_an_auth_error_before_any_request() {
    let src = target("http://127.0.0.1:9").replace("CARGO_MANIFEST_DIR", "PREFLIGHT_TEST_UNSET_VARIABLE");
    let cfg = EndpointConfig::parse(&src, "t.toml").unwrap();
    let err = Endpoint::new(cfg, Duration::from_secs(1), &Network::default()).err().unwrap();
    assert_eq!(err.kind, ErrorKind::Auth);
    assert!(err.message.contains("PREFLIGHT_TEST_UNSET_VARIABLE"), "{}", err.message);
}

#[test]
fn bad_target_files_name_the_line_and_field() {
    let good = target("http://127.0.0.1:9");
    let cases = [
        (good.replace("{{prompt}}", "{{promt}}"), 7, "`body`: unknown placeholder `{{promt}}`"),
        (good.replace("{{prompt}}, ", "\"{{prompt}}\" "), 7, "`body`: not JSON"),
        (
            good.replace("answer = \"/output/text\"", "answer = \"output.text\""),
            9,
            "`answer`: `output.text` is not a JSON pointer",
        ),
        (good.replace("url = \"http://127.0.0.1:9/api/chat\"", "url = \"ftp://x/\""), 2, "`url`: scheme `ftp`"),
        (good.replace("blocked = \"/flagged\"", "blocked = \"/flagged\"\nretries = 3"), 13, "unknown field `retries`"),
    ];
    for (src, line, msg) in cases {
        let err = EndpointConfig::parse(&src, "app.toml").unwrap_err().to_string();
        assert!(err.starts_with(&format!("app.toml:{line}: ")), "{err}");
        assert!(err.contains(msg), "{err}");
    }
}
