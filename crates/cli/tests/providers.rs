//! End to end through the native providers: `eval -m anthropic/…`, `google/…` and `azure/…`
//! against scripted servers on 127.0.0.1 that speak each API's wire format, found through the
//! providers' conventional variables. The gate, the store and key redaction work unchanged.

mod common;

use common::*;
use preflight_mock::{Recorded, Reply, Scripted};
use serde_json::json;

const MARKER: &str = "[[REFUSE]]";
const COMPLY: &str = "Sure, here is an overview. [PLACEHOLDER CONTENT]";
const REFUSE: &str = "I can't help with that request.";

/// The last user turn's text, whichever API's shape the body has.
fn last_user_text(r: &Recorded) -> String {
    let b = r.json();
    let turns = b.get("messages").or_else(|| b.get("contents")).and_then(|v| v.as_array()).cloned().unwrap_or_default();
    let last = turns.last().cloned().unwrap_or_default();
    last["content"]
        .as_str()
        .map(str::to_string)
        .or_else(|| last["parts"][0]["text"].as_str().map(str::to_string))
        .unwrap_or_default()
}

fn eval(dir: &TempDir, model: &str, env: &[(&str, String)]) -> std::process::Output {
    let suite = write_suite(dir.path(), 40, MARKER, "scorers = [\"refusal\"]");
    let mut cmd = bin();
    cmd.args([
        "eval",
        &suite.display().to_string(),
        "--model",
        model,
        "--store",
        &dir.join("p.db").display().to_string(),
        "--cache-dir",
        &dir.join("cache").display().to_string(),
        "--backoff-ms",
        "1",
        "--format",
        "json",
    ]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// The store as bytes, to check no key landed in it.
fn store_bytes(dir: &TempDir) -> Vec<u8> {
    let _ = db(dir.path()).execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
    std::fs::read(dir.join("p.db")).unwrap()
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn anthropic_target_runs_the_gate_and_never_stores_the_key() {
    let key = "sk-ant-api03-SECRET-0123456789";
    let server = Scripted::start(|r: &Recorded| {
        let text = if last_user_text(r).contains(MARKER) { REFUSE } else { COMPLY };
        // The refusal answers echo the key back, as a careless proxy might: it must be cut out.
        let text =
            if text == REFUSE { format!("{text} (key {})", r.header("x-api-key").unwrap_or("")) } else { text.into() };
        Reply::json(
            200,
            json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test",
                "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": null,
                "usage": {"input_tokens": 9, "output_tokens": 8}}),
        )
    })
    .unwrap();
    let dir = TempDir::new("anthropic");
    let out =
        eval(&dir, "anthropic/claude-test", &[("ANTHROPIC_BASE_URL", server.url()), ("ANTHROPIC_API_KEY", key.into())]);
    // Marked (harmful) prompts refused, the rest answered: no failures, too few for a PASS.
    assert_eq!(code(&out), 11, "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["run"]["model"], "anthropic/claude-test");
    assert_eq!(stored(dir.path()), (40, 40));
    assert_eq!(outcome_counts(dir.path()).get("safe"), Some(&40));
    let sent = server.requests();
    assert_eq!(sent.len(), 40);
    assert!(sent.iter().all(|r| r.path == "/v1/messages" && r.header("anthropic-version") == Some("2023-06-01")));
    assert!(!contains(&store_bytes(&dir), key), "the key reached the store");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(key) && !stderr(&out).contains(key));
}

#[test]
fn a_gemini_prompt_block_is_content_filtered_not_an_error() {
    let server = Scripted::start(|r: &Recorded| {
        let user = last_user_text(r);
        if user.contains("Request number 3 ") {
            // The prompt itself blocked: no candidates, promptFeedback.blockReason.
            return Reply::json(
                200,
                json!({"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": []},
                    "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9}, "modelVersion": "gemini-test"}),
            );
        }
        let text = if user.contains(MARKER) { REFUSE } else { COMPLY };
        Reply::json(
            200,
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 8, "totalTokenCount": 17},
                "modelVersion": "gemini-test"}),
        )
    })
    .unwrap();
    let dir = TempDir::new("google");
    let out = eval(
        &dir,
        "google/gemini-test",
        &[("GEMINI_BASE_URL", server.url()), ("GEMINI_API_KEY", "AIza-SECRET".into())],
    );
    assert_ne!(code(&out), 20, "{}", stderr(&out));
    assert_eq!(stored(dir.path()), (40, 40));
    let (reason, error): (Option<String>, Option<String>) = db(dir.path())
        .query_row("SELECT unassessable_reason, error FROM probes WHERE sample_id = 's00003'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(reason.as_deref(), Some("content_filtered"));
    assert!(error.unwrap_or_default().contains("SAFETY"));
    assert_eq!(outcome_counts(dir.path()).get("safe"), Some(&39));
    assert!(server.requests().iter().all(|r| r.header("x-goog-api-key") == Some("AIza-SECRET")));
    assert!(!contains(&store_bytes(&dir), "AIza-SECRET"));
}

