//! `{{env:NAME}}` references: how a target file's headers and `--header` name a secret without
//! holding it.

/// The variables `value` names as `{{env:NAME}}`, in order (an unclosed `{{env:` ends the list).
pub fn env_references(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(i) = rest.find("{{env:") {
        let Some(end) = rest[i..].find("}}") else { break };
        out.push(rest[i + 6..i + end].trim().to_string());
        rest = &rest[i + end + 2..];
    }
    out
}

/// `value` with each `{{env:NAME}}` replaced by `lookup(NAME)`, in one pass (a variable's value
/// is never read for references); `Err(NAME)` for the first variable `lookup` has no value for.
pub fn resolve_env(value: &str, mut lookup: impl FnMut(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find("{{env:") {
        let Some(end) = rest[i..].find("}}") else { break };
        let name = rest[i + 6..i + end].trim();
        out.push_str(&rest[..i]);
        out.push_str(&lookup(name).ok_or_else(|| name.to_string())?);
        rest = &rest[i + end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_resolves_references() {
        let v = "Bearer {{env:A}} and {{env: B }} then {{env:C";
        assert_eq!(env_references(v), ["A", "B"]);
        let lookup = |n: &str| (n != "X").then(|| format!("<{n}>"));
        assert_eq!(resolve_env(v, lookup).unwrap(), "Bearer <A> and <B> then {{env:C");
        assert_eq!(resolve_env("{{env:X}}", lookup).unwrap_err(), "X");
        // A value that spells a reference is not resolved again.
        assert_eq!(resolve_env("{{env:A}}", |_| Some("{{env:X}}".into())).unwrap(), "{{env:X}}");
    }
}
