use std::{borrow::Cow, sync::Arc};

use crate::{GenerateResponse, ProviderError};

/// The secrets of a run (API keys read from the environment), to be cut out of every text a
/// provider sends back before anything stores, caches or prints it. Servers echo keys in error
/// bodies and, sometimes, in answers.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    values: Arc<Vec<String>>,
}

/// What a secret is replaced by.
pub const REDACTED: &str = "[REDACTED]";

/// Shorter values are not treated as secrets: cutting every `ab` out of transcripts would
/// destroy them, and a key that short protects nothing.
pub const MIN_SECRET_LEN: usize = 8;

impl Secrets {
    /// Secrets from these values; empty and short values are left out.
    pub fn new(values: impl IntoIterator<Item = String>) -> Secrets {
        let mut v: Vec<String> = values.into_iter().filter(|s| s.trim().len() >= MIN_SECRET_LEN).collect();
        // Longest first, so a key that contains another is cut whole.
        v.sort_by_key(|s| std::cmp::Reverse(s.len()));
        v.dedup();
        Secrets { values: Arc::new(v) }
    }

    /// The values of these environment variables, where set.
    pub fn from_env<'a>(names: impl IntoIterator<Item = &'a str>) -> Secrets {
        Secrets::new(names.into_iter().filter_map(|n| std::env::var(n).ok()))
    }

    /// These secrets and `more`: values a provider read from somewhere no variable names (a
    /// credentials file), added once it is loaded.
    pub fn with(&self, more: impl IntoIterator<Item = String>) -> Secrets {
        Secrets::new(self.values.iter().cloned().chain(more))
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every secret replaced by [`REDACTED`].
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for s in self.values.iter() {
            if out.contains(s.as_str()) {
                out = Cow::Owned(out.replace(s.as_str(), REDACTED));
            }
        }
        out
    }

    /// Redacts `text` in place.
    pub fn redact_string(&self, text: &mut String) {
        if let Cow::Owned(r) = self.redact(text) {
            *text = r;
        }
    }

    /// A provider's answer or error with every secret cut out of its text, its tool calls'
    /// arguments and its message.
    pub fn redact_result(
        &self,
        result: Result<GenerateResponse, ProviderError>,
    ) -> Result<GenerateResponse, ProviderError> {
        if self.is_empty() {
            return result;
        }
        match result {
            Ok(mut r) => {
                self.redact_string(&mut r.text);
                for call in &mut r.tool_calls {
                    self.redact_string(&mut call.arguments);
                }
                Ok(r)
            }
            Err(mut e) => {
                self.redact_string(&mut e.message);
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_every_secret_and_leaves_short_values_alone() {
        let s = Secrets::new(["sk-abcdef123456".to_string(), "sk-abcdef123456-long".into(), "short".into()]);
        assert_eq!(s.redact("a sk-abcdef123456-long b sk-abcdef123456 c"), "a [REDACTED] b [REDACTED] c");
        assert_eq!(s.redact("short stays"), "short stays");
        assert!(matches!(s.redact("nothing here"), Cow::Borrowed(_)));
        assert!(Secrets::new(Vec::new()).is_empty());
    }

    #[test]
    fn adds_more_secrets() {
        let s =
            Secrets::new(["sk-abcdef123456".to_string()]).with(["wJalrXUtnFEMI/K7MDENG".to_string(), "tiny".into()]);
        assert_eq!(s.redact("sk-abcdef123456 wJalrXUtnFEMI/K7MDENG tiny"), "[REDACTED] [REDACTED] tiny");
    }
}
