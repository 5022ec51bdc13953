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

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the request is invalid")]
    Validation(Vec<FieldError>),
    #[error("the password does not meet the school's policy")]
    PasswordPolicy(Vec<FieldError>),
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
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
    Conflict { code: &'static str, detail: String },
    #[error("too many failed attempts; try again later")]
    Locked { retry_after_secs: u64 },
    /// The server is saturated (its password-checking queue is full): try again.
    #[error("the server is busy; try again shortly")]
    Busy { retry_after_secs: u64 },
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl Error {
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            detail: detail.into(),
        }
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            detail: detail.into(),
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// The stable, machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::PasswordPolicy(_) => "password_policy",
            Self::BadRequest { code, .. } | Self::Conflict { code, .. } => code,
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidCredentials => "invalid_credentials",
            Self::AccessDisabled => "access_disabled",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Federated { .. } => "federated_account",
            Self::Locked { .. } => "too_many_attempts",
            Self::Busy { .. } => "busy",
            Self::Internal(_) => "internal",
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
