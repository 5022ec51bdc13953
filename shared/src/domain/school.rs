//! Schools (tenants) and their settings.

use super::ids::{Email, SchoolId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    Fr,
    En,
}

impl Language {
    /// Its BCP 47 tag: `fr` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::En => "en",
        }
    }
}

/// Per-school settings (SPEC §4 `/v1/settings`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Settings {
    /// Days a temporary password stays valid (1–90).
    pub temporary_password_days: u32,
    /// Legacy mode: a reset may set the password to the birth date `ddmmyyyy`.
    pub birth_date_mode: bool,
    /// Minimum password length in code points (8–64).
    pub password_min_length: u32,
    /// Days a disabled account is kept before it is `pre_deletion` (1–3650).
    pub retention_days: u32,
    /// Days the distributions and the accounts' credential ledgers keep what they
    /// record, as long as the school keeps its audit (30–3650; one year by default).
    #[serde(default = "default_audit_days")]
    pub audit_days: u32,
    /// The address users log in at, printed on credential sheets.
    pub login_url: String,
    /// Sender address of the school's mail; in the cloud, an address of the
    /// deployment's mail identity (the only one it may send as).
    #[schema(value_type = Option<String>)]
    pub sender: Option<Email>,
    pub language: Language,
    /// The school's time zone (an IANA name): every date a person reads, in
    /// files, on cards, in mail and on pages, is shown in it.
    #[serde(default)]
    #[schema(value_type = String, example = "Europe/Paris")]
    pub time_zone: TimeZone,
    /// The `sourcedId` of the school's org in OneRoster bundles: their users of
    /// other orgs are left out. `null`: the bundle's only school.
    #[serde(default)]
    pub oneroster_org: Option<String>,
}

fn default_audit_days() -> u32 {
    365
}

/// A time zone of the IANA database (`Europe/Paris` unless a school says otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    /// The zone of an IANA name (`Europe/Paris`, `America/Cayenne`), if it is one.
    pub fn parse(name: &str) -> Option<Self> {
        name.parse::<chrono_tz::Tz>().ok().map(Self)
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// `at` as the school's clocks show it.
    pub fn local(self, at: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono_tz::Tz> {
        at.with_timezone(&self.0)
    }
}

impl Default for TimeZone {
    fn default() -> Self {
        Self(chrono_tz::Europe::Paris)
    }
}

impl Serialize for TimeZone {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for TimeZone {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("{name:?} is not an IANA time zone")))
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            temporary_password_days: 10,
            birth_date_mode: false,
            password_min_length: 8,
            retention_days: 90,
            audit_days: default_audit_days(),
            login_url: "http://127.0.0.1:8080/".to_owned(),
            sender: None,
            language: Language::Fr,
            time_zone: TimeZone::default(),
            oneroster_org: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct School {
    pub id: SchoolId,
    pub name: String,
    pub settings: Settings,
    pub version: u64,
}

impl School {
    /// A school not stored yet.
    pub fn new(id: SchoolId, name: impl Into<String>, settings: Settings) -> Self {
        Self {
            id,
            name: name.into(),
            settings,
            version: 0,
        }
    }
}

/// A class of a school, as imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Class {
    pub name: super::ids::ClassName,
    pub level: Option<String>,
}
