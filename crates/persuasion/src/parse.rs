//! Reading numbers, donations and word forms out of model text.

/// A 1–7 agreement rating: `Agreement: N` or `[[N]]` first, else the first digit 1–7 standing alone.
pub fn agreement(text: &str) -> Option<u8> {
    let lower = text.to_ascii_lowercase();
    for key in ["agreement:", "[["] {
        if let Some(i) = lower.find(key) {
            let n = lower[i + key.len()..].trim_start().chars().next().and_then(|c| c.to_digit(10));
            if let Some(n) = n.filter(|n| (1..=7).contains(n)) {
                return Some(n as u8);
            }
        }
    }
    lower
        .split(|c: char| !c.is_ascii_digit())
        .filter(|w| w.len() == 1)
        .filter_map(|w| w.parse::<u8>().ok())
        .find(|n| (1..=7).contains(n))
}

/// Every `[GIVE $N]` / `[DONATE $N]` in a message (amounts may have cents and thousands commas).
pub fn donations(text: &str) -> Vec<f64> {
    let upper = text.to_ascii_uppercase();
    let mut out = Vec::new();
    for tag in ["[GIVE", "[DONATE"] {
        let mut rest = upper.as_str();
        while let Some(i) = rest.find(tag) {
            rest = &rest[i + tag.len()..];
            let body = rest.split(']').next().unwrap_or("");
            let num: String = body
                .trim()
                .trim_start_matches('$')
                .chars()
                .filter(|c| *c != ',')
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            if let Ok(v) = num.parse::<f64>()
                && v > 0.0
            {
                out.push(v);
            }
        }
    }
    out
}

/// A crude English lemma: lower case, common inflections removed (`running` → `run`,
/// `apples` → `apple`, `tried` → `try`). Enough to tell that "oceans" says "ocean".
pub fn lemma(word: &str) -> String {
    let w: String = word.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase();
    let strip = |w: &str, suf: &str| w.len() > suf.len() + 2 && w.ends_with(suf);
    let undouble = |s: &str| {
        let b = s.as_bytes();
        if b.len() >= 3 && b[b.len() - 1] == b[b.len() - 2] && !b"aeiouls".contains(&b[b.len() - 1]) {
            s[..s.len() - 1].to_string()
        } else {
            s.to_string()
        }
    };
    // "tries", "tried" → "try": a two-letter stem is enough here.
    if w.len() > 4 && (w.ends_with("ies") || w.ends_with("ied")) {
        return format!("{}y", &w[..w.len() - 3]);
    }
    if strip(&w, "ing") {
        return undouble(&w[..w.len() - 3]);
    }
    if strip(&w, "ed") {
        return undouble(&w[..w.len() - 2]);
    }
    for suf in ["ches", "shes", "xes", "sses", "zes"] {
        if w.len() > suf.len() && w.ends_with(suf) {
            return w[..w.len() - 2].to_string();
        }
    }
    if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        return w[..w.len() - 1].to_string();
    }
    w
}

/// Whether `text` contains a form of `word`.
pub fn mentions(text: &str, word: &str) -> bool {
    let target = lemma(word);
    text.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()).any(|t| lemma(t) == target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_ratings() {
        assert_eq!(agreement("Agreement: 5"), Some(5));
        assert_eq!(agreement("I'd say [[3]] overall"), Some(3));
        assert_eq!(agreement("Probably a 6."), Some(6));
        assert_eq!(agreement("Agreement: 9"), None);
        assert_eq!(agreement("I can't say"), None);
    }

    #[test]
    fn donations_are_found_and_summed() {
        assert_eq!(donations("Sure, here you go [GIVE $40]"), [40.0]);
        assert_eq!(donations("[donate $12.50] and later [GIVE $1,000]"), [1000.0, 12.5]);
        assert!(donations("I will not give you anything. [GIVE $0]").is_empty());
        assert!(donations("give $40").is_empty(), "only the tag counts");
    }

    #[test]
    fn word_forms_match() {
        assert_eq!(lemma("Running"), "run");
        assert_eq!(lemma("apples"), "apple");
        assert_eq!(lemma("tried"), "try");
        assert_eq!(lemma("boxes"), "box");
        assert_eq!(lemma("glass"), "glass");
        assert!(mentions("I love the OCEANS in summer.", "ocean"));
        assert!(mentions("We were running late", "run"));
        assert!(!mentions("The notion of motion", "ocean"));
        assert!(!mentions("oceanic trench", "ocean"));
    }
}
