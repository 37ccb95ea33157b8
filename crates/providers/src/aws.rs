//! What an AWS API needs besides its wire format: credentials, the region and the endpoint, found
//! where the AWS SDKs and CLI look for them, and SigV4 signing (the `aws-sigv4` crate's).
//!
//! Everything is read through a lookup function rather than from the process environment
//! directly, so a run passes `std::env::var` and a test a map of its own: no test has to set
//! process-wide variables, which other tests running in parallel would see.

use std::{
    collections::HashMap,
    fmt,
    path::{Path, PathBuf},
    time::SystemTime,
};

use aws_sigv4::{
    http_request::{SignableBody, SignableRequest, SigningSettings, sign},
    sign::v4,
};

/// Long-term or temporary AWS credentials. Printed, the secret parts are redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Temporary credentials' session token (sent as `x-amz-security-token`).
    pub session_token: Option<String>,
}

impl AwsCredentials {
    pub fn new(access_key_id: &str, secret_access_key: &str, session_token: Option<&str>) -> Self {
        AwsCredentials {
            access_key_id: access_key_id.to_string(),
            secret_access_key: secret_access_key.to_string(),
            session_token: session_token.map(str::to_string),
        }
    }

    /// The values to cut out of every text: the secret key and the session token. The access key
    /// id is not secret (it is sent in every request's `authorization` header).
    pub fn secrets(&self) -> Vec<String> {
        std::iter::once(self.secret_access_key.clone()).chain(self.session_token.clone()).collect()
    }
}

// By hand, so printing credentials for diagnostics cannot print the secret parts.
impl fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[REDACTED]")
            .field("session_token", &self.session_token.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

/// A request's SigV4 signature: the headers to add to it, and the signature itself (to cut out
/// of error bodies that echo it).
pub(crate) struct Signed {
    pub headers: Vec<(&'static str, String)>,
    pub signature: String,
}

/// Signs a request with SigV4 for `service` in `region` at `time`. `url` must be in its encoded
/// form, exactly as sent; `headers` are the ones to sign besides `host` and `x-amz-date` (which
/// the signer adds). `content_sha256` adds the `x-amz-content-sha256` header (S3 wants it; most
/// services, Bedrock among them, do not).
pub(crate) fn sign_v4(
    credentials: &AwsCredentials,
    region: &str,
    service: &str,
    request: (&str, &str, &[(&str, &str)], &[u8]),
    content_sha256: bool,
    time: SystemTime,
) -> Result<Signed, String> {
    let (method, url, headers, body) = request;
    let identity = aws_credential_types::Credentials::new(
        &credentials.access_key_id,
        &credentials.secret_access_key,
        credentials.session_token.clone(),
        None,
        "preflight",
    )
    .into();
    let mut settings = SigningSettings::default();
    if content_sha256 {
        settings.payload_checksum_kind = aws_sigv4::http_request::PayloadChecksumKind::XAmzSha256;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| format!("cannot sign the request: {e}"))?
        .into();
    let signable = SignableRequest::new(method, url, headers.iter().copied(), SignableBody::Bytes(body))
        .map_err(|e| format!("cannot sign the request: {e}"))?;
    let (instructions, signature) =
        sign(signable, &params).map_err(|e| format!("cannot sign the request: {e}"))?.into_parts();
    let (headers, _params) = instructions.into_parts();
    Ok(Signed { headers: headers.into_iter().map(|h| (h.name(), h.value().to_string())).collect(), signature })
}

/// A problem with the AWS settings: no credentials or region, a profile file that cannot be read.
/// Messages name the variables and the file and line; they never hold a credential's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AwsConfigError(pub String);

/// One `name = value` of a profile file, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Property {
    pub value: String,
    pub file: PathBuf,
    pub line: usize,
}

impl Property {
    fn at(&self) -> String {
        format!("{}:{}", self.file.display(), self.line)
    }
}

/// Which of the two shared files a text is: their section headers differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    /// `~/.aws/config`: `[default]` or `[profile NAME]`; other sections (`[sso-session …]`,
    /// `[services …]`) are not profiles.
    Config,
    /// `~/.aws/credentials`: `[NAME]`.
    Credentials,
}

/// Profiles by name, each its properties by (lower-case) name.
pub(crate) type Profiles = HashMap<String, HashMap<String, Property>>;

