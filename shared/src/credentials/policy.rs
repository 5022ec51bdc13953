//! The password policy (SPEC §3): a length in code points, never truncated; no
//! composition rules; no common password; nothing that contains the login, the
//! person's names or the school's name. Each failed rule is reported.

use crate::domain::FieldError;
use crate::domain::text::fold;
use secrecy::{ExposeSecret, SecretString};

pub const MAX_LENGTH: usize = 128;

/// What a password is checked against.
pub struct PolicyContext<'a> {
    pub min_length: u32,
    pub login: &'a str,
    pub names: [&'a str; 2],
    pub school_name: &'a str,
}

impl<'a> PolicyContext<'a> {
    /// What a password of `account` in `school` is checked against.
    pub fn of(school: &'a crate::domain::School, account: &'a crate::domain::Account) -> Self {
        Self {
            min_length: school.settings.password_min_length,
            login: account.login.as_str(),
            names: [&account.first_name, &account.last_name],
            school_name: &school.name,
        }
    }
}

/// `password` for `account` in `school`, or `PasswordPolicy` with every broken rule.
pub fn ensure(
    password: &SecretString,
    school: &crate::domain::School,
    account: &crate::domain::Account,
    field: &str,
) -> crate::domain::Result<()> {
    let broken = check(password, &PolicyContext::of(school, account), field);
    if broken.is_empty() {
        Ok(())
    } else {
        Err(crate::domain::Error::PasswordPolicy(broken))
    }
}

/// Every rule `password` breaks, reported on `field`.
pub fn check(password: &SecretString, context: &PolicyContext<'_>, field: &str) -> Vec<FieldError> {
    let password = password.expose_secret();
    let mut errors = Vec::new();
    let length = password.chars().count();
    let min = context.min_length as usize;
    if length < min {
        errors.push(FieldError::rule(
            field,
            "too_short",
            format!("must be at least {min} characters long"),
        ));
    }
    if length > MAX_LENGTH {
        errors.push(FieldError::rule(
            field,
            "too_long",
            format!("must be at most {MAX_LENGTH} characters long"),
        ));
    }
    let folded: String = fold(password).chars().filter(|c| c.is_alphanumeric()).collect();
    if passwords::analyzer::is_common_password(password) || passwords::analyzer::is_common_password(&folded) {
        errors.push(FieldError::rule(
            field,
            "common",
            "is one of the most common passwords",
        ));
    }
    let contains = |word: &str| {
        let word: String = fold(word).chars().filter(|c| c.is_alphanumeric()).collect();
        word.len() >= 3 && folded.contains(&word)
    };
    let login_parts = context.login.split(['.', '-', '_']);
    if contains(context.login) || login_parts.clone().any(|p| p.len() >= 4 && contains(p)) {
        errors.push(FieldError::rule(
            field,
            "contains_login",
            "must not contain the login",
        ));
    }
    if context
        .names
        .iter()
        .flat_map(|n| n.split([' ', '-', '\'']))
        .any(contains)
    {
        errors.push(FieldError::rule(
            field,
            "contains_name",
            "must not contain the person's name",
        ));
    }
    let school_words = context
        .school_name
        .split([' ', '-', '\''])
        .filter(|w| w.chars().count() >= 5);
    if contains(context.school_name) || school_words.clone().any(contains) {
        errors.push(FieldError::rule(
            field,
            "contains_school_name",
            "must not contain the school's name",
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(password: &str) -> Vec<String> {
        let context = PolicyContext {
            min_length: 8,
            login: "zoe.lefevre",
            names: ["Zoé", "Lefèvre"],
            school_name: "École Jules Ferry",
        };
        check(&SecretString::from(password), &context, "password")
            .into_iter()
            .filter_map(|e| e.code)
            .collect()
    }

    #[test]
    fn a_long_unrelated_passphrase_passes() {
        assert!(rules("tortue-violette-nuage").is_empty());
    }

    #[test]
    fn each_broken_rule_is_named() {
        assert_eq!(rules("q7Vz-w"), ["too_short"]);
        assert!(rules("password123").contains(&"common".to_owned()));
        assert!(rules("ZOE.lefevre!!").contains(&"contains_login".to_owned()));
        assert!(rules("mon-chat-lefevre").contains(&"contains_name".to_owned()));
        assert!(rules("vive-jules-ferry").contains(&"contains_school_name".to_owned()));
        assert_eq!(rules(&"é".repeat(129)), ["too_long"]);
    }

    #[test]
    fn length_counts_code_points_not_bytes() {
        assert!(!rules("éééééééé").contains(&"too_short".to_owned()));
    }
}
