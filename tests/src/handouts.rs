//! The secrets a student or parent receives: a reset link, an activation code.
//! Tests take them from here, so that where they come from (today the operations,
//! later the mail that carries them) is decided in one place.

use crate::Fixture;
use secrecy::{ExposeSecret, SecretString};
use sesame::domain::{AccountId, Caller, Result, Role, SchoolId};
use sesame::ops::secrets::Issuer;

impl Fixture {
    /// The school's `admin` as a caller of the operations.
    pub fn admin_caller(&self, school: &SchoolId) -> Caller {
        Caller {
            sub: "fixture".to_owned(),
            school: school.clone(),
            role: Role::Admin,
            classes: Vec::new(),
        }
    }

    /// A reset link for `ext` handed out by an admin, straight from the operation.
    pub async fn issue_reset_link(&self, ext: &str) -> Result<SecretString> {
        let (school, id) = self.school_and_id(ext);
        let caller = self.admin_caller(&school);
        let by = Issuer {
            caller: &caller,
            distribution: None,
        };
        let mut issued = self.app.state.sesame.issue_reset_links(by, &[id]).await?;
        issued.pop().expect("one result").result.map(|(token, _)| token)
    }

    /// An activation code for `ext` handed out by an admin, straight from the operation.
    pub async fn issue_activation_code(&self, ext: &str) -> Result<SecretString> {
        let (school, id) = self.school_and_id(ext);
        let caller = self.admin_caller(&school);
        let by = Issuer {
            caller: &caller,
            distribution: None,
        };
        let mut issued = self.app.state.sesame.issue_activation_codes(by, &[id]).await?;
        issued.pop().expect("one result").result.map(|(code, _)| code)
    }

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
        let token = self.issue_reset_link(ext).await.expect("a reset link is issued");
        self.app.state.sesame.reset_url(&token).expose_secret().to_owned()
    }

    /// The activation code `ext` (a pending account) receives.
    pub async fn activation_code(&self, ext: &str) -> String {
        let code = self
            .issue_activation_code(ext)
            .await
            .expect("an activation code is issued");
        code.expose_secret().to_owned()
    }
}

/// The token of a reset link (its last path segment).
pub fn token_of(link: &str) -> &str {
    link.rsplit('/').next().unwrap_or_default()
}

impl Fixture {
    /// The reset link as a person receives it: an administrator sends it
    /// (`email_link`) and it is read from the mail in the server's outbox.
    /// `ext` must have an e-mail address.
    pub async fn mailed_reset_link(&self, ext: &str) -> String {
        let body = serde_json::json!({"account_ids": [self.id(ext)], "method": "email_link"});
        let sent = self
            .app
            .post("/v1/accounts/reset-password", Some(&self.admin()), body)
            .await;
        assert_eq!(sent.status, 200, "{:?}", sent.body);
        let prefix = format!("{}/reset/", self.app.base);
        let mut mails: Vec<_> = std::fs::read_dir(self.app.outbox())
            .expect("the outbox exists")
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        mails.sort();
        let newest = std::fs::read_to_string(mails.last().expect("a mail was sent")).unwrap();
        let at = newest
            .find(&prefix)
            .unwrap_or_else(|| panic!("no reset link in {newest}"));
        newest[at..]
            .split(|c: char| c.is_whitespace() || c == '"' || c == '<')
            .next()
            .unwrap()
            .to_owned()
    }
}
