//! Per-school settings. Both administrators read them; only `admin` changes them.

use super::{Actor, Sesame};
use crate::domain::{Caller, Email, Error, FieldError, Language, Outcome, Result, School, TimeZone};
use crate::ports::StoreError;

/// The settings to change; absent fields keep their value.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    pub school_name: Option<String>,
    pub temporary_password_days: Option<u32>,
    pub birth_date_mode: Option<bool>,
    pub password_min_length: Option<u32>,
    pub retention_days: Option<u32>,
    pub audit_days: Option<u32>,
    pub login_url: Option<String>,
    /// An e-mail address, or `null` to clear it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub sender: Option<Option<String>>,
    pub language: Option<Language>,
    /// An IANA time zone name, e.g. `Europe/Paris`, `America/Cayenne`, `Indian/Reunion`.
    pub time_zone: Option<String>,
    /// The `sourcedId` of the school's org in OneRoster bundles, or `null` to clear it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub oneroster_org: Option<Option<String>>,
}

fn double_option<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    serde::Deserialize::deserialize(d).map(Some)
}

fn in_range(errors: &mut Vec<FieldError>, field: &str, value: Option<u32>, min: u32, max: u32) {
    if value.is_some_and(|v| !(min..=max).contains(&v)) {
        errors.push(FieldError::new(field, format!("must be between {min} and {max}")));
    }
}

impl SettingsPatch {
    fn apply(self, school: &mut School) -> Result<()> {
        let mut errors = Vec::new();
        in_range(
            &mut errors,
            "temporary_password_days",
            self.temporary_password_days,
            1,
            90,
        );
        in_range(
            &mut errors,
            "password_min_length",
            self.password_min_length,
            8,
            64,
        );
        in_range(&mut errors, "retention_days", self.retention_days, 1, 3650);
        in_range(&mut errors, "audit_days", self.audit_days, 30, 3650);
        if let Some(name) = &self.school_name
            && (name.trim().is_empty() || name.chars().count() > 200)
        {
            errors.push(FieldError::new("school_name", "must be 1 to 200 characters"));
        }
        if let Some(name) = &self.school_name
            && crate::domain::text::has_control(name)
        {
            errors.push(FieldError::new(
                "school_name",
                "must not contain control characters (line breaks, tabs…)",
            ));
        }
        if let Some(url) = &self.login_url
            && (!(url.starts_with("https://") || url.starts_with("http://")) || url.chars().count() > 500)
        {
            errors.push(FieldError::new(
                "login_url",
                "must be an http(s) URL of at most 500 characters",
            ));
        }
        let time_zone = match self
            .time_zone
            .as_deref()
            .map(|raw| (raw, TimeZone::parse(raw.trim())))
        {
            Some((_, Some(zone))) => Some(zone),
            Some((raw, None)) => {
                errors.push(FieldError::new(
                    "time_zone",
                    format!("{raw:?} is not an IANA time zone (e.g. Europe/Paris)"),
                ));
                None
            }
            None => None,
        };
        let sender = match self.sender {
            Some(Some(raw)) => match Email::parse(&raw) {
                Ok(email) => Some(Some(email)),
                Err(e) => {
                    errors.push(FieldError::new("sender", e.to_string()));
                    None
                }
            },
            Some(None) => Some(None),
            None => None,
        };
        if let Some(Some(org)) = &self.oneroster_org
            && (org.trim().is_empty() || org.chars().count() > 255 || crate::domain::text::has_control(org))
        {
            errors.push(FieldError::new(
                "oneroster_org",
                "must be 1 to 255 characters, without control characters",
            ));
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let s = &mut school.settings;
        if let Some(name) = self.school_name {
            school.name = name.trim().to_owned();
        }
        s.temporary_password_days = self.temporary_password_days.unwrap_or(s.temporary_password_days);
        s.birth_date_mode = self.birth_date_mode.unwrap_or(s.birth_date_mode);
        s.password_min_length = self.password_min_length.unwrap_or(s.password_min_length);
        s.retention_days = self.retention_days.unwrap_or(s.retention_days);
        s.audit_days = self.audit_days.unwrap_or(s.audit_days);
        s.login_url = self.login_url.unwrap_or_else(|| s.login_url.clone());
        s.language = self.language.unwrap_or(s.language);
        s.time_zone = time_zone.unwrap_or(s.time_zone);
        if let Some(sender) = sender {
            s.sender = sender;
        }
        if let Some(org) = self.oneroster_org {
            s.oneroster_org = org.map(|o| o.trim().to_owned());
        }
        Ok(())
    }
}

impl Sesame {
    /// Creates `school` unless a school with its id exists; says whether it did.
    /// Creating is not an act of a caller: the edge's command line and the demo do it.
    pub async fn create_school(&self, school: &School) -> Result<bool> {
        if self.schools.get_school(&school.id).await?.is_some() {
            return Ok(false);
        }
        match self.schools.put_school(school).await {
            Ok(()) => Ok(true),
            // Created meanwhile by someone else.
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get_settings(&self, caller: &Caller) -> Result<School> {
        if !caller.may_do(crate::domain::Task::ReadSettings) {
            return Err(Error::Forbidden);
        }
        self.school(&caller.school).await
    }

    pub async fn update_settings(
        &self,
        caller: &Caller,
        request_id: Option<&str>,
        patch: SettingsPatch,
    ) -> Result<School> {
        if !caller.may_do(crate::domain::Task::ChangeSettings) {
            return Err(Error::Forbidden);
        }
        let school = super::bulk::optimistic(|| async {
            let mut school = self.school(&caller.school).await?;
            patch.clone().apply(&mut school)?;
            if let (Some(sender), Some(identity)) = (&school.settings.sender, &self.mail_identity)
                && !identity.covers(sender)
                && patch.sender.is_some()
            {
                return Err(Error::Validation(vec![FieldError::new(
                    "sender",
                    format!(
                        "this deployment sends mail as {identity} only: the sender must be an address of it"
                    ),
                )]));
            }
            match self.schools.put_school(&school).await {
                Ok(()) => {
                    school.version += 1;
                    Ok(Some(school))
                }
                Err(StoreError::Conflict) => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
        let actor = Actor::caller(caller, request_id);
        self.audit(
            actor,
            &caller.school,
            "settings.update",
            vec![],
            Outcome::Ok,
            None,
        )
        .await?;
        Ok(school)
    }
}
