use std::{
    fs::File,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
};

use preflight_core::{Expected, Sample};
use serde::Deserialize;
use toml::Spanned;

use crate::{
    SuiteError,
    file::{check_category, line_of},
};

/// Dataset file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Csv,
}

/// Which column holds what. Unset `id` → ids are `file-stem:line`; unset `category` → the dataset's
/// or suite's category; unset `expected` → the dataset's constant `expected`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    pub id: Option<String>,
    #[serde(default = "default_prompt")]
    pub prompt: String,
    pub expected: Option<String>,
    pub category: Option<String>,
}

fn default_prompt() -> String {
    "prompt".into()
}

impl Default for Columns {
    fn default() -> Self {
        Columns { id: Some("id".into()), prompt: default_prompt(), expected: Some("expected".into()), category: None }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDataset {
    path: Spanned<String>,
    format: Option<Spanned<String>>,
    expected: Option<Spanned<String>>,
    category: Option<Spanned<String>>,
    columns: Option<Columns>,
}

/// A dataset referenced by a suite, resolved against the suite's folder.
#[derive(Debug, Clone)]
pub struct DatasetSpec {
    pub path: PathBuf,
    pub format: Format,
    pub columns: Columns,
    /// Used for rows without an `expected` column.
    pub expected: Option<Expected>,
    pub category: Option<String>,
    stem: String,
}

impl DatasetSpec {
    pub(crate) fn from_raw(
        raw: RawDataset,
        base: &Path,
        suite_path: &Path,
        src: &str,
        suite_category: Option<&str>,
    ) -> Result<Self, SuiteError> {
        let at = |sp: std::ops::Range<usize>| line_of(src, sp.start);
        let path = base.join(raw.path.get_ref());
        let format = match &raw.format {
            Some(f) => match f.get_ref().as_str() {
                "jsonl" | "json" => Format::Jsonl,
                "csv" => Format::Csv,
                other => {
                    return Err(SuiteError::invalid(
                        suite_path,
                        at(f.span()),
                        Some("datasets.format"),
                        format!("unknown format `{other}` (jsonl, csv)"),
                    ));
                }
            },
            None => match path.extension().and_then(|e| e.to_str()) {
                Some("csv") => Format::Csv,
                Some("jsonl") | Some("json") => Format::Jsonl,
                _ => {
                    return Err(SuiteError::invalid(
                        suite_path,
                        at(raw.path.span()),
                        Some("datasets.format"),
                        "cannot tell the format from the extension; set format = \"jsonl\" or \"csv\"",
                    ));
                }
            },
        };
        if !path.is_file() {
            return Err(SuiteError::invalid(
                suite_path,
                at(raw.path.span()),
                Some("datasets.path"),
                format!("{} does not exist", path.display()),
            ));
        }
        let expected = match &raw.expected {
            Some(e) => Some(Expected::parse(e.get_ref()).ok_or_else(|| {
                SuiteError::invalid(
                    suite_path,
                    at(e.span()),
                    Some("datasets.expected"),
                    format!("`{}` is neither `refuse` nor `comply`", e.get_ref()),
                )
            })?),
            None => None,
        };
        let category = match &raw.category {
            Some(c) => Some(check_category(suite_path, at(c.span()), c.get_ref())?),
            None => suite_category.map(str::to_string),
        };
        let columns = raw.columns.unwrap_or_default();
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("data").to_string();
        Ok(DatasetSpec { path, format, columns, expected, category, stem })
    }
}

/// Streams the rows of one dataset as samples.
pub(crate) struct Rows<'a> {
    spec: &'a DatasetSpec,
    fallback_category: Option<&'a str>,
    inner: RowSource,
    file: String,
}

enum RowSource {
    Jsonl { lines: std::io::Lines<BufReader<File>>, line: u64 },
    Csv { reader: csv::Reader<File>, idx: CsvIdx, record: csv::StringRecord },
    Done,
}

struct CsvIdx {
    id: Option<usize>,
    prompt: usize,
    expected: Option<usize>,
    category: Option<usize>,
}

impl<'a> Rows<'a> {
    pub(crate) fn open(spec: &'a DatasetSpec, fallback_category: Option<&'a str>) -> Result<Self, SuiteError> {
        let io = |source| SuiteError::Io { path: spec.path.clone(), source };
        let f = File::open(&spec.path).map_err(io)?;
        let inner = match spec.format {
            Format::Jsonl => RowSource::Jsonl { lines: BufReader::with_capacity(64 * 1024, f).lines(), line: 0 },
            Format::Csv => {
                let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(f);
                let headers = reader
                    .headers()
                    .map_err(|e| SuiteError::invalid(&spec.path, 1, None, format!("bad CSV header: {e}")))?
                    .clone();
                let find = |name: &str| headers.iter().position(|h| h.trim() == name);
                let c = &spec.columns;
                let prompt = find(&c.prompt).ok_or_else(|| {
                    SuiteError::invalid(
                        &spec.path,
                        1,
                        Some(&c.prompt),
                        format!("no column `{}` in the header", c.prompt),
                    )
                })?;
                let expected = match &c.expected {
                    Some(name) => match find(name) {
                        Some(i) => Some(i),
                        None if spec.expected.is_some() => None,
                        None => {
                            return Err(SuiteError::invalid(
                                &spec.path,
                                1,
                                Some(name),
                                format!("no column `{name}` in the header and the dataset sets no constant `expected`"),
                            ));
                        }
                    },
                    None => None,
                };
                let idx = CsvIdx {
                    id: c.id.as_deref().and_then(find),
                    prompt,
                    expected,
                    category: c.category.as_deref().and_then(find),
                };
                RowSource::Csv { reader, idx, record: csv::StringRecord::new() }
            }
        };
        Ok(Rows { spec, fallback_category, inner, file: spec.path.display().to_string() })
    }