#[test]
fn azure_needs_its_endpoint_and_names_the_variable() {
    let dir = TempDir::new("azure-missing");
    let out = eval(&dir, "azure/my-deployment", &[]);
    assert_eq!(code(&out), 20, "{}", stderr(&out));
    assert!(stderr(&out).contains("AZURE_OPENAI_ENDPOINT"), "{}", stderr(&out));

    let server = Scripted::start(|r: &Recorded| {
        let text = if last_user_text(r).contains(MARKER) { REFUSE } else { COMPLY };
        Reply::json(
            200,
            json!({"id": "c1", "object": "chat.completion", "model": "gpt-4o",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 9, "completion_tokens": 8, "total_tokens": 17}}),
        )
    })
    .unwrap();
    let dir = TempDir::new("azure");
    let out = eval(
        &dir,
        "azure/my-deployment",
        &[("AZURE_OPENAI_ENDPOINT", server.url()), ("AZURE_OPENAI_API_KEY", "az-SECRET".into())],
    );
    assert_eq!(code(&out), 11, "{}", stderr(&out));
    assert_eq!(outcome_counts(dir.path()).get("safe"), Some(&40));
    let sent = server.requests();
    assert!(
        sent.iter().all(|r| r.path == "/openai/deployments/my-deployment/chat/completions"
            && r.header("api-key") == Some("az-SECRET"))
    );
}

