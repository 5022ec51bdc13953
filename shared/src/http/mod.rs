//! The HTTP API as one axum `Router`, served by `axum::serve` on the edge and by
//! `lambda_http::run` in the cloud (one group of routes per function).

// Handlers return `Result<_, Problem>`: the error is the response body itself, built
// once per failed request, so its size does not matter.
#![allow(clippy::result_large_err)]

pub mod auth;
pub mod console;
pub mod dto;
pub mod extract;
#[cfg(feature = "edge")]
pub mod files;
#[cfg(feature = "lambda")]
pub mod gateway;
pub mod idempotency;
pub mod pages;
pub mod problem;
pub mod routes;
pub mod ui;

use crate::domain::Code;
use crate::ops::Sesame;
use auth::Authenticator;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::StatusCode;
use problem::Problem;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

/// Largest JSON body accepted (imports have their own, larger limit).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub sesame: Sesame,
    pub auth: Arc<Authenticator>,
    /// Proxies whose `X-Forwarded-For` names the client (the edge behind a proxy).
    pub trusted_proxies: Arc<[std::net::IpAddr]>,
    /// Seals what a page keeps in a form for a later post (the console's previewed
    /// roster), so that the post brings back exactly what the page was given.
    pub form_sealer: crate::seal::Sealer,
}

/// The groups of endpoints, one per Lambda function in the cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// `GET /v1/classes`, `/v1/accounts`, `/v1/accounts/{id}`.
    List,
    /// `POST /v1/accounts/reset-password`, `PUT /v1/accounts/{id}/password`.
    Reset,
    Activate,
    Deactivate,
    Settings,
    Audit,
    Imports,
    /// `/v1/exports`, `/v1/exports/{id}`.
    Exports,
    /// `/v1/auth/*`, and the pages `/reset/{token}` and `/activate`.
    SelfService,
    /// `/healthz`, `/openapi.json`.
    System,
    /// `POST /v1/accounts/send-activation`.
    Mail,
    /// `/v1/distributions*`, `/v1/classes/{name}/follow-up`,
    /// `/v1/accounts/{id}/credentials`, `POST /v1/accounts/unlock`.
    Distributions,
}

impl Group {
    pub const ALL: [Group; 12] = [
        Self::List,
        Self::Reset,
        Self::Activate,
        Self::Deactivate,
        Self::Settings,
        Self::Audit,
        Self::Imports,
        Self::Exports,
        Self::SelfService,
        Self::System,
        Self::Mail,
        Self::Distributions,
    ];

    /// Whether this group's endpoints send mail (its function needs a mailer).
    pub fn sends_mail(self) -> bool {
        matches!(self, Self::Reset | Self::Mail)
    }

    fn routes(self) -> OpenApiRouter<AppState> {
        match self {
            Self::List => routes::accounts::routes(),
            Self::Reset => routes::passwords::routes(),
            Self::Activate => routes::access::activate_routes(),
            Self::Deactivate => routes::access::deactivate_routes(),
            Self::Settings => routes::settings::routes(),
            Self::Audit => routes::audit::routes(),
            Self::Imports => {
                routes::imports::routes().layer(DefaultBodyLimit::max(routes::imports::MAX_IMPORT_BYTES))
            }
            Self::Exports => routes::exports::routes(),
            Self::SelfService => routes::selfservice::routes().merge(pages::routes()),
            Self::System => routes::system::routes(),
            Self::Mail => routes::mail::routes(),
            Self::Distributions => routes::distributions::routes(),
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Sésame", description = "Login accounts of a school: list, reset, activate, distribute. Query values are read without the spaces around them (`?sort=%20name%20` is `name`)."),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .build();
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

fn merged(groups: &[Group]) -> OpenApiRouter<AppState> {
    groups
        .iter()
        .fold(OpenApiRouter::with_openapi(ApiDoc::openapi()), |router, g| {
            router.merge(g.routes())
        })
}

/// The OpenAPI 3.1 description of the whole API, generated from the handlers and
/// completed with the problems common to every route of a kind.
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = merged(&Group::ALL).split_for_parts().1;
        routes::common::complete(&mut doc);
        doc
    })
}

/// Self-service checks that may wait for the hashing pool at once; one more is
/// refused with 503 (at about 25 ms a check a core, the last waits a few seconds).
const SELF_SERVICE_QUEUE: usize = 256;

/// The router serving `groups`, with request ids, logs that carry no secret, body
/// limits and problem responses for unknown routes.
pub fn router(state: AppState, groups: &[Group]) -> Router {
    router_with(state, groups, None)
}

