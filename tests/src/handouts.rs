//! The secrets a student or parent receives: a reset link, an activation code.
//! Tests take them from here, so that where they come from (today the operations,
//! later the mail that carries them) is decided in one place.

use crate::Fixture;
use secrecy::ExposeSecret;
use sesame::domain::{AccountId, SchoolId};

impl Fixture {
    fn school_and_id(&self, ext: &str) -> (SchoolId, AccountId) {
        let school = if ext.starts_with('H') {
            "hillside"
        } else {
            "riverside"
        };
        (
            SchoolId::parse(school).unwrap(),
            AccountId::parse(self.id(ext)).unwrap(),
        )
    }

    /// The reset link `ext` receives: the whole address of `/reset/{token}`.
    pub async fn reset_link(&self, ext: &str) -> String {
        let (school, id) = self.school_and_id(ext);
        let (token, _) = self
            .app
            .state
            .sesame
            .issue_reset_link(&school, &id)
            .await
            .expect("a reset link is issued");
        self.app.state.sesame.reset_url(&token).expose_secret().to_owned()
    }

    /// The activation code `ext` (a pending account) receives.
    pub async fn activation_code(&self, ext: &str) -> String {
        let (school, id) = self.school_and_id(ext);
        let (code, _) = self
            .app
            .state
            .sesame
            .issue_activation_code(&school, &id)
            .await
            .expect("an activation code is issued");
        code.expose_secret().to_owned()
    }
}

/// The token of a reset link (its last path segment).
pub fn token_of(link: &str) -> &str {
    link.rsplit('/').next().unwrap_or_default()
}