/// Parses a shared config or credentials file as the AWS SDKs do. Written here rather than taken
/// from an INI crate because the format is not plain INI: `[profile NAME]` means NAME in one file
/// and nothing in the other, a comment on a property line needs whitespace before its `#` or `;`
/// (a secret key may hold either), indented lines continue the property above (sub-properties
/// such as `s3 =` blocks), and an error must name the line without quoting it, since the line
/// may hold a secret.
pub(crate) fn parse_profiles(text: &str, kind: FileKind, file: &Path) -> Result<Profiles, AwsConfigError> {
    let err = |line: usize, what: &str| AwsConfigError(format!("{}:{line}: {what}", file.display()));
    let mut profiles = Profiles::new();
    // The profile the lines belong to: `None` before the first header, `Some(None)` in a section
    // that is not a profile (its lines are skipped), `Some(Some(name))` in a profile.
    let mut current: Option<Option<String>> = None;
    let mut last_key: Option<String> = None;
    let mut default_explicit = false;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if raw.starts_with([' ', '\t']) {
            // A continuation of the property above (sub-properties are kept as its text).
            match (&current, &last_key) {
                (Some(Some(p)), Some(k)) => {
                    let prop = profiles.get_mut(p).and_then(|m| m.get_mut(k)).expect("the property above exists");
                    prop.value.push('\n');
                    prop.value.push_str(trimmed);
                }
                (Some(None), _) => {}
                _ => return Err(err(n, "an indented line continues no property")),
            }
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix('[') {
            // Comments after a header need no whitespace before them.
            let end = rest.find(']').ok_or_else(|| err(n, "a section header without its closing `]`"))?;
            let after = rest[end + 1..].trim();
            if !(after.is_empty() || after.starts_with('#') || after.starts_with(';')) {
                return Err(err(n, "unexpected text after a section header"));
            }
            let section = rest[..end].trim();
            let name = match kind {
                FileKind::Credentials => Some(section.to_string()),
                FileKind::Config if section == "default" => Some("default".into()),
                FileKind::Config => {
                    section.strip_prefix("profile").filter(|r| r.starts_with([' ', '\t'])).map(|r| r.trim().to_string())
                }
            };
            let mut name = name.filter(|s| !s.is_empty() && !s.contains(char::is_whitespace));
            // In the config file `[profile default]` wins over `[default]` wherever each is, as in
            // the SDKs; otherwise a repeated header continues the same profile.
            if kind == FileKind::Config && name.as_deref() == Some("default") {
                if section != "default" && !default_explicit {
                    default_explicit = true;
                    profiles.remove("default");
                } else if section == "default" && default_explicit {
                    name = None;
                }
            }
            if let Some(name) = &name {
                profiles.entry(name.clone()).or_default();
            }
            current = Some(name);
            last_key = None;
            continue;
        }
        let Some(profile) = &current else {
            return Err(err(n, "a property before any profile's `[section]` header"));
        };
        let (key, value) = trimmed.split_once('=').ok_or_else(|| err(n, "expected `name = value`"))?;
        let key = key.trim().to_ascii_lowercase();
        if key.is_empty() {
            return Err(err(n, "a property without a name before its `=`"));
        }
        let Some(profile) = profile else { continue };
        let value = strip_comment(value).trim().to_string();
        profiles
            .get_mut(profile)
            .expect("the profile was entered at its header")
            .insert(key.clone(), Property { value, file: file.to_path_buf(), line: n });
        last_key = Some(key);
    }
    Ok(profiles)
}

/// A property value without its trailing comment: `#` or `;` after whitespace.
fn strip_comment(value: &str) -> &str {
    let b = value.as_bytes();
    for i in 1..b.len() {
        if (b[i] == b'#' || b[i] == b';') && b[i - 1].is_ascii_whitespace() {
            return &value[..i];
        }
    }
    value
}

/// What the AWS settings resolved to.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub region: String,
    /// `None` when a Bedrock API key is used instead.
    pub credentials: Option<AwsCredentials>,
    /// Where the credentials came from, for messages.
    pub source: String,
}

/// Profile properties that mean credentials this build cannot resolve by itself.
const INDIRECT: &[&str] = &[
    "role_arn",
    "source_profile",
    "credential_source",
    "credential_process",
    "sso_session",
    "sso_start_url",
    "web_identity_token_file",
];

/// A profile: its name, its properties and the files looked in.
type Profile = (String, HashMap<String, Property>, Vec<PathBuf>);

/// The shared files' profile, read only when the environment leaves something to find.
struct SharedFiles<'a> {
    var: &'a dyn Fn(&str) -> Option<String>,
    loaded: Option<Profile>,
}

