//! The Gemini provider against a scripted `generateContent` API on 127.0.0.1: the request it sends,
//! the answers it reads (including the safety filter's verdicts), and how it classifies errors.

use std::time::Duration;

use preflight_core::{
    ErrorKind, Features, FinishReason, Generate, GenerateRequest, GenerateResponse, Image, Message, ProviderError,
    ToolDef,
};
use preflight_mock::{Recorded, Reply, Scripted};
use preflight_providers::{Google, GoogleConfig};
use serde_json::{Value, json};

const KEY: &str = "AIzaSyTest-0123456789abcdefghijklmnopq";
const MODEL: &str = "gemini-test";

fn provider(server: &Scripted) -> Google {
    let mut cfg = GoogleConfig::new(MODEL);
    cfg.base_url = server.url();
    cfg.api_key = Some(KEY.to_string());
    cfg.timeout = Duration::from_secs(10);
    Google::new(cfg).unwrap()
}

/// A `GenerateContentResponse` with one candidate, shaped as the API reference gives it.
fn answer(parts: Value, finish_reason: &str) -> Reply {
    Reply::json(
        200,
        json!({
            "candidates": [{
                "content": {"parts": parts, "role": "model"},
                "finishReason": finish_reason,
                "index": 0,
                "safetyRatings": [
                    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
                    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "NEGLIGIBLE"}
                ]
            }],
            "usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 4, "totalTokenCount": 15},
            "modelVersion": MODEL,
            "responseId": "mAitaLmkHPPlz7IPvtfUqQ4"
        }),
    )
}

/// A `google.rpc.Status` error body.
fn rpc_error(code: u16, status: &str, message: &str, details: Value) -> Reply {
    Reply::json(code, json!({"error": {"code": code, "message": message, "status": status, "details": details}}))
}

fn request(messages: Vec<Message>) -> GenerateRequest {
    GenerateRequest { messages, temperature: None, max_tokens: None, seed: None, constraint: None, tools: Vec::new() }
}

async fn generate(server: &Scripted, req: &GenerateRequest) -> Result<GenerateResponse, ProviderError> {
    provider(server).generate(req, 0).await
}

async fn error_for(reply: Reply) -> ProviderError {
    let server = Scripted::start(move |_| reply.clone()).unwrap();
    generate(&server, &request(vec![Message::user("hi")])).await.unwrap_err()
}

fn only_request(server: &Scripted) -> Recorded {
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1, "expected one request, got {}", reqs.len());
    reqs.into_iter().next().unwrap()
}

#[tokio::test]
async fn sends_generate_content_and_reads_the_answer() {
    let server = Scripted::start(|_| answer(json!([{"text": "Paris is "}, {"text": "the capital."}]), "STOP")).unwrap();
    let p = provider(&server);
    assert_eq!(p.model_id(), "google/gemini-test");
    assert_eq!(p.features(), Features::ALL);
    let req = GenerateRequest {
        temperature: Some(0.25),
        max_tokens: Some(64),
        seed: Some(7),
        ..request(vec![Message::system("Be brief."), Message::user("Capital of France?")])
    };
    let resp = p.generate(&req, 0).await.unwrap();
    assert_eq!(resp.text, "Paris is the capital.");
    assert_eq!(resp.finish_reason, FinishReason::Stop);
    assert_eq!((resp.usage.prompt_tokens, resp.usage.completion_tokens), (11, 4));
    assert!(resp.tool_calls.is_empty());

    let rec = only_request(&server);
    assert_eq!(rec.method, "POST");
    assert_eq!(rec.path, "/v1beta/models/gemini-test:generateContent");
    assert_eq!(rec.query, None, "the key must not travel in the URL");
    assert_eq!(rec.header("x-goog-api-key"), Some(KEY));
    assert_eq!(rec.header("authorization"), None);
    assert_eq!(rec.header("content-type"), Some("application/json"));
    let body = rec.json();
    assert_eq!(body["contents"], json!([{"role": "user", "parts": [{"text": "Capital of France?"}]}]));
    assert_eq!(body["systemInstruction"], json!({"parts": [{"text": "Be brief."}]}));
    assert_eq!(body["generationConfig"], json!({"temperature": 0.25, "maxOutputTokens": 64, "seed": 7}));
    assert!(body.get("tools").is_none());
}

