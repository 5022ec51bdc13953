//! The one error type of Sésame's operations. The HTTP layer maps it to a problem
//! response in one place (`http::problem`).

use super::caller::Denied;

/// A field that failed validation, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
    /// A stable rule name, e.g. `too_short` for the password policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            code: None,
        }
    }

    pub fn rule(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            code: Some(code.to_owned()),
        }
    }
}

/// Declares the stable codes: the enum, each code's text, and the list of all.
macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident => $text:literal,)+) => {
        /// The stable, machine-readable `code` of every problem Sésame answers
        /// (SPEC §4): clients, the pages and the tests match on these variants,
        /// never on strings.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, utoipa::ToSchema)]
        #[schema(rename_all = "snake_case")]
        pub enum Code {
            $($(#[$doc])* $variant,)+
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)+
                }
            }
        }
    };
}

codes! {
    ValidationFailed => "validation_failed",
    PasswordPolicy => "password_policy",
    Unauthenticated => "unauthenticated",
    InvalidCredentials => "invalid_credentials",
    AccessDisabled => "access_disabled",
    Forbidden => "forbidden",
    NotFound => "not_found",
    FederatedAccount => "federated_account",
    TooManyAttempts => "too_many_attempts",
    Busy => "busy",
    /// The store did not answer (an outage, throttling beyond the retries): try again.
    Unavailable => "unavailable",
    /// The address is marked bounced or complained: no mail goes there.
    EmailUndeliverable => "email_undeliverable",
    Internal => "internal",
    /// The resource changed meanwhile.
    Conflict => "conflict",
    LoginTaken => "login_taken",
    InvalidLink => "invalid_link",
    LinkExpired => "link_expired",
    InvalidActivationCode => "invalid_activation_code",
    ActivationCodeExpired => "activation_code_expired",
    AlreadyActivated => "already_activated",
    BirthDateModeDisabled => "birth_date_mode_disabled",
    NoBirthDate => "no_birth_date",
    NotAPasswordMethod => "not_a_password_method",
    CannotDeactivateSelf => "cannot_deactivate_self",
    InvalidCursor => "invalid_cursor",
    InvalidFile => "invalid_file",
    MalformedJson => "malformed_json",
    UnreadableBody => "unreadable_body",
    UnsupportedMediaType => "unsupported_media_type",
    PayloadTooLarge => "payload_too_large",
    MethodNotAllowed => "method_not_allowed",
    InvalidQuery => "invalid_query",
    InvalidIdempotencyKey => "invalid_idempotency_key",
    IdempotencyKeyReused => "idempotency_key_reused",
    IdempotencyInProgress => "idempotency_in_progress",
    FileDeleted => "file_deleted",
    NoEmail => "no_email",
    MailFailed => "mail_failed",
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the request is invalid")]
    Validation(Vec<FieldError>),
    #[error("the password does not meet the school's policy")]
    PasswordPolicy(Vec<FieldError>),
    #[error("{detail}")]
    BadRequest { code: Code, detail: String },
    #[error("authentication is required")]
    Unauthenticated,
    #[error("the login or password is incorrect")]
    InvalidCredentials,
    #[error("this account's access is disabled")]
    AccessDisabled,
    #[error("you may not do this")]
    Forbidden,
    #[error("no such resource")]
    NotFound,
    #[error("this account is managed by the directory {directory}; change its password there")]
    Federated { directory: String },
    #[error("{detail}")]
    Conflict { code: Code, detail: String },
    #[error("too many failed attempts; try again later")]
    Locked { retry_after_secs: u64 },
    /// The server is saturated (its password-checking queue is full): try again.
    #[error("the server is busy; try again shortly")]
    Busy { retry_after_secs: u64 },
    /// The store failed or did not answer: nothing was decided, try again (503
    /// with `Retry-After`, never a wrong password nor a 500). Logged like an
    /// internal error.
    #[error("the service is unavailable for a moment; try again shortly")]
    Unavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl Error {
    pub fn conflict(code: Code, detail: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            detail: detail.into(),
        }
    }

    pub fn bad_request(code: Code, detail: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            detail: detail.into(),
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// The stable, machine-readable code of this error.
    pub fn code(&self) -> Code {
        match self {
            Self::Validation(_) => Code::ValidationFailed,
            Self::PasswordPolicy(_) => Code::PasswordPolicy,
            Self::BadRequest { code, .. } | Self::Conflict { code, .. } => *code,
            Self::Unauthenticated => Code::Unauthenticated,
            Self::InvalidCredentials => Code::InvalidCredentials,
            Self::AccessDisabled => Code::AccessDisabled,
            Self::Forbidden => Code::Forbidden,
            Self::NotFound => Code::NotFound,
            Self::Federated { .. } => Code::FederatedAccount,
            Self::Locked { .. } => Code::TooManyAttempts,
            Self::Busy { .. } => Code::Busy,
            Self::Unavailable(_) => Code::Unavailable,
            Self::Internal(_) => Code::Internal,
        }
    }

    /// What the client may be told. Internal errors say nothing of their cause.
    pub fn detail(&self) -> String {
        match self {
            Self::PasswordPolicy(errors) => {
                let rules: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
                format!("The password does not meet the policy: {}", rules.join("; "))
            }
            _ => self.to_string(),
        }
    }
}

impl From<Denied> for Error {
    fn from(denied: Denied) -> Self {
        match denied {
            Denied::NotFound => Self::NotFound,
            Denied::Forbidden => Self::Forbidden,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::Code;

    #[test]
    fn every_code_is_distinct_snake_case_text_and_serialises_as_it() {
        let texts: std::collections::BTreeSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(texts.len(), Code::ALL.len());
        for code in Code::ALL {
            assert!(code.as_str().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }
}
