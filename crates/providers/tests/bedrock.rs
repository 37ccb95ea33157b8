//! The Bedrock provider against a scripted Converse API on 127.0.0.1: the signed request it
//! sends, the answers it reads (shaped as the Converse API reference gives them), how it
//! classifies Bedrock's errors, and where its credentials come from.

use std::{collections::HashMap, time::Duration};

use preflight_core::{
    ErrorKind, FinishReason, Generate, GenerateRequest, GenerateResponse, Image, Message, ProviderError, ToolDef,
};
use preflight_mock::{Recorded, Reply, Scripted};
use preflight_providers::{AwsCredentials, Bedrock, BedrockAuth, BedrockConfig};
use serde_json::{Value, json};

const MODEL: &str = "anthropic.claude-3-haiku-20240307-v1:0";
const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN0123456789";

fn config(server: &Scripted, token: Option<&str>) -> BedrockConfig {
    let mut cfg = BedrockConfig::new(MODEL, "us-east-1", BedrockAuth::SigV4(AwsCredentials::new(AKID, SECRET, token)));
    cfg.endpoint = server.url();
    cfg.timeout = Duration::from_secs(10);
    cfg
}

fn provider(server: &Scripted) -> Bedrock {
    Bedrock::new(config(server, None)).unwrap()
}

/// A Converse response as the reference gives it.
fn converse(content: Value, stop_reason: &str) -> Reply {
    Reply::json(
        200,
        json!({
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop_reason,
            "usage": {"inputTokens": 21, "outputTokens": 7, "totalTokens": 28},
            "metrics": {"latencyMs": 312}
        }),
    )
}

/// An error as Bedrock sends it: the type in `x-amzn-ErrorType`, a `message` in the body.
fn error(status: u16, kind: &str, msg: &str) -> Reply {
    Reply::json(status, json!({"message": msg}))
        .with_header("x-amzn-ErrorType", &format!("{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"))
}

fn request(messages: Vec<Message>) -> GenerateRequest {
    GenerateRequest { messages, temperature: None, max_tokens: None, seed: None, constraint: None, tools: Vec::new() }
}

async fn ask(server: &Scripted, req: &GenerateRequest) -> Result<GenerateResponse, ProviderError> {
    provider(server).generate(req, 0).await
}

async fn fail(reply: Reply) -> ProviderError {
    let server = Scripted::start(move |_: &Recorded| reply.clone()).unwrap();
    let e = ask(&server, &request(vec![Message::user("hi")])).await.unwrap_err();
    assert!(!e.to_string().contains(SECRET), "{e}");
    e
}

#[tokio::test]
async fn sends_a_signed_converse_request_and_reads_the_answer() {
    let server = Scripted::start(|_: &Recorded| converse(json!([{"text": "Paris."}]), "end_turn")).unwrap();
    let p = provider(&server);
    assert_eq!(p.model_id(), format!("bedrock/{MODEL}"));
    let req = GenerateRequest {
        messages: vec![Message::system("Be brief."), Message::user("Capital of France?")],
        temperature: Some(0.0),
        max_tokens: Some(64),
        seed: Some(7),
        ..request(vec![])
    };
    let resp = p.generate(&req, 0).await.unwrap();
    assert_eq!(resp.text, "Paris.");
    assert_eq!(resp.finish_reason, FinishReason::Stop);
    assert_eq!((resp.usage.prompt_tokens, resp.usage.completion_tokens), (21, 7));

    let r = &server.requests()[0];
    // The model id's `:` is percent-encoded in the path, as the AWS SDKs send it.
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse")
    );
    let date = r.header("x-amz-date").expect("x-amz-date");
    assert!(date.len() == 16 && date.ends_with('Z') && date.as_bytes()[8] == b'T', "{date}");
    let auth = r.header("authorization").expect("signed");
    let scope = format!("AWS4-HMAC-SHA256 Credential={AKID}/{}/us-east-1/bedrock/aws4_request, ", &date[..8]);
    assert!(auth.starts_with(&scope), "{auth}");
    let signed = auth.split("SignedHeaders=").nth(1).unwrap().split(',').next().unwrap();
    assert!(signed.split(';').any(|h| h == "host") && signed.split(';').any(|h| h == "x-amz-date"), "{signed}");
    let signature = auth.rsplit("Signature=").next().unwrap();
    assert!(signature.len() == 64 && signature.chars().all(|c| c.is_ascii_hexdigit()), "{auth}");
    assert!(!auth.contains(SECRET));
    assert_eq!(r.header("x-amz-security-token"), None, "long-term keys carry no token");
    assert_eq!(
        r.json(),
        json!({
            "messages": [{"role": "user", "content": [{"text": "Capital of France?"}]}],
            "system": [{"text": "Be brief."}],
            "inferenceConfig": {"maxTokens": 64, "temperature": 0.0}
        }),
        "no seed: Converse has none"
    );
}

