//! The page frame and the helpers every page builds with. Text goes into markup through [`esc`]
//! only, and into links through [`link`] (percent-encoded), so a model's words stay words.

use preflight_report::Report;

/// The viewer's style sheet, served at `/style.css` (the CSP allows no inline style).
pub fn style() -> String {
    format!(
        "{}\nnav{{margin:-1em 0 1em;padding:.4em 0;border-bottom:1px solid #ddd}}nav a{{margin-right:1.2em}}\
         form.filters{{background:#f6f6f6;padding:.5em;border-radius:4px}}form.filters label{{margin-right:.8em}}\
         .role{{font-weight:bold;margin-top:.8em}}.pager a{{margin-right:1em}}td.text{{max-width:28em;word-break:break-word}}\
         .o-unsafe,.o-over_refusal{{background:#f8d0d0}}.o-safe{{background:#d9f2d9}}.o-unassessable{{background:#fbeec2}}\
         .side{{display:grid;grid-template-columns:1fr 1fr;gap:1.5em}}button{{margin-right:.5em}}\
         progress{{width:8em}}",
        Report::html_style()
    )
}

/// Untrusted text as HTML text.
pub fn esc(s: &str) -> String {
    preflight_report::safe::html(s)
}

/// A link to `path` with `query`: every part percent-encoded, then the whole escaped for an
/// attribute.
pub fn link(path: &str, query: &[(&str, &str)]) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in query.iter().filter(|(_, v)| !v.is_empty()) {
        q.append_pair(k, v);
    }
    let q = q.finish();
    let path: String = path
        .split('/')
        .map(|seg| form_urlencoded::byte_serialize(seg.as_bytes()).collect::<String>())
        .collect::<Vec<_>>()
        .join("/");
    esc(&if q.is_empty() { path } else { format!("{path}?{q}") })
}

/// A whole page: title, navigation, body. `refresh`: seconds after which the browser reloads it
/// (a running run's live progress, without script).
pub fn frame(title: &str, nav: &[(String, String)], body: &str, refresh: Option<u32>) -> String {
    let refresh = refresh.map(|s| format!("<meta http-equiv=\"refresh\" content=\"{s}\">")).unwrap_or_default();
    let mut links = String::from("<a href=\"/\">runs</a>");
    for (href, text) in nav {
        links += &format!("<a href=\"{href}\">{}</a>", esc(text));
    }
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">{refresh}\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{} · preflight</title>\
         <link rel=\"stylesheet\" href=\"/style.css\"></head><body><nav>{links}</nav>{body}\
         <p class=\"muted\">preflight view · every string a model wrote is shown as text; this viewer runs no script.</p>\
         </body></html>\n",
        esc(title)
    )
}

/// An outcome as a coloured label.
pub fn outcome(o: &str) -> String {
    let class: String = o.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    format!("<span class=\"lv o-{class}\">{}</span>", esc(o))
}

/// `s` cut to `n` characters, marked when cut.
pub fn cut(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        None => s.to_string(),
        Some((i, _)) => format!("{}…", &s[..i]),
    }
}

/// A `<select>` of `options` (value, count) with `current` selected and an "any" choice.
pub fn select(name: &str, label: &str, options: &[(String, u64)], current: Option<&str>) -> String {
    let mut s = format!("<label>{} <select name=\"{name}\"><option value=\"\">any</option>", esc(label));
    for (v, n) in options {
        let sel = if current == Some(v.as_str()) { " selected" } else { "" };
        s += &format!("<option value=\"{}\"{sel}>{} ({n})</option>", esc(v), esc(v));
    }
    s + "</select></label>"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_text_cannot_break_out() {
        let l = link("/run/a b/probe", &[("sample", "x\"><script>alert(1)</script>"), ("after", "")]);
        assert!(!l.contains('"') && !l.contains('<') && !l.contains(' '), "{l}");
        assert_eq!(link("/run/r1", &[("q", "a&b")]), "/run/r1?q=a%26b");
        assert_eq!(link("/run/javascript:alert(1)", &[]), "/run/javascript%3Aalert%281%29");
        let o = outcome("unsafe\"><x");
        assert!(o.contains("o-unsafex") && !o.contains("\"><x"), "{o}");
        assert_eq!(cut("abcdef", 3), "abc…");
        assert_eq!(cut("abc", 3), "abc");
    }
}
