//! Domain types: accounts, schools, callers and their permissions, audit events.
//! Nothing here knows about HTTP, SQL or any SDK.

pub mod account;
pub mod audit;
pub mod caller;
pub mod distribution;
pub mod email_state;
pub mod error;
pub mod export_job;
pub mod ids;
pub mod import_job;
pub mod lockout;
pub mod permissions;
pub mod school;
pub mod secret;
pub mod selection;
pub mod session;
pub mod text;

pub use account::{Access, Account, Activation, LocalAdmin, Profile, Sort, Source};
pub use audit::{AuditEvent, Outcome};
pub use caller::{Caller, Denied, Role};
pub use distribution::{Distribution, DistributionKind, MailRun, RunResult, RunStatus};
pub use email_state::{DeliveryEvent, DeliveryKind, EmailState, EmailStateView, EmailStatus};
pub use error::{Code, Error, FieldError, Result};
pub use export_job::{ExportFile, ExportJob, ExportRequest, ExportStatus, Scope};
pub use ids::{AccountId, ClassName, Email, Login, MailIdentity, ParseError, SchoolId};
pub use import_job::ImportJob;
pub use permissions::{Action, Kind, Task};
pub use school::{Class, Language, School, Settings, TimeZone};
pub use secret::{Closed, Closing, Credentials, Secret, SecretKind, SecretNote, SecretState};
pub use session::{Ended, Seat, Session};
