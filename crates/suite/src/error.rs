use std::path::PathBuf;

/// A problem with a suite or one of its datasets. Display reads `file:line: field `f`: message`.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// The cause is part of the message (not a separate `source`), so a chain of errors
    /// printed whole says it once.
    #[error("{}: cannot read: {cause}", path.display())]
    Io { path: PathBuf, cause: std::io::Error },
    #[error("{}:{line}: {}{message}", path.display(), field.as_ref().map(|f| format!("field `{f}`: ")).unwrap_or_default())]
    Invalid { path: PathBuf, line: u64, field: Option<String>, message: String },
}

impl SuiteError {
    pub(crate) fn invalid(path: &std::path::Path, line: u64, field: Option<&str>, message: impl Into<String>) -> Self {
        SuiteError::Invalid {
            path: path.to_path_buf(),
            line,
            field: field.map(str::to_string),
            message: message.into(),
        }
    }

    /// The line the error points at, if it points at one.
    pub fn line(&self) -> Option<u64> {
        match self {
            SuiteError::Invalid { line, .. } => Some(*line),
            SuiteError::Io { .. } => None,
        }
    }
}
