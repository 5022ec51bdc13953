//! Adapters: implementations of the ports over real infrastructure.

#[cfg(feature = "edge")]
pub mod disk;
#[cfg(feature = "aws")]
pub mod dynamodb;
#[cfg(any(feature = "smtp", feature = "aws-mail"))]
pub mod mime;
#[cfg(feature = "edge")]
pub mod outbox;
#[cfg(feature = "aws-files")]
pub mod s3;
#[cfg(feature = "aws-mail")]
pub mod ses;
pub mod ses_api;
#[cfg(feature = "aws-mail")]
pub mod ses_v1;
#[cfg(feature = "smtp")]
pub mod smtp;
#[cfg(feature = "sqlite")]
pub mod sqlite;
