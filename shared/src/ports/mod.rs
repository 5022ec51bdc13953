//! Ports: the traits operations depend on; adapters implement them.

pub mod clock;
pub mod files;
pub mod jobs;
pub mod mailer;
pub mod store;

pub use clock::{Clock, SystemClock};
pub use files::{FileStore, NoFiles};
pub use jobs::{JobQueue, StoredJobs};
pub use mailer::{MailError, Mailer, Message, NoMail};
pub use store::{
    AccountCursor, AccountFilter, AccountPage, AccountQuery, AccountStore, Attempt, AuditPage, AuditQuery,
    AuditStore, DistributionPage, DistributionQuery, DistributionStore, ExportStore, GuardStore,
    IdempotencyRecord, SchoolStore, SessionStore, Store, StoreError, StoreResult, StoredResponse, Throttle,
    throttle,
};