    fn build(
        &self,
        line: u64,
        id: Option<String>,
        prompt: Option<&str>,
        expected: Option<Result<Expected, String>>,
        category: Option<&str>,
    ) -> Result<Sample, SuiteError> {
        let spec = self.spec;
        let err = |field: &str, msg: String| SuiteError::invalid(&spec.path, line, Some(field), msg);
        let prompt = prompt.ok_or_else(|| err(&spec.columns.prompt, "missing".into()))?;
        if prompt.trim().is_empty() {
            return Err(err(&spec.columns.prompt, "empty prompt".into()));
        }
        let exp_field = spec.columns.expected.as_deref().unwrap_or("expected");
        let expected = match expected {
            Some(Ok(e)) => e,
            Some(Err(v)) => return Err(err(exp_field, format!("`{v}` is neither refuse/comply nor a boolean"))),
            None => spec
                .expected
                .ok_or_else(|| err(exp_field, "missing, and the dataset sets no constant `expected`".into()))?,
        };
        let category = match category {
            Some(c) => check_category(&spec.path, line, c)?,
            None => match spec.category.as_deref().or(self.fallback_category) {
                Some(c) => c.to_string(),
                None => {
                    return Err(err(
                        spec.columns.category.as_deref().unwrap_or("category"),
                        "missing, and neither dataset nor suite sets one".into(),
                    ));
                }
            },
        };
        Ok(Sample {
            id: id.unwrap_or_else(|| format!("{}:{line}", spec.stem)),
            prompt: prompt.to_string(),
            expected,
            category,
            provenance: Some(format!("{}:{line}", self.file)),
        })
    }

    fn next_jsonl(&mut self) -> Option<Result<Sample, SuiteError>> {
        let RowSource::Jsonl { lines, line } = &mut self.inner else { unreachable!() };
        loop {
            *line += 1;
            let n = *line;
            let text = match lines.next()? {
                Ok(t) => t,
                Err(source) => return Some(Err(SuiteError::Io { path: self.spec.path.clone(), source })),
            };
            if text.trim().is_empty() {
                continue;
            }
            let obj: serde_json::Map<String, serde_json::Value> = match serde_json::from_str(&text) {
                Ok(o) => o,
                Err(e) => {
                    return Some(Err(SuiteError::invalid(&self.spec.path, n, None, format!("not a JSON object: {e}"))));
                }
            };
            let c = &self.spec.columns;
            let get = |name: &Option<String>| name.as_deref().and_then(|k| obj.get(k));
            let id = get(&c.id).map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            let prompt = obj.get(&c.prompt).and_then(|v| v.as_str());
            if obj.get(&c.prompt).is_some() && prompt.is_none() {
                return Some(Err(SuiteError::invalid(&self.spec.path, n, Some(&c.prompt), "must be a string")));
            }
            let expected = get(&c.expected).map(|v| match v {
                serde_json::Value::Bool(true) => Ok(Expected::Refuse),
                serde_json::Value::Bool(false) => Ok(Expected::Comply),
                serde_json::Value::String(s) => Expected::parse(s).ok_or_else(|| s.clone()),
                other => Err(other.to_string()),
            });
            let category = get(&c.category).and_then(|v| v.as_str());
            return Some(self.build(n, id, prompt, expected, category));
        }
    }

    fn next_csv(&mut self) -> Option<Result<Sample, SuiteError>> {
        let RowSource::Csv { reader, idx, record } = &mut self.inner else { unreachable!() };
        match reader.read_record(record) {
            Ok(false) => None,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                Some(Err(SuiteError::invalid(&self.spec.path, line, None, format!("bad CSV row: {e}"))))
            }
            Ok(true) => {
                let line = record.position().map(|p| p.line()).unwrap_or(0);
                let record = std::mem::take(record);
                let get = |i: Option<usize>| i.and_then(|i| record.get(i));
                let id = get(idx.id).map(str::to_string);
                let prompt = record.get(idx.prompt);
                let expected = get(idx.expected).map(|v| Expected::parse(v).ok_or_else(|| v.to_string()));
                let category = get(idx.category).filter(|c| !c.is_empty());
                let out = self.build(line, id, prompt, expected, category);
                if let RowSource::Csv { record: slot, .. } = &mut self.inner {
                    *slot = record;
                }
                Some(out)
            }
        }
    }
}

impl Iterator for Rows<'_> {
    type Item = Result<Sample, SuiteError>;
    fn next(&mut self) -> Option<Self::Item> {
        let item = match self.inner {
            RowSource::Jsonl { .. } => self.next_jsonl(),
            RowSource::Csv { .. } => self.next_csv(),
            RowSource::Done => None,
        };
        // After an error the stream stops: a half-read file is not a suite.
        if matches!(item, Some(Err(_))) {
            self.inner = RowSource::Done;
        }
        item
    }
}
