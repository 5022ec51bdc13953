//! Identifiers and validated strings. Each is parsed once at the edge of the system;
//! past that point a value of these types is valid by construction.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a string was refused by a newtype's `parse`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub &'static str);

macro_rules! string_newtype {
    ($(#[$meta:meta])* $name:ident, $check:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates `raw` (after trimming) and wraps it.
            pub fn parse(raw: &str) -> Result<Self, ParseError> {
                let check: fn(&str) -> Result<String, ParseError> = $check;
                check(raw.trim()).map(Self)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = ParseError;
            fn try_from(raw: String) -> Result<Self, ParseError> {
                Self::parse(&raw)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

fn bounded(raw: &str, max: usize, what: &'static str) -> Result<String, ParseError> {
    if raw.is_empty() || raw.chars().count() > max || raw.chars().any(char::is_control) {
        return Err(ParseError(what));
    }
    Ok(raw.to_owned())
}

string_newtype!(
    /// A school (tenant): lowercase letters, digits and dashes.
    SchoolId,
    |raw| {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        ok.then(|| raw.to_owned())
            .ok_or(ParseError("must be 1 to 64 lowercase letters, digits or dashes"))
    }
);

string_newtype!(
    /// An account's opaque, stable identifier.
    AccountId,
    |raw| {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| raw.to_owned()).ok_or(ParseError("is not an account id"))
    }
);

string_newtype!(
    /// A login, unique in the whole deployment. Stored lowercase.
    Login,
    |raw| {
        let lower = raw.to_lowercase();
        let ok = !lower.is_empty()
            && lower.len() <= 64
            && lower
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        ok.then_some(lower)
            .ok_or(ParseError("must be 1 to 64 letters, digits, dots, dashes or underscores"))
    }
);

string_newtype!(
    /// An e-mail address, checked for shape only (one `@`, a dotted domain, no spaces),
    /// of at most 254 characters (as a JSON Schema `maxLength` counts them).
    Email,
    |raw| {
        let ok = raw.chars().count() <= 254
            && !raw.chars().any(|c| c.is_whitespace() || c.is_control())
            && matches!(raw.split_once('@'), Some((local, domain))
                if !local.is_empty() && domain.contains('.') && !domain.contains('@')
                    && !domain.starts_with('.') && !domain.ends_with('.'));
        ok.then(|| raw.to_owned()).ok_or(ParseError("is not an e-mail address"))
    }
);

string_newtype!(
    /// The mail identity a cloud deployment may send from (its SES identity, the
    /// template's `MailIdentity`): a domain, or one address. Lowercased.
    MailIdentity,
    |raw| {
        let lower = raw.to_lowercase();
        let domain = lower.rsplit_once('@').map_or(lower.as_str(), |(_, d)| d);
        let ok = lower.len() <= 254
            && !lower.chars().any(|c| c.is_whitespace() || c.is_control() || c == '/')
            && lower.matches('@').count() <= 1
            && !lower.starts_with('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.');
        ok.then_some(lower)
            .ok_or(ParseError("must be a domain (ecole.example) or an e-mail address"))
    }
);

impl MailIdentity {
    /// Whether mail from `sender` is sent as this identity: the address itself,
    /// or any address of the domain.
    pub fn covers(&self, sender: &Email) -> bool {
        let sender = sender.as_str().to_lowercase();
        if self.0.contains('@') {
            sender == self.0
        } else {
            sender
                .rsplit_once('@')
                .is_some_and(|(_, domain)| domain == self.0)
        }
    }
}

string_newtype!(
    /// A class name as the school writes it (`CM1-A`, `3°1`).
    ClassName,
    |raw| bounded(raw, 64, "must be 1 to 64 characters")
);

impl AccountId {
    /// A new random identifier.
    pub fn generate() -> Self {
        Self(format!("acc_{}", uuid::Uuid::new_v4().simple()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_is_lowercased_and_checked() {
        assert_eq!(Login::parse(" Zoe.Martin ").unwrap().as_str(), "zoe.martin");
        assert!(Login::parse("zoé").is_err());
        assert!(Login::parse("").is_err());
    }

    #[test]
    fn a_mail_identity_covers_its_address_or_its_domain_only() {
        let email = |raw| Email::parse(raw).unwrap();
        let domain = MailIdentity::parse("Sesame.Test").unwrap();
        assert!(domain.covers(&email("no-reply@sesame.test")));
        assert!(domain.covers(&email("Secretariat@SESAME.test")));
        assert!(!domain.covers(&email("a@rive-gauche.example")));
        assert!(!domain.covers(&email("a@sub.sesame.test")));
        assert!(!domain.covers(&email("a@notsesame.test")));
        let address = MailIdentity::parse("ecole@lycee.example").unwrap();
        assert!(address.covers(&email("Ecole@lycee.example")));
        assert!(!address.covers(&email("autre@lycee.example")));
        for bad in ["", "@x.fr", "localhost", "a@b@c.fr", "a b.fr", "x.fr/", ".fr"] {
            assert!(MailIdentity::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn email_needs_a_dotted_domain() {
        assert!(Email::parse("a@b.fr").is_ok());
        assert!(Email::parse("a@b").is_err());
        assert!(Email::parse("a b@c.fr").is_err());
    }

    #[test]
    fn school_ids_are_restricted() {
        assert!(SchoolId::parse("demo").is_ok());
        assert!(SchoolId::parse("Demo School").is_err());
    }
}