#[tokio::test]
async fn temporary_credentials_send_their_session_token_signed() {
    let server = Scripted::start(|_: &Recorded| converse(json!([{"text": "ok"}]), "end_turn")).unwrap();
    let p = Bedrock::new(config(&server, Some(TOKEN))).unwrap();
    p.generate(&request(vec![Message::user("hi")]), 0).await.unwrap();
    let r = &server.requests()[0];
    assert_eq!(r.header("x-amz-security-token"), Some(TOKEN));
    let auth = r.header("authorization").unwrap();
    assert!(auth.contains("x-amz-security-token"), "the token is signed: {auth}");
}

#[tokio::test]
async fn an_api_key_goes_as_a_bearer_token() {
    let server = Scripted::start(|_: &Recorded| converse(json!([{"text": "ok"}]), "end_turn")).unwrap();
    let mut cfg = config(&server, None);
    cfg.auth = BedrockAuth::ApiKey("bedrock-api-key-0123456789abcdef".into());
    Bedrock::new(cfg).unwrap().generate(&request(vec![Message::user("hi")]), 0).await.unwrap();
    let r = &server.requests()[0];
    assert_eq!(r.header("authorization"), Some("Bearer bedrock-api-key-0123456789abcdef"));
    assert_eq!(r.header("x-amz-date"), None);
}

#[tokio::test]
async fn images_go_as_bytes_and_a_url_image_is_refused_unsent() {
    let server = Scripted::start(|_: &Recorded| converse(json!([{"text": "A cat."}]), "end_turn")).unwrap();
    let msg = Message::user("What is this?")
        .with_image(Image::Base64 { media_type: "image/png".into(), data: "iVBORw0KGgo=".into() });
    ask(&server, &request(vec![msg])).await.unwrap();
    assert_eq!(
        server.requests()[0].json()["messages"][0]["content"],
        json!([{"text": "What is this?"}, {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}}])
    );
    let msg = Message::user("And this?").with_image(Image::Url { url: "https://example.test/cat.jpg".into() });
    let e = ask(&server, &request(vec![msg])).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permanent);
    assert!(e.message.contains("not URLs"), "{e}");
    assert_eq!(server.requests().len(), 1, "nothing sent");
}