impl SharedFiles<'_> {
    /// The profile's name, its properties (the credentials file's over the config file's, as the
    /// SDKs merge them) and the files looked in.
    fn profile(&mut self) -> Result<&Profile, AwsConfigError> {
        if self.loaded.is_none() {
            let var = self.var;
            let explicit = var("AWS_PROFILE");
            let name = explicit.clone().unwrap_or_else(|| "default".into());
            let home = var("HOME").or_else(|| var("USERPROFILE"));
            let path = |variable: &str, default: &str| -> Option<PathBuf> {
                match var(variable) {
                    Some(p) => Some(expand_home(&p, home.as_deref())),
                    None => home.as_ref().map(|h| Path::new(h).join(".aws").join(default)),
                }
            };
            let mut merged = HashMap::new();
            let mut looked = Vec::new();
            let mut found = false;
            for (kind, file) in [
                (FileKind::Config, path("AWS_CONFIG_FILE", "config")),
                (FileKind::Credentials, path("AWS_SHARED_CREDENTIALS_FILE", "credentials")),
            ] {
                let Some(file) = file else { continue };
                let text = match std::fs::read_to_string(&file) {
                    Ok(t) => t,
                    // A missing file is the usual case for one of the two.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        looked.push(file);
                        continue;
                    }
                    Err(e) => return Err(AwsConfigError(format!("{}: cannot read: {e}", file.display()))),
                };
                if let Some(p) = parse_profiles(&text, kind, &file)?.remove(&name) {
                    found = true;
                    merged.extend(p);
                }
                looked.push(file);
            }
            if explicit.is_some() && !found {
                return Err(AwsConfigError(format!(
                    "AWS_PROFILE names profile `{name}`, which is in none of {}",
                    shown(&looked)
                )));
            }
            self.loaded = Some((name, merged, looked));
        }
        Ok(self.loaded.as_ref().expect("loaded above"))
    }
}

fn shown(files: &[PathBuf]) -> String {
    if files.is_empty() {
        return "the shared files (HOME is not set)".into();
    }
    files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(" and ")
}

/// `~/x` as the SDKs expand it in the file variables.
fn expand_home(p: &str, home: Option<&str>) -> PathBuf {
    match (p.strip_prefix("~/"), home) {
        (Some(rest), Some(h)) => Path::new(h).join(rest),
        _ => PathBuf::from(p),
    }
}

/// Credentials and region as the AWS SDKs find them: `AWS_ACCESS_KEY_ID` /
/// `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, else the `AWS_PROFILE` profile (`default`) of
/// the shared files; the region from `AWS_REGION`, `AWS_DEFAULT_REGION`, else the profile's
/// `region`. With `bearer`, a Bedrock API key, no credentials are looked for. `var` reads a
/// variable (empty counts as unset).
pub(crate) fn resolve(var: &dyn Fn(&str) -> Option<String>, bearer: bool) -> Result<Resolved, AwsConfigError> {
    let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    let mut files = SharedFiles { var: &var, loaded: None };
    let (credentials, source) = if bearer {
        (None, "AWS_BEARER_TOKEN_BEDROCK".to_string())
    } else {
        match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
            (Some(id), Some(secret)) => {
                let token = var("AWS_SESSION_TOKEN");
                (Some(AwsCredentials::new(&id, &secret, token.as_deref())), "the AWS_* variables".to_string())
            }
            (Some(_), None) => {
                return Err(AwsConfigError("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not".into()));
            }
            (None, Some(_)) => {
                return Err(AwsConfigError("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not".into()));
            }
            (None, None) => {
                let (name, props, looked) = files.profile()?;
                let (c, s) = profile_credentials(name, props, looked)?;
                (Some(c), s)
            }
        }
    };
    let region = match var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")) {
        Some(r) => r,
        None => {
            let (name, props, looked) = files.profile()?;
            match props.get("region").filter(|p| !p.value.is_empty()) {
                Some(p) => {
                    check_region(&p.value).map_err(|e| AwsConfigError(format!("{}: `region`: {e}", p.at())))?;
                    p.value.clone()
                }
                None => {
                    return Err(AwsConfigError(format!(
                        "no AWS region: set AWS_REGION or AWS_DEFAULT_REGION, or `region` in profile `{name}` of {}",
                        shown(looked)
                    )));
                }
            }
        }
    };
    check_region(&region).map_err(|e| AwsConfigError(format!("AWS region: {e}")))?;
    Ok(Resolved { region, credentials, source })
}

