//! Secrets: hashing, temporary passwords, the password policy.

pub mod hashing;
pub mod links;
pub mod passphrase;
pub mod policy;
/// The lockout rules live in the domain; this is their older name.
pub use crate::domain::lockout as throttle;

pub use hashing::Hasher;

/// Lowercase hexadecimal of a digest or MAC (token hashes, request fingerprints,
/// signed links).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
