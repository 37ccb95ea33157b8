//! Everything a model writes is untrusted. These make text safe for where it goes: a terminal
//! (no control sequence gets through: no window-title OSC, no screen clear, no bell, no
//! backspace over what was printed, no bidi override reordering a line), a Markdown page (no
//! HTML, no links), an HTML page (no tags, attributes or entities), JSON printed to a terminal
//! (the control characters JSON leaves raw).
//! Stored text is never changed: it is neutralised where it is shown.

use std::borrow::Cow;

/// Characters a terminal would act on: C0 controls except newline and tab, DEL, C1 controls,
/// and the Unicode bidi overrides and isolates (they reorder what is shown, as in "Trojan Source").
fn dangerous(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` for a terminal: each dangerous character shown as a visible stand-in — C0 controls as
/// their Unicode control pictures (ESC → ␛, BEL → ␇), the others as `<U+XXXX>` — so what the
/// model wrote stays readable and cannot act.
pub fn terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(dangerous) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            c if !dangerous(c) => out.push(c),
            '\u{0}'..='\u{1f}' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}')),
            '\u{7f}' => out.push('\u{2421}'),
            c => out.push_str(&format!("<U+{:04X}>", c as u32)),
        }
    }
    Cow::Owned(out)
}

/// `text` as inline Markdown that renders as the same text: HTML escaped (no tag, no entity of
/// the model's gets through) and Markdown's own punctuation backslash-escaped (no link, image,
/// emphasis, code span or table cell break), dangerous characters shown as in [`terminal`].
pub fn markdown(text: &str) -> String {
    let text = terminal(text);
    let escaped = html_escape::encode_text(&text);
    let mut out = String::with_capacity(escaped.len() + 8);
    for c in escaped.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '!' | '|' | '~' | '{' | '}') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `text` for an HTML text node or a double-quoted attribute value: `<`, `>`, `&`, `"` and `'`
/// escaped (no tag, attribute or entity of the model's gets through), dangerous characters shown
/// as in [`terminal`] (a bidi override would reorder the page's text as it does a terminal's).
pub fn html(text: &str) -> String {
    html_escape::encode_double_quoted_attribute(&terminal(text)).replace('\'', "&#x27;")
}

/// JSON text with the characters JSON may leave raw but a terminal would act on (DEL, C1
/// controls, bidi overrides) written as `\uXXXX` escapes. Outside strings JSON holds none of
/// them, so this changes no value: a parser reads back exactly the data.
pub fn json(text: &str) -> Cow<'_, str> {
    if !text.chars().any(dangerous) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if dangerous(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str =
        "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{8}\u{9b}31m \u{202e}txt.exe <script>alert(1)</script> [x](javascript:y)";

    #[test]
    fn nothing_a_terminal_acts_on_gets_through() {
        let t = terminal(HOSTILE);
        assert!(!t.chars().any(dangerous), "{t}");
        assert!(t.contains("␛]0;pwned␇") && t.contains("<U+009B>") && t.contains("<U+202E>"), "{t}");
        assert_eq!(terminal("plain\ttext\nline"), "plain\ttext\nline");
        assert!(matches!(terminal("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn markdown_carries_no_html_and_no_links() {
        let m = markdown(HOSTILE);
        assert!(!m.contains("<script>") && m.contains("&lt;script&gt;"), "{m}");
        assert!(!m.contains("[x](") && m.contains(r"\[x\]\(javascript:y\)"), "{m}");
        assert!(!m.chars().any(dangerous));
    }

    #[test]
    fn json_escapes_read_back_as_the_same_data() {
        let raw = serde_json::to_string(&serde_json::json!({ "t": HOSTILE })).unwrap();
        let safe = json(&raw);
        assert!(!safe.chars().any(dangerous), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["t"], HOSTILE);
    }
}