fn profile_credentials(
    name: &str,
    props: &HashMap<String, Property>,
    looked: &[PathBuf],
) -> Result<(AwsCredentials, String), AwsConfigError> {
    let get = |k: &str| props.get(k).filter(|p| !p.value.is_empty());
    match (get("aws_access_key_id"), get("aws_secret_access_key")) {
        (Some(id), Some(secret)) => {
            let token = get("aws_session_token").map(|p| p.value.as_str());
            let source = format!("profile `{name}` ({})", secret.file.display());
            Ok((AwsCredentials::new(&id.value, &secret.value, token), source))
        }
        (Some(p), None) => Err(AwsConfigError(format!(
            "{}: profile `{name}` has `aws_access_key_id` but no `aws_secret_access_key`",
            p.at()
        ))),
        (None, Some(p)) => Err(AwsConfigError(format!(
            "{}: profile `{name}` has `aws_secret_access_key` but no `aws_access_key_id`",
            p.at()
        ))),
        (None, None) => {
            if let Some((k, p)) = INDIRECT.iter().find_map(|k| props.get(*k).map(|p| (k, p))) {
                return Err(AwsConfigError(format!(
                    "{}: profile `{name}` gets its credentials through `{k}`, which preflight does not \
                     resolve; export static ones first (`aws configure export-credentials --profile {name} \
                     --format env`) or set AWS_BEARER_TOKEN_BEDROCK",
                    p.at()
                )));
            }
            Err(AwsConfigError(format!(
                "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN \
                 for temporary ones), or AWS_BEARER_TOKEN_BEDROCK, or put `aws_access_key_id` and \
                 `aws_secret_access_key` in profile `{name}` of {}",
                shown(looked)
            )))
        }
    }
}

/// A region goes into the endpoint's host name and the signature's scope: letters, digits and
/// dashes only.
fn check_region(r: &str) -> Result<(), String> {
    if r.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') && !r.is_empty() {
        Ok(())
    } else {
        Err(format!("`{r}` is not a region name (e.g. us-east-1)"))
    }
}