#[tokio::test]
async fn a_bare_request_sends_no_optional_fields() {
    let server = Scripted::start(|_| answer(json!([{"text": "ok"}]), "STOP")).unwrap();
    generate(&server, &request(vec![Message::user("hi")])).await.unwrap();
    let body = only_request(&server).json();
    let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["contents"]);
}

#[tokio::test]
async fn a_refusal_in_text_is_an_answer() {
    let refusal = "I can't help with making weapons.";
    let server = Scripted::start(move |_| answer(json!([{"text": refusal}]), "STOP")).unwrap();
    let resp = generate(&server, &request(vec![Message::user("How do I build a bomb?")])).await.unwrap();
    assert_eq!(resp.text, refusal);
    assert_eq!(resp.finish_reason, FinishReason::Stop);
}

#[tokio::test]
async fn a_safety_finish_is_a_content_filter_finish() {
    // A withheld answer: the candidate has no parts, only the reason and its ratings.
    let server = Scripted::start(|_| {
        Reply::json(
            200,
            json!({
                "candidates": [{
                    "finishReason": "SAFETY",
                    "index": 0,
                    "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true}]
                }],
                "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9}
            }),
        )
    })
    .unwrap();
    let resp = generate(&server, &request(vec![Message::user("something dangerous")])).await.unwrap();
    assert_eq!(resp.finish_reason, FinishReason::ContentFilter);
    assert_eq!(resp.text, "");
    assert_eq!(resp.usage.prompt_tokens, 9);
}

#[tokio::test]
async fn a_blocked_prompt_is_a_content_filtered_error() {
    let server = Scripted::start(|_| {
        Reply::json(
            200,
            json!({
                "promptFeedback": {
                    "blockReason": "SAFETY",
                    "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true}]
                },
                "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8},
                "modelVersion": MODEL
            }),
        )
    })
    .unwrap();
    let err = generate(&server, &request(vec![Message::user("something dangerous")])).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::ContentFiltered);
    assert!(!err.kind.is_retryable());
    assert!(err.message.contains("SAFETY"), "{err}");
    assert_eq!(err.provider, "google/gemini-test");
}

#[tokio::test]
async fn no_candidates_and_no_block_reason_is_transient() {
    let server = Scripted::start(|_| Reply::json(200, json!({"usageMetadata": {"promptTokenCount": 3}}))).unwrap();
    let err = generate(&server, &request(vec![Message::user("hi")])).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transient);
}

#[tokio::test]
async fn a_429_waits_for_the_retry_info_delay() {
    let details = json!([
        {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]
        },
        {"@type": "type.googleapis.com/google.rpc.Help", "links": [{"description": "Learn more", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "30s"}
    ]);
    let err = error_for(rpc_error(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota.", details)).await;
    assert_eq!(err.kind, ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(30)) });
    assert_eq!(err.status, Some(429));
    assert!(err.message.contains("RESOURCE_EXHAUSTED"), "{err}");

    let fractional = json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.5s"}]);
    let err = error_for(rpc_error(429, "RESOURCE_EXHAUSTED", "Slow down.", fractional)).await;
    assert_eq!(err.kind, ErrorKind::RateLimited { retry_after: Some(Duration::from_millis(1500)) });
}

#[tokio::test]
async fn a_retry_after_header_wins_over_the_body() {
    let details = json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "30s"}]);
    let reply = rpc_error(429, "RESOURCE_EXHAUSTED", "Slow down.", details).with_header("retry-after", "7");
    let err = error_for(reply).await;
    assert_eq!(err.kind, ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(7)) });

    let err = error_for(rpc_error(429, "RESOURCE_EXHAUSTED", "Slow down.", json!([]))).await;
    assert_eq!(err.kind, ErrorKind::RateLimited { retry_after: None });
}

