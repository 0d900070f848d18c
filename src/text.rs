//! Making untrusted text (names from a database, bodies from a server) safe to
//! print on a terminal: control characters are shown escaped, never written raw.

/// Escapes control characters (ESC, BEL, newlines, C1 controls…) as `\u{..}`.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Cuts to at most `max` characters, marking the cut with `…`.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A TOML error on one line: `line L, column C: what is wrong`.
pub fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let at = e.span().map_or(String::new(), |s| {
        let before = &text[..s.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!("line {line}, column {col}: ")
    });
    // toml's message may span lines; the first says what is wrong.
    let what = e.message().lines().next().unwrap_or("invalid TOML");
    format!("{at}{what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("plain-name"), "plain-name");
        assert_eq!(printable("evil\x1b[2Jname"), "evil\\u{1b}[2Jname");
        assert_eq!(printable("a\nb\u{9b}"), "a\\u{a}b\\u{9b}");
        assert_eq!(printable("クライアント"), "クライアント");
    }

    #[test]
    fn truncation() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
