//! Adapters: implementations of the ports over real infrastructure.

#[cfg(feature = "edge")]
pub mod disk;
#[cfg(feature = "aws")]
pub mod dynamodb;
#[cfg(feature = "edge")]
pub mod outbox;
#[cfg(feature = "sqlite")]
pub mod sqlite;