#[tokio::test]
async fn a_tool_call_round_trip_uses_tool_use_and_tool_result_blocks() {
    let server = Scripted::start(|rec: &Recorded| {
        let body = rec.json();
        let last = body["messages"].as_array().unwrap().last().unwrap().clone();
        if last["content"][0].get("toolResult").is_some() {
            converse(json!([{"text": "It is 21 °C in Paris."}]), "end_turn")
        } else {
            converse(
                json!([
                    {"text": "Let me look."},
                    {"toolUse": {"toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "name": "get_weather", "input": {"city": "Paris"}}}
                ]),
                "tool_use",
            )
        }
    })
    .unwrap();
    let p = provider(&server);
    let tool = ToolDef {
        name: "get_weather".into(),
        description: "Current weather in a city".into(),
        parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    };
    let first = GenerateRequest { tools: vec![tool.clone()], ..request(vec![Message::user("Weather in Paris?")]) };
    let resp = p.generate(&first, 0).await.unwrap();
    assert_eq!(resp.finish_reason, FinishReason::ToolCalls);
    assert_eq!(resp.text, "Let me look.");
    let call = resp.tool_calls[0].clone();
    assert_eq!((call.id.as_str(), call.name.as_str()), ("tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "get_weather"));
    assert_eq!(serde_json::from_str::<Value>(&call.arguments).unwrap(), json!({"city": "Paris"}));
    let mut messages = first.messages.clone();
    messages.push(Message::from_response(&resp));
    messages.push(Message::tool_result(&call, "21 °C, sunny", false));
    let resp = p.generate(&GenerateRequest { messages, ..first.clone() }, 0).await.unwrap();
    assert_eq!(resp.text, "It is 21 °C in Paris.");
    let body = server.requests()[1].json();
    assert_eq!(
        body["toolConfig"],
        json!({"tools": [{"toolSpec": {"name": "get_weather", "description": "Current weather in a city", "inputSchema": {"json": tool.parameters}}}]})
    );
    assert_eq!(
        body["messages"][1],
        json!({"role": "assistant", "content": [
            {"text": "Let me look."},
            {"toolUse": {"toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "name": "get_weather", "input": {"city": "Paris"}}}
        ]})
    );
    assert_eq!(
        body["messages"][2],
        json!({"role": "user", "content": [{"toolResult": {
            "toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "content": [{"text": "21 °C, sunny"}], "status": "success"
        }}]})
    );
}

#[tokio::test]
async fn stop_reasons_map_to_finishes_and_a_guardrail_is_content_filtered() {
    for (stop, want) in [
        ("max_tokens", FinishReason::Length),
        ("stop_sequence", FinishReason::Stop),
        ("guardrail_intervened", FinishReason::ContentFilter),
        ("content_filtered", FinishReason::ContentFilter),
    ] {
        let server = Scripted::start(move |_: &Recorded| converse(json!([{"text": "…"}]), stop)).unwrap();
        let resp = ask(&server, &request(vec![Message::user("hi")])).await.unwrap();
        assert_eq!(resp.finish_reason, want, "{stop}");
    }
}

#[tokio::test]
async fn errors_are_classified_by_their_type() {
    let e = fail(
        error(429, "ThrottlingException", "Too many requests, please wait before trying again.")
            .with_header("retry-after", "2"),
    )
    .await;
    assert_eq!(e.kind, ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(2)) });
    assert!(e.message.contains("ThrottlingException"), "{e}");
    assert_eq!(fail(error(503, "ServiceUnavailableException", "busy")).await.kind, ErrorKind::Transient);
    assert_eq!(fail(error(500, "InternalServerException", "oops")).await.kind, ErrorKind::Transient);
    assert_eq!(fail(error(424, "ModelErrorException", "model failed")).await.kind, ErrorKind::Transient);
    let e =
        fail(error(400, "ValidationException", "The model returned the following errors: messages: field required"))
            .await;
    assert_eq!(e.kind, ErrorKind::Permanent);
    assert!(e.message.contains("field required"), "{e}");
    assert_eq!(
        fail(error(403, "AccessDeniedException", "You don't have access to the model")).await.kind,
        ErrorKind::Auth
    );
    assert_eq!(fail(error(404, "ResourceNotFoundException", "no such model")).await.kind, ErrorKind::Permanent);
    let e = fail(Reply::raw(200, "application/json", "{\"output\": ")).await;
    assert_eq!(e.kind, ErrorKind::Transient);
    assert!(e.message.contains("malformed"), "{e}");
}

#[tokio::test]
async fn streaming_is_refused_up_front() {
    let server = Scripted::start(|_: &Recorded| converse(json!([{"text": "ok"}]), "end_turn")).unwrap();
    let mut cfg = config(&server, None);
    cfg.stream = true;
    let e = Bedrock::new(cfg).err().expect("refused");
    assert_eq!(e.kind, ErrorKind::Permanent);
    assert!(e.message.contains("--stream"), "{e}");
}

#[tokio::test]
async fn credentials_and_region_come_from_the_profile_files_and_endpoint_from_the_variable() {
    let server = Scripted::start(|_: &Recorded| converse(json!([{"text": "ok"}]), "end_turn")).unwrap();
    let dir = std::env::temp_dir().join(format!("pf-bedrock-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("credentials"),
        format!("[default]\naws_access_key_id = AKIDDEFAULT000000000\naws_secret_access_key = other\n\n[eval]\naws_access_key_id = {AKID}\naws_secret_access_key = {SECRET}\n"),
    )
    .unwrap();
    std::fs::write(dir.join("config"), "[profile eval]\nregion = eu-west-3\n").unwrap();
    let vars: HashMap<&str, String> = HashMap::from([
        ("AWS_PROFILE", "eval".to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials").display().to_string()),
        ("AWS_CONFIG_FILE", dir.join("config").display().to_string()),
        ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.url()),
    ]);
    let cfg = BedrockConfig::from_env(MODEL, &|n| vars.get(n).cloned()).unwrap();
    assert_eq!((cfg.region.as_str(), cfg.endpoint.as_str()), ("eu-west-3", server.url().as_str()));
    assert!(cfg.secrets().contains(&SECRET.to_string()), "file-read secrets go to the redaction");
    Bedrock::new(cfg).unwrap().generate(&request(vec![Message::user("hi")]), 0).await.unwrap();
    let auth = server.requests()[0].header("authorization").unwrap().to_string();
    assert!(
        auth.contains(&format!("Credential={AKID}/")) && auth.contains("/eu-west-3/bedrock/aws4_request"),
        "{auth}"
    );
    // Without a region anywhere the error says where one goes.
    std::fs::write(dir.join("config"), "[profile eval]\n").unwrap();
    let e = BedrockConfig::from_env(MODEL, &|n| vars.get(n).cloned()).unwrap_err().to_string();
    assert!(e.contains("AWS_REGION"), "{e}");
    // A broken line in a profile file is named with its file and line.
    std::fs::write(dir.join("credentials"), "[eval]\nthis is not a property\n").unwrap();
    let e = BedrockConfig::from_env(MODEL, &|n| vars.get(n).cloned()).unwrap_err().to_string();
    assert!(e.contains("credentials:2"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