/// [`router`], with `extra` routes (the console, the file links) served under the
/// very same stack: request ids, trace spans, body limits, `no-store`.
pub fn router_with(state: AppState, groups: &[Group], extra: Option<Router>) -> Router {
    let (mut router, _) = merged(groups).split_for_parts();
    if groups.contains(&Group::System) {
        router = router.route(
            "/openapi.json",
            axum::routing::get(|| async { axum::Json(openapi()) }),
        );
    }
    let mut router: Router = router
        .fallback(|| async { Problem::new(StatusCode::NOT_FOUND, Code::NotFound, "no such resource") })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                Code::MethodNotAllowed,
                "this method is not allowed here",
            )
        })
        .with_state(state);
    if let Some(extra) = extra {
        router = router.merge(extra);
    }
    router
        .layer(axum::middleware::map_response(no_store))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(
            tower::ServiceBuilder::new()
                .layer(axum::middleware::map_request(drop_unfit_request_id))
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_request(())
                        .on_response(
                            |response: &axum::response::Response, latency: Duration, _: &Span| {
                                tracing::info!(
                                    status = response.status().as_u16(),
                                    latency_ms = latency.as_secs_f64() * 1e3,
                                    "request"
                                );
                            },
                        )
                        .on_failure(()),
                )
                .layer(PropagateRequestIdLayer::x_request_id()),
        )
}

/// A request id a client sent that is not fit for the log and the audit (too
/// long, or other characters than letters, digits and `-_.:`) is replaced by ours.
async fn drop_unfit_request_id(mut request: Request) -> Request {
    let fit = request
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().is_ok_and(extract::is_request_id));
    if fit == Some(false) {
        request.headers_mut().remove("x-request-id");
    }
    request
}

/// Nothing the API answers is for a cache to keep: its answers carry temporary
/// passwords, download links and personal data (SPEC §3). A page that says
/// otherwise keeps its own header.
async fn no_store(mut response: axum::response::Response) -> axum::response::Response {
    response
        .headers_mut()
        .entry(axum::http::header::CACHE_CONTROL)
        .or_insert(axum::http::HeaderValue::from_static("no-store"));
    response
}

/// The span of a request: its id, method and route template. Never the URI itself,
/// which may carry a token (`/reset/{token}`), nor any header or body.
fn request_span(request: &Request) -> Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!("request", request_id, method = %request.method(), route)
}

impl AppState {
    /// The state every deployment builds once at start-up. `data_secret` keys the
    /// sealing of remembered responses; `token_key` verifies bearer tokens (absent
    /// when an authorizer in front verifies them); `public_url` is where links point.
    pub(crate) fn new(
        ports: crate::ops::Ports,
        token_key: Option<crate::token::TokenKey>,
        data_secret: &[u8],
        public_url: &str,
    ) -> anyhow::Result<Self> {
        let crate::ops::Ports {
            store,
            clock,
            mailer,
            files,
            jobs,
        } = ports;
        let sesame = Sesame {
            schools: store.clone(),
            accounts: store.clone(),
            guards: store.clone(),
            exports: store.clone(),
            distributions: store.clone(),
            sessions: store.clone(),
            audit_log: store,
            clock,
            mailer,
            files,
            jobs,
            hasher: crate::credentials::Hasher::new(0)?,
            checker: crate::credentials::Hasher::bounded(0, SELF_SERVICE_QUEUE)?,
            locks: None,
            sealer: crate::seal::Sealer::derive(data_secret, "sesame idempotency v1"),
            public_url: public_url.trim_end_matches('/').to_owned(),
            sign_in_page: false,
            sender: None,
            mail_identity: None,
        };
        Ok(Self {
            sesame,
            auth: Arc::new(Authenticator::new(token_key)),
            trusted_proxies: Arc::new([]),
            form_sealer: crate::seal::Sealer::derive(data_secret, "sesame console form v1"),
        })
    }

    /// Whether this process alone answers the sign-ins and unlocks of its store
    /// (the edge on SQLite): then a lock it saw lately answers from memory.
    pub(crate) fn with_remembered_locks(mut self, alone: bool) -> Self {
        self.sesame.locks = alone.then(Arc::default);
        self
    }

    /// The deployment's sender address (`SESAME_SENDER`), for schools that set none.
    pub(crate) fn with_sender(
        mut self,
        sender: Option<crate::domain::Email>,
        mail_identity: Option<crate::domain::MailIdentity>,
    ) -> Self {
        self.sesame.sender = sender;
        self.sesame.mail_identity = mail_identity;
        self
    }

    pub(crate) fn with_trusted_proxies(mut self, proxies: &[std::net::IpAddr]) -> Self {
        self.trusted_proxies = proxies.into();
        self
    }

    pub(crate) fn with_sign_in_page(mut self, served: bool) -> Self {
        self.sesame.sign_in_page = served;
        self
    }
}