#[tokio::test]
async fn server_errors_are_retryable() {
    let err =
        error_for(rpc_error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.", json!([]))).await;
    assert_eq!(err.kind, ErrorKind::Transient);
    assert!(err.kind.is_retryable());

    let delayed = json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "5s"}]);
    let err = error_for(rpc_error(503, "UNAVAILABLE", "The model is overloaded.", delayed)).await;
    assert_eq!(err.kind, ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(5)) });

    let err = error_for(rpc_error(500, "INTERNAL", "An internal error has occurred.", json!([]))).await;
    assert_eq!(err.kind, ErrorKind::Transient);
    let err =
        error_for(rpc_error(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.", json!([])))
            .await;
    assert_eq!(err.kind, ErrorKind::Transient);
    // A proxy's HTML page instead of a google.rpc body.
    let err = error_for(Reply::raw(502, "text/html", "<html><body>Bad Gateway</body></html>")).await;
    assert_eq!(err.kind, ErrorKind::Transient);
    assert!(err.message.contains("Bad Gateway"), "{err}");
}

#[tokio::test]
async fn permission_denied_and_a_bad_key_are_auth_errors() {
    let err =
        error_for(rpc_error(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers.", json!([]))).await;
    assert_eq!(err.kind, ErrorKind::Auth);

    let details = json!([{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "API_KEY_INVALID",
        "domain": "googleapis.com",
        "metadata": {"service": "generativelanguage.googleapis.com"}
    }]);
    let err =
        error_for(rpc_error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", details)).await;
    assert_eq!(err.kind, ErrorKind::Auth);
    assert!(err.message.contains("API_KEY_INVALID"), "{err}");
}

#[tokio::test]
async fn bad_requests_are_permanent() {
    let err = error_for(rpc_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.", json!([]))).await;
    assert_eq!(err.kind, ErrorKind::Permanent);
    assert!(err.message.contains("Invalid JSON payload"), "{err}");
    let err =
        error_for(rpc_error(400, "FAILED_PRECONDITION", "User location is not supported for the API use.", json!([])))
            .await;
    assert_eq!(err.kind, ErrorKind::Permanent);
    let err =
        error_for(rpc_error(404, "NOT_FOUND", "models/gemini-test is not found for API version v1beta.", json!([])))
            .await;
    assert_eq!(err.kind, ErrorKind::Permanent);
}

#[tokio::test]
async fn a_malformed_body_is_transient() {
    let server = Scripted::start(|_| Reply::raw(200, "application/json", "{\"candidates\": [tru")).unwrap();
    let err = generate(&server, &request(vec![Message::user("hi")])).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transient);
    assert!(err.message.contains("malformed"), "{err}");
    assert!(err.message.contains("candidates"), "the message quotes the body: {err}");
}

#[tokio::test]
async fn the_key_never_appears_in_errors() {
    // The mock echoes the key it was sent, in an error body and in a garbled 200.
    let echo = |rec: &Recorded| rec.header("x-goog-api-key").unwrap_or_default().to_string();
    let server = Scripted::start(move |rec| {
        let key = echo(rec);
        rpc_error(400, "INVALID_ARGUMENT", &format!("API key {key} not valid."), json!([]))
    })
    .unwrap();
    let err = generate(&server, &request(vec![Message::user("hi")])).await.unwrap_err();
    assert!(!err.to_string().contains(KEY), "{err}");
    assert!(err.message.contains("[REDACTED]"), "{err}");

    let server = Scripted::start(move |rec| Reply::raw(200, "text/plain", format!("oops {} oops", echo(rec)))).unwrap();
    let err = generate(&server, &request(vec![Message::user("hi")])).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transient);
    assert!(!err.to_string().contains(KEY), "{err}");

    // A key past the point where the quote is cut must not leak a prefix either.
    let server =
        Scripted::start(move |rec| Reply::raw(500, "text/plain", format!("{}{}", "x".repeat(390), echo(rec)))).unwrap();
    let err = generate(&server, &request(vec![Message::user("hi")])).await.unwrap_err();
    assert!(!err.message.contains(&KEY[..8]), "{err}");

    let cfg = GoogleConfig { api_key: Some(KEY.into()), ..GoogleConfig::new(MODEL) };
    assert!(!format!("{cfg:?}").contains(KEY));
}

#[tokio::test]
async fn an_unreachable_server_is_unreachable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut cfg = GoogleConfig::new(MODEL);
    cfg.base_url = format!("http://127.0.0.1:{port}");
    cfg.api_key = Some(KEY.into());
    let err = Google::new(cfg).unwrap().generate(&request(vec![Message::user("hi")]), 0).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unreachable);
    assert!(!err.to_string().contains(KEY));
}

#[tokio::test]
async fn a_function_call_round_trip() {
    // The mock answers a turn that ends in a function response with text, anything else with a call.
    let server = Scripted::start(|rec| {
        let body = rec.json();
        let last = body["contents"].as_array().and_then(|c| c.last()).cloned().unwrap_or_default();
        if last["parts"][0].get("functionResponse").is_some() {
            answer(json!([{"text": "It is 21 °C in Paris."}]), "STOP")
        } else {
            answer(
                json!([{
                    "functionCall": {"name": "get_weather", "args": {"city": "Paris", "unit": "celsius"}},
                    "thoughtSignature": "CiQB0e2Kb8Xw"
                }]),
                "STOP",
            )
        }
    })
    .unwrap();
    let p = provider(&server);
    let tool = ToolDef {
        name: "get_weather".into(),
        description: "Current weather in a city".into(),
        parameters: json!({
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city"],
            "additionalProperties": false
        }),
    };
    let first = GenerateRequest { tools: vec![tool], ..request(vec![Message::user("Weather in Paris?")]) };
    let resp = p.generate(&first, 0).await.unwrap();
    assert_eq!(resp.finish_reason, FinishReason::ToolCalls);
    assert_eq!(resp.text, "");
    assert_eq!(resp.tool_calls.len(), 1);
    let call = &resp.tool_calls[0];
    assert_eq!((call.id.as_str(), call.name.as_str()), ("call_0", "get_weather"));
    assert_eq!(call.signature.as_deref(), Some("CiQB0e2Kb8Xw"));
    let args: Value = serde_json::from_str(&call.arguments).unwrap();
    assert_eq!(args, json!({"city": "Paris", "unit": "celsius"}));

    let mut messages = first.messages.clone();
    messages.push(Message::from_response(&resp));
    messages.push(Message::tool_result(call, "21 °C, sunny", false));
    let second = GenerateRequest { messages, ..first.clone() };
    let resp = p.generate(&second, 0).await.unwrap();
    assert_eq!(resp.text, "It is 21 °C in Paris.");
    assert_eq!(resp.finish_reason, FinishReason::Stop);

    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    let body = reqs[0].json();
    assert_eq!(
        body["tools"],
        json!([{"functionDeclarations": [{
            "name": "get_weather",
            "description": "Current weather in a city",
            "parametersJsonSchema": first.tools[0].parameters
        }]}])
    );
    let body = reqs[1].json();
    let contents = body["contents"].as_array().unwrap();
    assert_eq!(contents.len(), 3);
    assert_eq!(contents[0], json!({"role": "user", "parts": [{"text": "Weather in Paris?"}]}));
    assert_eq!(
        contents[1],
        json!({"role": "model", "parts": [{
            "functionCall": {"name": "get_weather", "args": {"city": "Paris", "unit": "celsius"}},
            "thoughtSignature": "CiQB0e2Kb8Xw"
        }]}),
        "the signed call goes back with its own signature"
    );
    assert_eq!(
        contents[2],
        json!({"role": "user", "parts": [{
            "functionResponse": {"name": "get_weather", "response": {"output": "21 °C, sunny"}}
        }]})
    );
    assert!(body.get("tools").is_some(), "the follow-up still declares the tools");
}

#[tokio::test]
async fn parallel_calls_keep_gemini_ids_and_their_results_share_a_turn() {
    let server = Scripted::start(|_| {
        answer(
            json!([
                {"text": "Checking both."},
                {"functionCall": {"id": "fc-a", "name": "lookup", "args": {"q": "a"}}},
                {"functionCall": {"id": "fc-b", "name": "lookup"}}
            ]),
            "STOP",
        )
    })
    .unwrap();
    let p = provider(&server);
    let resp = p.generate(&request(vec![Message::user("both")]), 0).await.unwrap();
    assert_eq!(resp.text, "Checking both.");
    assert_eq!(resp.finish_reason, FinishReason::ToolCalls);
    let ids: Vec<&str> = resp.tool_calls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["fc-a", "fc-b"]);
    assert_eq!(resp.tool_calls[1].arguments, "{}");

    let messages = vec![
        Message::user("both"),
        Message::from_response(&resp),
        Message::tool_result(&resp.tool_calls[0], "found a", false),
        Message::tool_result(&resp.tool_calls[1], "no such entry", true),
    ];
    p.generate(&request(messages), 0).await.unwrap();
    let body = server.requests()[1].json();
    let contents = body["contents"].as_array().unwrap();
    assert_eq!(contents.len(), 3);
    assert_eq!(
        contents[1]["parts"],
        json!([
            {"text": "Checking both."},
            {"functionCall": {"id": "fc-a", "name": "lookup", "args": {"q": "a"}}, "thoughtSignature": "skip_thought_signature_validator"},
            {"functionCall": {"id": "fc-b", "name": "lookup", "args": {}}}
        ])
    );
    assert_eq!(
        contents[2],
        json!({"role": "user", "parts": [
            {"functionResponse": {"id": "fc-a", "name": "lookup", "response": {"output": "found a"}}},
            {"functionResponse": {"id": "fc-b", "name": "lookup", "response": {"error": "no such entry"}}}
        ]})
    );
}