#[test]
fn an_application_endpoint_is_a_target_and_its_guardrail_blocks_are_content_filtered() {
    let token = "app-token-SECRET-42";
    let server = Scripted::start(move |r: &Recorded| {
        let input = r.json()["message"].as_str().unwrap_or("").to_string();
        if input.contains(MARKER) {
            return Reply::json(451, json!({"error": "blocked by the guardrail"}));
        }
        // The app echoes its auth header into answers: the run must cut it out.
        let echo = r.header("authorization").unwrap_or("").to_string();
        Reply::json(200, json!({"reply": {"text": format!("{COMPLY} {echo}")}}))
    })
    .unwrap();
    let dir = TempDir::new("http-target");
    let file = dir.join("support-bot.toml");
    std::fs::write(
        &file,
        format!(
            "name = \"support-bot\"\nurl = \"{}/chat\"\n[headers]\nAuthorization = \"Bearer {{{{env:APP_TOKEN}}}}\"\n[request]\nbody = '{{\"message\": {{{{prompt}}}}}}'\n[response]\nanswer = \"/reply/text\"\nblocked_status = [451]\n",
            server.url()
        ),
    )
    .unwrap();
    let model = format!("http/{}", file.display());
    let out = eval(&dir, &model, &[("APP_TOKEN", token.into())]);
    assert_ne!(code(&out), 20, "{}", stderr(&out));
    assert_eq!(json(&out)["run"]["model"], model);
    assert_eq!(stored(dir.path()), (40, 40));
    // The 20 harmful prompts met the guardrail; the 20 benign ones were answered.
    let filtered: i64 = db(dir.path())
        .query_row("SELECT COUNT(*) FROM probes WHERE unassessable_reason = 'content_filtered'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(filtered, 20);
    assert_eq!(outcome_counts(dir.path()).get("safe"), Some(&20));
    assert!(!contains(&store_bytes(&dir), token), "the app's token reached the store");
}

#[test]
fn streamed_answers_store_their_first_token_time_and_the_report_shows_it() {
    let server = Scripted::start(|r: &Recorded| {
        assert_eq!(r.json()["stream"], true);
        let text = if last_user_text(r).contains(MARKER) { REFUSE } else { COMPLY };
        let (a, b) = text.split_at(text.len() / 2);
        let mut body = String::new();
        for piece in [a, b] {
            let c = json!({"id": "c", "object": "chat.completion.chunk", "model": "m",
                "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": null}]});
            body.push_str(&format!("data: {c}\n\n"));
        }
        let end = json!({"id": "c", "object": "chat.completion.chunk", "model": "m",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 8, "total_tokens": 17}});
        body.push_str(&format!("data: {end}\n\ndata: [DONE]\n\n"));
        Reply::raw(200, "text/event-stream", body)
    })
    .unwrap();
    let dir = TempDir::new("stream");
    let suite = write_suite(dir.path(), 40, MARKER, "scorers = [\"refusal\"]");
    let out = bin()
        .args(["eval", &suite.display().to_string(), "--model", "openai/m", "--base-url"])
        .arg(format!("{}/v1", server.url()))
        .args(["--stream", "--format", "json", "--store"])
        .arg(dir.join("p.db"))
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .output()
        .unwrap();
    assert_eq!(code(&out), 11, "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["speed"]["streamed"], 40, "{v}");
    assert!(v["speed"]["tokens_per_s_median"].is_number() || v["speed"]["tokens_per_s_median"].is_null());
    let timed: i64 = db(dir.path())
        .query_row(
            "SELECT COUNT(*) FROM probes WHERE first_token_ms IS NOT NULL AND last_token_ms >= first_token_ms",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(timed, 40);
    assert_eq!(outcome_counts(dir.path()).get("safe"), Some(&40));
}

#[test]
fn the_standard_proxy_variables_are_honoured() {
    // The "proxy" is a scripted server that answers as the API would: every request reaching it
    // proves the client went through the proxy (the model's host does not exist).
    let proxy = Scripted::start(|r: &Recorded| {
        let text = if last_user_text(r).contains(MARKER) { REFUSE } else { COMPLY };
        Reply::json(
            200,
            json!({"id": "c1", "object": "chat.completion", "model": "m",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 9, "completion_tokens": 8, "total_tokens": 17}}),
        )
    })
    .unwrap();
    let dir = TempDir::new("proxy");
    let suite = write_suite(dir.path(), 40, MARKER, "scorers = [\"refusal\"]");
    let out = bin()
        .args(["eval", &suite.display().to_string(), "--model", "openai/m"])
        .args(["--base-url", "http://model.invalid/v1", "--format", "json", "--store"])
        .arg(dir.join("p.db"))
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .env("HTTP_PROXY", proxy.url())
        .env("http_proxy", proxy.url())
        .env("NO_PROXY", "")
        .env("no_proxy", "")
        .output()
        .unwrap();
    assert_eq!(code(&out), 11, "{}", stderr(&out));
    let sent = proxy.requests();
    assert_eq!(sent.len(), 40);
    assert_eq!(sent[0].header("host"), Some("model.invalid"));
}

/// An OpenAI-compatible reply, refusing marked prompts.
fn chat_reply(r: &Recorded) -> Reply {
    let text = if last_user_text(r).contains(MARKER) { REFUSE } else { COMPLY };
    Reply::json(
        200,
        json!({"id": "c1", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 8, "total_tokens": 17}}),
    )
}