/// `s` as a URI path segment the way the AWS SDKs encode a label: every byte but the unreserved
/// ones (`A-Z a-z 0-9 - . _ ~`) percent-encoded, so the `:` of a model version and the `/` of an
/// inference-profile ARN stay inside their segment.
pub(crate) fn encode_label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    // AWS's SigV4 test suite: credentials AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY,
    // region us-east-1, service `service`, 2015-08-30T12:36:00Z. The expected `Authorization`
    // values are copied from the suite's `header-signed-request.txt` files as aws-sigv4 ships
    // them (smithy-lang/smithy-rs, aws/rust-runtime/aws-sigv4/aws-signing-test-suite/v4/NAME/,
    // taken from awslabs/aws-c-auth v0.9.0 tests/aws-signing-test-suite).
    const SUITE_TIME: u64 = 1_440_938_160; // 2015-08-30T12:36:00Z
    const SCOPE: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";

    fn suite_credentials(token: Option<&str>) -> AwsCredentials {
        AwsCredentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    }

    fn suite_sign(
        creds: &AwsCredentials,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        sha: bool,
    ) -> Signed {
        let at = UNIX_EPOCH + Duration::from_secs(SUITE_TIME);
        sign_v4(creds, "us-east-1", "service", (method, url, headers, body), sha, at).unwrap()
    }

    fn header<'a>(s: &'a Signed, name: &str) -> Option<&'a str> {
        s.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    #[test]
    fn get_vanilla() {
        let s = suite_sign(&suite_credentials(None), "GET", "https://example.amazonaws.com/", &[], b"", false);
        assert_eq!(
            header(&s, "authorization").unwrap(),
            format!(
                "{SCOPE}, SignedHeaders=host;x-amz-date, \
                 Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
            )
        );
        assert_eq!(header(&s, "x-amz-date"), Some("20150830T123600Z"));
        assert_eq!(s.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
        assert_eq!(header(&s, "x-amz-security-token"), None);
        assert_eq!(header(&s, "x-amz-content-sha256"), None);
    }

    #[test]
    fn post_vanilla() {
        let s = suite_sign(&suite_credentials(None), "POST", "https://example.amazonaws.com/", &[], b"", false);
        assert_eq!(
            header(&s, "authorization").unwrap(),
            format!(
                "{SCOPE}, SignedHeaders=host;x-amz-date, \
                 Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
            )
        );
    }

    #[test]
    fn get_vanilla_query_order_key_case() {
        let url = "https://example.amazonaws.com/?Param2=value2&Param1=value1";
        let s = suite_sign(&suite_credentials(None), "GET", url, &[], b"", false);
        assert_eq!(
            header(&s, "authorization").unwrap(),
            format!(
                "{SCOPE}, SignedHeaders=host;x-amz-date, \
                 Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
            )
        );
    }

    #[test]
    fn post_x_www_form_urlencoded() {
        // This vector signs its body (`sign_body: true`): the body's hash is sent as
        // x-amz-content-sha256 and signed with the headers the request carries.
        let headers = [("content-type", "application/x-www-form-urlencoded"), ("content-length", "13")];
        let s = suite_sign(
            &suite_credentials(None),
            "POST",
            "https://example.amazonaws.com/",
            &headers,
            b"Param1=value1",
            true,
        );
        assert_eq!(
            header(&s, "authorization").unwrap(),
            format!(
                "{SCOPE}, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, \
                 Signature=d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b"
            )
        );
        assert_eq!(
            header(&s, "x-amz-content-sha256"),
            Some("9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e")
        );
    }

    #[test]
    fn get_vanilla_with_session_token() {
        let token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
        let s = suite_sign(&suite_credentials(Some(token)), "GET", "https://example.amazonaws.com/", &[], b"", false);
        assert_eq!(
            header(&s, "authorization").unwrap(),
            format!(
                "{SCOPE}, SignedHeaders=host;x-amz-date;x-amz-security-token, \
                 Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"
            )
        );
        assert_eq!(header(&s, "x-amz-security-token"), Some(token));
    }

    #[test]
    fn double_url_encode_path() {
        // The suite's `double-url-encode` (Lambda, us-east-2, 2021-05-11T15:40:45Z): a `:` sent
        // as `%3A` is signed as `%253A`, which is what a Bedrock model id's version needs.
        let url = "https://lambda.us-east-2.amazonaws.com/2015-03-31/functions/\
                   arn%3Aaws%3Alambda%3Aus-west-2%3A892717189312%3Afunction%3Amy-rusty-fun/invocations";
        let at = UNIX_EPOCH + Duration::from_secs(1_620_747_645);
        let s = sign_v4(&suite_credentials(None), "us-east-2", "lambda", ("POST", url, &[], b""), false, at).unwrap();
        assert_eq!(
            header(&s, "authorization").unwrap(),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20210511/us-east-2/lambda/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=4b93abbcc68be32bd64c18e2c71150660ab4c29bbd6c32a383a7517a88fc1804"
        );
    }

    #[test]
    fn a_changed_request_changes_the_signature() {
        let c = suite_credentials(None);
        let a = suite_sign(&c, "POST", "https://example.amazonaws.com/", &[], b"{}", false);
        let b = suite_sign(&c, "POST", "https://example.amazonaws.com/", &[], b"{ }", false);
        let d = suite_sign(&c, "POST", "https://example.amazonaws.com/x", &[], b"{}", false);
        assert_ne!(a.signature, b.signature);
        assert_ne!(a.signature, d.signature);
    }

    #[test]
    fn encodes_labels_as_the_sdks_do() {
        assert_eq!(encode_label("anthropic.claude-3-haiku-20240307-v1:0"), "anthropic.claude-3-haiku-20240307-v1%3A0");
        assert_eq!(
            encode_label("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.x~y_z"),
            "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.x~y_z"
        );
        assert_eq!(encode_label("a b+c"), "a%20b%2Bc");
    }

    fn parse(text: &str, kind: FileKind) -> Result<Profiles, AwsConfigError> {
        parse_profiles(text, kind, Path::new("/h/.aws/file"))
    }

    #[test]
    fn parses_config_and_credentials_sections() {
        let config = "\
# a comment
[default]
region = eu-west-1 ; where we work
[profile dev]
region=us-west-2
output = json # trailing comment
s3 =
  max_concurrent_requests = 20
  addressing_style = path
[sso-session corp]
sso_region = us-east-1
[dev]
region = ignored-because-not-a-profile-section
";
        let p = parse(config, FileKind::Config).unwrap();
        assert_eq!(p["default"]["region"].value, "eu-west-1");
        assert_eq!(p["dev"]["region"].value, "us-west-2");
        assert_eq!(p["dev"]["region"].line, 5);
        assert_eq!(p["dev"]["output"].value, "json");
        assert_eq!(p["dev"]["s3"].value, "\nmax_concurrent_requests = 20\naddressing_style = path");
        assert!(!p.contains_key("corp") && !p.contains_key("sso-session corp"));
        assert_eq!(p.len(), 2);

        let creds = "\
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = se#cr;et/with+marks
[profile dev]
aws_access_key_id = AKIDNOTAPROFILE
";
        let p = parse(creds, FileKind::Credentials).unwrap();
        // `#` and `;` without whitespace before them are part of the value.
        assert_eq!(p["default"]["aws_secret_access_key"].value, "se#cr;et/with+marks");
        // In the credentials file the header is the name itself: `[profile dev]` names no profile.
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn profile_default_wins_over_default_in_config() {
        let p = parse("[profile default]\nregion = a\n[default]\nregion = b\n", FileKind::Config).unwrap();
        assert_eq!(p["default"]["region"].value, "a");
        let p =
            parse("[default]\nregion = b\noutput = text\n[profile default]\nregion = a\n", FileKind::Config).unwrap();
        assert_eq!(p["default"]["region"].value, "a");
        assert!(!p["default"].contains_key("output"));
    }

    #[test]
    fn parse_errors_name_the_file_and_line_but_not_its_text() {
        let e = parse("[default]\naws_secret_access_key wJalrSECRET\n", FileKind::Credentials).unwrap_err();
        assert_eq!(e.0, "/h/.aws/file:2: expected `name = value`");
        assert!(!e.0.contains("wJalrSECRET"));
        let e = parse("region = x\n", FileKind::Config).unwrap_err();
        assert_eq!(e.0, "/h/.aws/file:1: a property before any profile's `[section]` header");
        let e = parse("\n\n[default\n", FileKind::Config).unwrap_err();
        assert_eq!(e.0, "/h/.aws/file:3: a section header without its closing `]`");
        let e = parse("[default]\n= x\n", FileKind::Config).unwrap_err();
        assert_eq!(e.0, "/h/.aws/file:2: a property without a name before its `=`");
        let e = parse("  indented = 1\n", FileKind::Config).unwrap_err();
        assert_eq!(e.0, "/h/.aws/file:1: an indented line continues no property");
    }

    type Vars = Box<dyn Fn(&str) -> Option<String>>;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Box::new(move |k| map.get(k).cloned())
    }

    #[test]
    fn environment_credentials_come_first() {
        let v = vars(&[
            ("AWS_ACCESS_KEY_ID", "AKIDENV"),
            ("AWS_SECRET_ACCESS_KEY", "secretenv"),
            ("AWS_SESSION_TOKEN", "tokenenv"),
            ("AWS_DEFAULT_REGION", "eu-central-1"),
            // Unread: nothing is left to find in the files.
            ("AWS_CONFIG_FILE", "/nonexistent/config"),
        ]);
        let r = resolve(&v, false).unwrap();
        assert_eq!(r.credentials, Some(AwsCredentials::new("AKIDENV", "secretenv", Some("tokenenv"))));
        assert_eq!(r.region, "eu-central-1");
        let v = vars(&[("AWS_ACCESS_KEY_ID", "AKIDENV"), ("AWS_REGION", "us-east-1")]);
        assert_eq!(resolve(&v, false).unwrap_err().0, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    }

    #[test]
    fn no_region_names_both_variables() {
        let v = vars(&[("AWS_ACCESS_KEY_ID", "AKIDENV"), ("AWS_SECRET_ACCESS_KEY", "secretenv")]);
        let e = resolve(&v, false).unwrap_err().0;
        assert!(e.contains("AWS_REGION") && e.contains("AWS_DEFAULT_REGION"), "{e}");
        let v = vars(&[("AWS_BEARER_TOKEN_BEDROCK", "abc"), ("AWS_REGION", "us-east-1 ")]);
        assert!(resolve(&v, true).unwrap_err().0.contains("not a region name"));
    }

    #[test]
    fn debug_hides_the_secret_parts() {
        let c = AwsCredentials::new("AKIDSHOWN", "wJalrHIDDEN", Some("TOKENHIDDEN"));
        let shown = format!("{c:?}");
        assert!(shown.contains("AKIDSHOWN") && !shown.contains("HIDDEN"), "{shown}");
        assert_eq!(c.secrets(), ["wJalrHIDDEN", "TOKENHIDDEN"]);
    }
}