#[tokio::test]
async fn images_become_inline_data_and_file_data_parts() {
    let server = Scripted::start(|_| answer(json!([{"text": "A cat."}]), "STOP")).unwrap();
    let msg = Message::user("What is in these?")
        .with_image(Image::Base64 { media_type: "image/png".into(), data: "iVBORw0KGgo=".into() })
        .with_image(Image::Url { url: "https://example.test/cat.JPG?w=200".into() })
        .with_image(Image::Url { url: "data:image/webp;base64,UklGRg==".into() });
    generate(&server, &request(vec![msg])).await.unwrap();
    let body = only_request(&server).json();
    assert_eq!(
        body["contents"],
        json!([{"role": "user", "parts": [
            {"text": "What is in these?"},
            {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
            {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.test/cat.JPG?w=200"}},
            {"inlineData": {"mimeType": "image/webp", "data": "UklGRg=="}}
        ]}])
    );
}

#[tokio::test]
async fn thought_summaries_are_not_the_answer_and_thinking_tokens_count_as_output() {
    let server = Scripted::start(|_| {
        Reply::json(
            200,
            json!({
                "candidates": [{
                    "content": {"role": "model", "parts": [
                        {"text": "The user wants a number...", "thought": true},
                        {"text": "42"}
                    ]},
                    "finishReason": "STOP"
                }],
                "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 1, "thoughtsTokenCount": 30}
            }),
        )
    })
    .unwrap();
    let resp = generate(&server, &request(vec![Message::user("Answer?")])).await.unwrap();
    assert_eq!(resp.text, "42");
    assert_eq!((resp.usage.prompt_tokens, resp.usage.completion_tokens), (5, 31));
}

#[tokio::test]
async fn max_tokens_is_a_length_finish() {
    let server = Scripted::start(|_| answer(json!([{"text": "Once upon a"}]), "MAX_TOKENS")).unwrap();
    let resp = generate(&server, &request(vec![Message::user("story")])).await.unwrap();
    assert_eq!(resp.finish_reason, FinishReason::Length);
}

// Streaming: `streamGenerateContent?alt=sse`. Every `data:` is a whole `GenerateContentResponse`
// holding the next parts; the chunk with a `finishReason` is the last. The API separates events
// with CRLF blank lines, so the bodies here do too.

fn streaming(server: &Scripted) -> Google {
    let mut cfg = GoogleConfig::new(MODEL);
    cfg.base_url = server.url();
    cfg.api_key = Some(KEY.to_string());
    cfg.timeout = Duration::from_secs(10);
    cfg.stream = true;
    Google::new(cfg).unwrap()
}

/// An SSE body of `data:` events.
fn sse(chunks: &[Value]) -> String {
    chunks.iter().map(|c| format!("data: {c}\r\n\r\n")).collect()
}

fn event_stream(body: String) -> Reply {
    Reply::raw(200, "text/event-stream", body)
}

/// One chunk: its parts, a finish reason on the last, and the usage so far (as the API sends it,
/// cumulative in every chunk).
fn chunk(parts: Value, finish_reason: Option<&str>, candidates_tokens: u32) -> Value {
    let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
    if let Some(r) = finish_reason {
        candidate["finishReason"] = r.into();
    }
    json!({
        "candidates": [candidate],
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": candidates_tokens,
            "totalTokenCount": 5 + candidates_tokens + 186, "thoughtsTokenCount": 186},
        "modelVersion": MODEL,
        "responseId": "AdVRaMmDCYekqtsPrb_-iAw"
    })
}

fn hello_chunks() -> Vec<Value> {
    vec![
        chunk(json!([{"text": "Here you go!\n\n1. **English:** Hi\n"}]), None, 12),
        chunk(json!([{"text": "2. **Spanish:** Hola\n"}]), None, 20),
        chunk(json!([{"text": "3. **Italian:** Ciao"}]), Some("STOP"), 27),
    ]
}

/// A scripted server's answer, boxed so one test can try several.
type Handler = Box<dyn Fn(&Recorded) -> Reply + Send + Sync>;

async fn stream_fail(reply: Reply) -> ProviderError {
    let server = Scripted::start(move |_| reply.clone()).unwrap();
    streaming(&server).generate(&request(vec![Message::user("hi")]), 0).await.unwrap_err()
}

#[tokio::test]
async fn a_streamed_answer_comes_back_whole() {
    let server = Scripted::start(|_| event_stream(sse(&hello_chunks()))).unwrap();
    let p = streaming(&server);
    let req = GenerateRequest { max_tokens: Some(64), ..request(vec![Message::user("Say hi in three languages")]) };
    let resp = p.generate(&req, 0).await.unwrap();
    assert_eq!(resp.text, "Here you go!\n\n1. **English:** Hi\n2. **Spanish:** Hola\n3. **Italian:** Ciao");
    assert_eq!(resp.finish_reason, FinishReason::Stop);
    assert_eq!((resp.usage.prompt_tokens, resp.usage.completion_tokens), (5, 27 + 186), "the last usage");
    assert!(resp.tool_calls.is_empty());
    assert!(resp.first_token_ms.is_some(), "time to first token is measured");

    let rec = only_request(&server);
    assert_eq!(rec.method, "POST");
    assert_eq!(rec.path, "/v1beta/models/gemini-test:streamGenerateContent");
    assert_eq!(rec.query.as_deref(), Some("alt=sse"), "and the key not in the URL");
    assert_eq!(rec.header("x-goog-api-key"), Some(KEY));
    assert_eq!(
        rec.json(),
        json!({
            "contents": [{"role": "user", "parts": [{"text": "Say hi in three languages"}]}],
            "generationConfig": {"maxOutputTokens": 64}
        }),
        "the same body as generateContent"
    );
    assert!(p.url().ends_with(":streamGenerateContent?alt=sse"));
}

#[tokio::test]
async fn thought_parts_in_a_stream_are_not_the_answer() {
    let chunks = vec![
        chunk(json!([{"text": "The user wants a number...", "thought": true}]), None, 0),
        chunk(json!([{"text": "42"}]), Some("STOP"), 1),
    ];
    let server = Scripted::start(move |_| event_stream(sse(&chunks))).unwrap();
    let resp = streaming(&server).generate(&request(vec![Message::user("Answer?")]), 0).await.unwrap();
    assert_eq!(resp.text, "42");
}

#[tokio::test]
async fn a_streamed_function_call_comes_back_whole() {
    let chunks = vec![
        chunk(json!([{"text": "Checking."}]), None, 2),
        chunk(
            json!([
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris", "unit": "celsius"}},
                 "thoughtSignature": "CiQB0e2Kb8Xw"},
                {"functionCall": {"id": "fc-b", "name": "get_time"}}
            ]),
            Some("STOP"),
            9,
        ),
    ];
    let server = Scripted::start(move |_| event_stream(sse(&chunks))).unwrap();
    let resp = streaming(&server).generate(&request(vec![Message::user("Weather in Paris?")]), 0).await.unwrap();
    assert_eq!(resp.text, "Checking.");
    assert_eq!(resp.finish_reason, FinishReason::ToolCalls, "Gemini says STOP when it calls functions");
    assert_eq!(resp.tool_calls.len(), 2);
    let call = &resp.tool_calls[0];
    assert_eq!((call.id.as_str(), call.name.as_str()), ("call_0", "get_weather"));
    assert_eq!(serde_json::from_str::<Value>(&call.arguments).unwrap(), json!({"city": "Paris", "unit": "celsius"}));
    assert_eq!(call.signature.as_deref(), Some("CiQB0e2Kb8Xw"), "the signature streamed with the call is kept");
    let call = &resp.tool_calls[1];
    assert_eq!((call.id.as_str(), call.name.as_str(), call.arguments.as_str()), ("fc-b", "get_time", "{}"));
    assert_eq!(call.signature, None);
}

