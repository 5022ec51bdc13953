//! One way to build Sésame. The edge, every Lambda function and the tests read
//! their configuration their own way, then hand it with their adapters to
//! [`App::build`] and serve [`App::router`].

use crate::domain::Email;
use crate::http::{AppState, Group, router_with};
use crate::ops::Sesame;
use crate::ports::{Clock, FileStore, JobQueue, Mailer, Store};
use crate::token::TokenKey;
use axum::Router;
use std::sync::Arc;

/// What every deployment decides, read once at start.
pub struct AppConfig {
    /// Seals remembered idempotent responses (≥ 32 bytes in deployments).
    pub data_key: Vec<u8>,
    /// Verifies bearer tokens; absent when an authorizer in front verifies them.
    pub token_key: Option<TokenKey>,
    /// The public base URL, where links in mail and files point.
    pub public_url: String,
    /// The sender of mail for schools whose settings name none.
    pub sender: Option<Email>,
    /// The only identity this deployment may send from (the cloud's SES identity,
    /// which its functions' policies name): schools' senders must belong to it.
    /// None where any sender goes (the edge's SMTP server decides).
    pub mail_identity: Option<crate::domain::MailIdentity>,
    /// Whether this app serves the console at `/` (the edge does; the cloud's
    /// functions serve the API only).
    pub console: bool,
    /// Proxies in front of this app whose `X-Forwarded-For` names the client (the
    /// edge behind a TLS proxy); the cloud reads API Gateway's `sourceIp` instead.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Whether this process alone answers the sign-ins and unlocks of its store
    /// (the edge on SQLite), so that a burst at a locked account may be answered
    /// from memory; never in the cloud, where an unlock runs in another function.
    pub alone: bool,
}

/// Where credential files live.
pub enum Files {
    /// Behind links another service serves (S3 presigned links), or nowhere.
    Linked(Arc<dyn FileStore>),
    /// On disk, behind signed links this app serves itself.
    #[cfg(feature = "edge")]
    Served(Arc<crate::adapters::disk::DiskFiles>),
}

/// Who builds queued exports.
pub enum Jobs {
    /// Another process (the export worker fed by the table's stream).
    Elsewhere(Arc<dyn JobQueue>),
    /// A background task of this process, which also sweeps old files and records
    /// (needs a Tokio runtime at build time).
    #[cfg(feature = "edge")]
    InProcess,
}

/// The adapters a deployment plugs into the ports.
pub struct Adapters {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub mailer: Arc<dyn Mailer>,
    pub files: Files,
    pub jobs: Jobs,
}

/// A built Sésame: its state, and the routes it serves beyond the API.
#[derive(Clone)]
pub struct App {
    pub state: AppState,
    extra: Option<Router>,
}

impl App {
    pub fn build(config: AppConfig, adapters: Adapters) -> anyhow::Result<Self> {
        let Adapters {
            store,
            clock,
            mailer,
            files,
            jobs,
        } = adapters;
        #[cfg_attr(not(feature = "edge"), allow(clippy::infallible_destructuring_match))]
        let (files, extra): (Arc<dyn FileStore>, Option<Router>) = match files {
            Files::Linked(files) => (files, None),
            #[cfg(feature = "edge")]
            Files::Served(disk) => (
                disk.clone(),
                Some(crate::http::files::router(disk, clock.clone())),
            ),
        };
        #[cfg(feature = "edge")]
        let mut worker = None;
        #[cfg_attr(not(feature = "edge"), allow(clippy::infallible_destructuring_match))]
        let jobs: Arc<dyn JobQueue> = match jobs {
            Jobs::Elsewhere(queue) => queue,
            #[cfg(feature = "edge")]
            Jobs::InProcess => {
                let (queue, receiver) = crate::jobs::local_jobs();
                worker = Some(receiver);
                Arc::new(queue)
            }
        };
        let ports = crate::ops::Ports {
            store,
            clock,
            mailer,
            files,
            jobs,
        };
        let state = AppState::new(ports, config.token_key, &config.data_key, &config.public_url)?
            .with_sender(config.sender, config.mail_identity)
            .with_sign_in_page(config.console)
            .with_trusted_proxies(&config.trusted_proxies)
            .with_remembered_locks(config.alone);
        let extra = match (config.console, extra) {
            (false, extra) => extra,
            (true, None) => Some(crate::http::console::router(state.clone())),
            (true, Some(extra)) => Some(extra.merge(crate::http::console::router(state.clone()))),
        };
        #[cfg(feature = "edge")]
        if let Some(worker) = worker {
            worker.spawn(state.sesame.clone());
        }
        Ok(Self { state, extra })
    }

    pub fn sesame(&self) -> &Sesame {
        &self.state.sesame
    }

    /// The routes of `groups`, and the file downloads when this app serves them.
    pub fn router(&self, groups: &[Group]) -> Router {
        router_with(self.state.clone(), groups, self.extra.clone())
    }
}
