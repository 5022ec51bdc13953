//! Secrets: hashing, temporary passwords, the password policy, brute-force counters.

pub mod hashing;
pub mod links;
pub mod passphrase;
pub mod policy;
pub mod throttle;

pub use hashing::Hasher;