#[tokio::test]
async fn a_stream_without_a_finish_reason_is_cut() {
    let chunks = hello_chunks();
    let whole = sse(&chunks);
    let cut_mid_event = whole[..whole.len() - 40].to_string();
    for body in [sse(&chunks[..2]), sse(&chunks[..1]), cut_mid_event, String::new()] {
        let e = stream_fail(event_stream(body)).await;
        assert_eq!(e.kind, ErrorKind::Transient, "{e}");
        assert!(e.kind.is_retryable());
    }
}

#[tokio::test]
async fn a_safety_finish_in_a_stream_is_a_content_filter_finish() {
    let chunks = vec![
        chunk(json!([{"text": "Step one: "}]), None, 3),
        json!({
            "candidates": [{
                "finishReason": "SAFETY",
                "index": 0,
                "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true}]
            }],
            "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 3, "totalTokenCount": 12}
        }),
    ];
    let server = Scripted::start(move |_| event_stream(sse(&chunks))).unwrap();
    let resp = streaming(&server).generate(&request(vec![Message::user("something dangerous")]), 0).await.unwrap();
    assert_eq!(resp.finish_reason, FinishReason::ContentFilter);
    assert_eq!(resp.text, "Step one: ");
    assert_eq!((resp.usage.prompt_tokens, resp.usage.completion_tokens), (9, 3));
}

