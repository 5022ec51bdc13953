//! The endpoints, grouped as the Lambda functions deploy them.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod common;
pub mod distributions;
pub mod exports;
pub mod imports;
pub mod mail;
pub mod passwords;
pub mod schema;
pub mod selfservice;
pub mod settings;
pub mod system;
