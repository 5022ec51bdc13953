//! Mail: the messages Sésame sends (activation, login information, reset link, and
//! the administrator's copy of each), in French and English, and their delivery
//! through any [`Mailer`](crate::ports::Mailer), retried with backoff while the
//! service throttles.

pub mod delivery;
pub mod templates;

pub mod events;
pub use delivery::{Backoff, Failure, deliver, deliver_noting};
pub use templates::{Kind, Letter};
