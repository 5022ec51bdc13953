//! Adapters: implementations of the ports over real infrastructure.

#[cfg(feature = "sqlite")]
pub mod sqlite;
