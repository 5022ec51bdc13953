//! Temporary passwords: three words from the BIP-39 word list of the school's
//! language and two digits, e.g. `jardin-castor-mouton-47` (at least 17 characters).
//! Only ASCII words of 4 to 8 letters are used, and digits 2–9, so nothing reads
//! ambiguously on paper.

use crate::domain::Language;
use rand::Rng;
use rand::seq::IndexedRandom;
use secrecy::SecretString;
use std::sync::OnceLock;

fn words(language: Language) -> &'static [&'static str] {
    static FR: OnceLock<Vec<&'static str>> = OnceLock::new();
    static EN: OnceLock<Vec<&'static str>> = OnceLock::new();
    let (cell, list) = match language {
        Language::Fr => (&FR, bip39::Language::French),
        Language::En => (&EN, bip39::Language::English),
    };
    cell.get_or_init(|| {
        list.word_list()
            .iter()
            .copied()
            .filter(|w| (4..=8).contains(&w.len()) && w.bytes().all(|b| b.is_ascii_lowercase()))
            .collect()
    })
}

/// A fresh temporary passphrase.
pub fn temporary_password(language: Language) -> SecretString {
    let mut rng = rand::rng();
    let list = words(language);
    let mut out = String::with_capacity(32);
    for _ in 0..3 {
        out.push_str(list.choose(&mut rng).copied().unwrap_or("sesame"));
        out.push('-');
    }
    for _ in 0..2 {
        out.push(char::from(b'0' + rng.random_range(2..=9u8)));
    }
    SecretString::from(out)
}

/// The legacy birth-date password `ddmmyyyy`.
pub fn birth_date_password(birth_date: chrono::NaiveDate) -> SecretString {
    SecretString::from(birth_date.format("%d%m%Y").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn passphrases_are_long_and_unambiguous() {
        for language in [Language::Fr, Language::En] {
            assert!(words(language).len() > 1000, "a rich word list for {language:?}");
            for _ in 0..200 {
                let p = temporary_password(language);
                let p = p.expose_secret();
                assert!(p.chars().count() >= 15, "{p} is too short");
                assert!(!p.contains(['0', '1', 'O', 'I']), "{p} has a look-alike");
                assert_eq!(p.split('-').count(), 4);
            }
        }
    }

    #[test]
    fn birth_date_password_is_ddmmyyyy() {
        let date = chrono::NaiveDate::from_ymd_opt(2014, 3, 9).unwrap();
        assert_eq!(birth_date_password(date).expose_secret(), "09032014");
    }
}
