//! Which SES API carries the cloud's mail (`SESAME_SES_API`): v2 `SendEmail`, or
//! v1 `SendRawEmail` for emulators without SES v2. A setting of each deployment's
//! configuration, read once at start; [`super::ses::mailer`] builds the mailer.

/// The environment variable that chooses the SES API.
pub const SES_API_VAR: &str = "SESAME_SES_API";

/// Which SES API carries mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SesApi {
    /// v1 `SendRawEmail` of a MIME message (LocalStack community has no SES v2).
    V1,
    /// v2 `SendEmail` with simple content.
    #[default]
    V2,
}

#[derive(Debug, thiserror::Error)]
#[error("SESAME_SES_API must be v1 or v2 (unset or empty means v2), not {0:?}")]
pub struct UnknownSesApi(String);

impl SesApi {
    /// `v1` or `v2`; nothing (or an empty value, as templates pass an unset
    /// parameter) is v2.
    pub fn parse(raw: Option<&str>) -> Result<Self, UnknownSesApi> {
        match raw {
            None | Some("" | "v2") => Ok(Self::V2),
            Some("v1") => Ok(Self::V1),
            Some(other) => Err(UnknownSesApi(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_empty_and_v2_mean_v2_and_v1_means_v1() {
        for raw in [None, Some(""), Some("v2")] {
            assert_eq!(SesApi::parse(raw).unwrap(), SesApi::V2, "{raw:?}");
        }
        assert_eq!(SesApi::parse(Some("v1")).unwrap(), SesApi::V1);
    }

    #[test]
    fn any_other_value_is_refused_by_a_message_naming_the_variable_and_the_value() {
        for raw in ["v3", "V1", "sesv2", " v1"] {
            let error = SesApi::parse(Some(raw)).unwrap_err().to_string();
            assert!(error.contains("SESAME_SES_API"), "{error}");
            assert!(error.contains(&format!("{raw:?}")), "{error}");
        }
    }
}