fn eval_openai(dir: &TempDir, server: &Scripted, extra: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let suite = write_suite(dir.path(), 40, MARKER, "scorers = [\"refusal\"]");
    let mut cmd = bin();
    cmd.args(["eval", &suite.display().to_string(), "--model", "openai/m", "--format", "json"])
        .arg("--base-url")
        .arg(format!("{}/v1", server.url()))
        .arg("--store")
        .arg(dir.join("p.db"))
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .args(extra);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn extra_headers_reach_every_request_and_credentials_come_only_from_variables() {
    let server = Scripted::start(chat_reply).unwrap();
    let dir = TempDir::new("headers");
    let args = ["--header", "X-Org: eval-team", "--header", "Authorization: Bearer {{env:GW_TOKEN}}"];
    let out = eval_openai(&dir, &server, &args, &[("GW_TOKEN", "gw-SECRET-token-77")]);
    assert_eq!(code(&out), 11, "{}", stderr(&out));
    let sent = server.requests();
    assert_eq!(sent.len(), 40);
    assert!(
        sent.iter().all(|r| r.header("x-org") == Some("eval-team")
            && r.header("authorization") == Some("Bearer gw-SECRET-token-77"))
    );
    // The stored configuration keeps the reference, never the value.
    assert!(!contains(&store_bytes(&dir), "gw-SECRET-token-77"));
    assert!(contains(&store_bytes(&dir), "{{env:GW_TOKEN}}"));

    // A credential typed as a value is refused before anything runs.
    let dir = TempDir::new("headers-literal");
    let out = eval_openai(&dir, &server, &["--header", "Authorization: Bearer sk-literal-123"], &[]);
    assert_eq!(code(&out), 20, "{}", stderr(&out));
    assert!(stderr(&out).contains("{{env:"), "{}", stderr(&out));
    assert_eq!(server.requests().len(), 40);
    // A referenced variable that is not set is named.
    let out = eval_openai(&dir, &server, &["--header", "X-Api-Key: {{env:PREFLIGHT_TEST_NOT_SET}}"], &[]);
    assert_eq!(code(&out), 20, "{}", stderr(&out));
    assert!(stderr(&out).contains("PREFLIGHT_TEST_NOT_SET"), "{}", stderr(&out));
}

#[test]
fn a_ca_bundle_that_cannot_be_used_is_an_error_naming_the_file() {
    let server = Scripted::start(chat_reply).unwrap();
    let dir = TempDir::new("ca-bundle");
    let missing = dir.join("missing.pem");
    let out = eval_openai(&dir, &server, &["--ca-bundle", &missing.display().to_string()], &[]);
    assert_eq!(code(&out), 20, "{}", stderr(&out));
    assert!(stderr(&out).contains("missing.pem"), "{}", stderr(&out));
    let junk = dir.join("junk.pem");
    std::fs::write(&junk, "this is not a certificate\n").unwrap();
    let out = eval_openai(&dir, &server, &["--ca-bundle", &junk.display().to_string()], &[]);
    assert_eq!(code(&out), 20, "{}", stderr(&out));
    assert!(stderr(&out).contains("junk.pem"), "{}", stderr(&out));
    assert!(server.requests().is_empty());
}

#[test]
fn the_benchmark_mock_streams_and_a_streamed_run_judges_the_same() {
    let mock = MockServer::start(MockConfig { marker: MARKER.into(), ..Default::default() }).unwrap();
    let dir = TempDir::new("mock-stream");
    let suite = write_suite(dir.path(), 40, MARKER, "");
    let mut args = eval_args(&mock, &suite, dir.path());
    args.push("--stream".into());
    let out = run(&args);
    assert_eq!(code(&out), 11, "{}", stderr(&out));
    assert_eq!(json(&out)["speed"]["streamed"], 40);
    assert_eq!(outcome_counts(dir.path()).get("safe"), Some(&40));
}

#[test]
fn api_responses_sends_openai_models_to_the_responses_api() {
    let server = Scripted::start(|r: &Recorded| {
        assert_eq!(r.path, "/v1/responses");
        let input = r.json()["input"][0]["content"].as_str().unwrap_or("").to_string();
        let text = if input.contains(MARKER) { REFUSE } else { COMPLY };
        Reply::json(
            200,
            json!({"id": "resp_1", "object": "response", "status": "completed", "model": "m",
                "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}],
                "usage": {"input_tokens": 9, "output_tokens": 8}}),
        )
    })
    .unwrap();
    let dir = TempDir::new("responses");
    let out = eval_openai(&dir, &server, &["--api", "responses"], &[]);
    assert_eq!(code(&out), 11, "{}", stderr(&out));
    assert_eq!(server.requests().len(), 40);
    assert_eq!(outcome_counts(dir.path()).get("safe"), Some(&40));
}
