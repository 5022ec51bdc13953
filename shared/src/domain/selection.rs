//! Which accounts a caller asks for: the list's filters, which exports and
//! background mail take too. What the caller may see of them is the table's
//! (`ops::accounts` turns a selection into a store filter for a caller).

use super::account::{Access, Activation, LocalAdmin, Profile};
use super::email_state::EmailStatus;
use super::ids::ClassName;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which accounts a caller asks for (the list's filters, also used by exports).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    pub profiles: Vec<Profile>,
    pub classes: Vec<ClassName>,
    pub level: Option<String>,
    pub group: Option<String>,
    pub access: Option<Access>,
    pub activation: Option<Activation>,
    pub has_email: Option<bool>,
    /// Accounts with an address in this mail state.
    pub email_state: Option<EmailStatus>,
    pub local_admin: Option<LocalAdmin>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub disabled_within_days: Option<u32>,
    pub pre_deletion: Option<bool>,
    pub q: Option<String>,
}
