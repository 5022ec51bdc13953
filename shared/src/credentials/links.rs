//! Reset-link tokens and activation codes (SPEC §3).
//!
//! A reset token is `<school>.<account id>.<secret>`, the secret being 256 random
//! bits in base64url; only the SHA-256 of the secret is stored (it is random and
//! long, so a fast hash suffices), it is single use, valid 24 hours, and a newer link
//! replaces it. An activation code is 8 characters from an alphabet without
//! look-alikes (no I, L, O, 0, 1); being short, it is stored as an Argon2 hash, and
//! attempts are counted like logins.

use crate::domain::{AccountId, SchoolId};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rand::{Rng, RngCore};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

pub const RESET_LINK_HOURS: i64 = 24;
pub const ACTIVATION_CODE_DAYS: i64 = 90;
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
pub const CODE_LENGTH: usize = 8;

/// A fresh reset token for `account`, and the hash to store.
pub fn new_reset_token(school: &SchoolId, account: &AccountId) -> (SecretString, String) {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let secret = B64.encode(secret);
    let hash = token_hash(&secret);
    (SecretString::from(format!("{school}.{account}.{secret}")), hash)
}

/// A fresh console session token (the cookie's value: 256 random bits in
/// base64url), and the key its session is stored under (its SHA-256).
pub fn new_session_token() -> (SecretString, String) {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let token = B64.encode(secret);
    let key = token_hash(&token);
    (SecretString::from(token), key)
}

/// The key of the session a cookie's token names (`None`: not a token we make).
pub fn session_key(token: &str) -> Option<String> {
    (token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then(|| token_hash(token))
}

/// The parts of a reset token: whose it is, and the hash of its secret.
pub struct ParsedToken {
    pub school: SchoolId,
    pub account: AccountId,
    pub hash: String,
}

pub fn parse_reset_token(token: &SecretString) -> Option<ParsedToken> {
    let mut parts = token.expose_secret().splitn(3, '.');
    let school = SchoolId::parse(parts.next()?).ok()?;
    let account = AccountId::parse(parts.next()?).ok()?;
    let secret = parts.next()?;
    (secret.len() >= 43).then(|| ParsedToken {
        school,
        account,
        hash: token_hash(secret),
    })
}

fn token_hash(secret: &str) -> String {
    crate::credentials::hex(&Sha256::digest(secret.as_bytes()))
}

/// Whether `stored` (a hash from `new_reset_token`) matches `candidate`, in constant time.
pub fn same_hash(stored: &str, candidate: &str) -> bool {
    use subtle::ConstantTimeEq;
    stored.as_bytes().ct_eq(candidate.as_bytes()).into()
}

/// A fresh activation code, e.g. `K7MPQ2XR`.
pub fn new_activation_code() -> SecretString {
    let mut rng = rand::rng();
    let code: String = (0..CODE_LENGTH)
        .map(|_| char::from(CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())]))
        .collect();
    SecretString::from(code)
}

/// A code as typed: spaces and dashes dropped, upper case.
pub fn normalize_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_account_and_hashes_its_secret() {
        let school = SchoolId::parse("demo").unwrap();
        let account = AccountId::parse("acc_1").unwrap();
        let (token, hash) = new_reset_token(&school, &account);
        assert!(!token.expose_secret().contains(&hash));
        let parsed = parse_reset_token(&token).unwrap();
        assert_eq!((parsed.school, parsed.account), (school, account));
        assert!(same_hash(&hash, &parsed.hash));
        assert!(parse_reset_token(&SecretString::from("demo.acc_1.short")).is_none());
    }

    #[test]
    fn codes_are_eight_unambiguous_characters() {
        for _ in 0..100 {
            let code = new_activation_code();
            let code = code.expose_secret();
            assert_eq!(code.len(), CODE_LENGTH);
            assert!(!code.contains(['I', 'L', 'O', '0', '1']), "{code}");
        }
        assert_eq!(normalize_code(" k7mp-q2xr "), "K7MPQ2XR");
    }
}