#[tokio::test]
async fn a_blocked_prompt_in_a_stream_is_a_content_filtered_error() {
    let blocked = json!({
        "promptFeedback": {
            "blockReason": "PROHIBITED_CONTENT",
            "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true}]
        },
        "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8},
        "modelVersion": MODEL
    });
    let e = stream_fail(event_stream(sse(&[blocked]))).await;
    assert_eq!(e.kind, ErrorKind::ContentFiltered);
    assert!(!e.kind.is_retryable());
    assert!(e.message.contains("PROHIBITED_CONTENT"), "{e}");
}

#[tokio::test]
async fn an_error_chunk_mid_stream_is_classified_like_an_error_body() {
    let mut chunks = hello_chunks()[..1].to_vec();
    chunks.push(json!({"error": {"code": 503, "message": "The model is overloaded. Please try again later.",
        "status": "UNAVAILABLE"}}));
    let e = stream_fail(event_stream(sse(&chunks))).await;
    assert_eq!(e.kind, ErrorKind::Transient, "{e}");
    assert!(e.kind.is_retryable());
    assert!(e.message.contains("UNAVAILABLE"), "{e}");

    let mut chunks = hello_chunks()[..1].to_vec();
    chunks.push(json!({"error": {"code": 500, "message": "An internal error has occurred.", "status": "INTERNAL"}}));
    assert_eq!(stream_fail(event_stream(sse(&chunks))).await.kind, ErrorKind::Transient);
}

