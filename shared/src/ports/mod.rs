//! Ports: the traits operations depend on; adapters implement them.

pub mod clock;
pub mod store;

pub use clock::{Clock, SystemClock};
pub use store::{
    AccountCursor, AccountFilter, AccountPage, AccountQuery, AuditPage, AuditQuery, IdempotencyRecord, Store,
    StoreError, StoreResult, StoredResponse, Throttle,
};
