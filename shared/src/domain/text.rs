//! Folding of names for logins, sorting and accent-insensitive search.

use deunicode::deunicode;

/// Whether `text` holds a control character (CR, LF, tab, NUL…, or a Unicode line
/// or paragraph separator): such text could forge a mail header, so names, the
/// school's name and senders refuse it.
pub fn has_control(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
}

/// Lowercase ASCII, accents folded: `Zoé Lefèvre` → `zoe lefevre`.
pub fn fold(text: &str) -> String {
    deunicode(text).to_lowercase()
}

/// One part of a generated login: folded, spaces and apostrophes handled so that
/// `Jean Pierre` → `jean-pierre`, `N'Diaye` → `ndiaye`, `Núñez` → `nunez`.
pub fn login_part(name: &str) -> String {
    let folded = fold(name);
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        match c {
            'a'..='z' | '0'..='9' => out.push(c),
            ' ' | '-' | '_' if !out.is_empty() && !out.ends_with('-') => out.push('-'),
            _ => {}
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// The login base for a person: `first.last`, shortened to leave room for a suffix.
pub fn login_base(first_name: &str, last_name: &str) -> String {
    let first = login_part(first_name);
    let last = login_part(last_name);
    let mut base = match (first.is_empty(), last.is_empty()) {
        (false, false) => format!("{first}.{last}"),
        (true, false) => last,
        (false, true) => first,
        (true, true) => "user".to_owned(),
    };
    base.truncate(56);
    while base.ends_with(['-', '.']) {
        base.pop();
    }
    base
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_fold_accents_and_keep_dashes_sensible() {
        assert_eq!(login_base("Zoé", "Lefèvre"), "zoe.lefevre");
        assert_eq!(login_base("Jean Pierre", "N'Diaye"), "jean-pierre.ndiaye");
        assert_eq!(login_base("  Anaïs-  ", "De La  Tour"), "anais.de-la-tour");
        assert_eq!(login_base("", "Núñez"), "nunez");
    }

    #[test]
    fn fold_is_case_and_accent_insensitive() {
        assert_eq!(fold("ÉLÈVE Çà"), fold("eleve ca"));
    }
}
