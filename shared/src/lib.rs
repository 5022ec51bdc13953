//! Sésame: login accounts of a school — listing, password resets, access, and
//! credential distribution — served as one HTTP API on the edge and in the cloud.

pub mod adapters;
pub mod app;
#[cfg(all(feature = "aws", feature = "lambda"))]
pub mod config;
#[cfg(feature = "contract")]
pub mod contract;
pub mod credentials;
pub mod demo;
pub mod domain;
pub mod export;
pub mod html;
pub mod http;
#[cfg(feature = "edge")]
pub mod jobs;
#[cfg(all(feature = "aws", feature = "lambda"))]
pub mod lambda;
pub mod mail;
pub mod ops;
pub mod ports;
pub mod seal;
pub mod token;