#[tokio::test]
async fn an_error_status_on_a_streaming_request_is_classified_as_without_streaming() {
    let details = json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "30s"}]);
    let reply = rpc_error(429, "RESOURCE_EXHAUSTED", "Slow down.", details.clone()).with_header("retry-after", "7");
    let e = stream_fail(reply).await;
    assert_eq!(e.kind, ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(7)) });
    assert_eq!(e.status, Some(429));
    assert!(e.message.contains("RESOURCE_EXHAUSTED"), "{e}");
    let e = stream_fail(rpc_error(429, "RESOURCE_EXHAUSTED", "Slow down.", details)).await;
    assert_eq!(e.kind, ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(30)) });
    let e = stream_fail(rpc_error(503, "UNAVAILABLE", "The model is overloaded.", json!([]))).await;
    assert_eq!(e.kind, ErrorKind::Transient);
    let e =
        stream_fail(rpc_error(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers.", json!([]))).await;
    assert_eq!(e.kind, ErrorKind::Auth);
}

#[tokio::test]
async fn the_key_never_appears_in_streaming_errors() {
    let echo = |rec: &Recorded| rec.header("x-goog-api-key").unwrap_or_default().to_string();
    let replies: Vec<Handler> = vec![
        Box::new(move |rec| {
            rpc_error(400, "INVALID_ARGUMENT", &format!("API key {} not valid.", echo(rec)), json!([]))
        }),
        Box::new(move |rec| {
            let mut chunks = hello_chunks()[..1].to_vec();
            chunks.push(json!({"error": {"code": 500, "message": format!("saw {}", echo(rec)), "status": "INTERNAL"}}));
            event_stream(sse(&chunks))
        }),
        Box::new(move |rec| event_stream(format!("data: {{\"candidates\": [{}, trunc\r\n\r\n", echo(rec)))),
    ];
    for reply in replies {
        let server = Scripted::start(reply).unwrap();
        let e = streaming(&server).generate(&request(vec![Message::user("hi")]), 0).await.unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(KEY), "{shown}");
        assert!(e.message.contains("[REDACTED]"), "{shown}");
    }
    let cfg = GoogleConfig { api_key: Some(KEY.into()), stream: true, ..GoogleConfig::new(MODEL) };
    assert!(!format!("{cfg:?}").contains(KEY));
}
