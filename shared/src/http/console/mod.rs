//! The console's door (SPEC §11): `/` signs a Sésame account in; students and
//! parents get their own page (change the password, forced first when it is
//! temporary; sign out), staff and teachers the console. Plain forms that work
//! without JavaScript, in French and English, each carrying a CSRF token; the
//! session cookie is `HttpOnly`, `SameSite=Strict`, and `Secure` with the
//! `__Host-` prefix over HTTPS and on loopback.
//!
//! One module a page, each a thin rendering of the same commands the JSON API
//! calls (`ops/`), on the kit of `kit.rs` and the pages' `ui`. Every route is
//! listed here.

mod account;
mod accounts;
mod audit;
mod distributions;
mod door;
mod exports;
mod follow_up;
mod imports;
mod kit;
mod settings;

use super::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::Response;
use axum::routing::{get, post};

/// The console's routes (the edge serves them; the cloud's functions do not).
pub fn router(state: AppState) -> Router {
    let roster_limit = DefaultBodyLimit::max(imports::MAX_FORM_BYTES);
    Router::new()
        .route("/", get(door::home))
        .route("/sign-in", post(door::sign_in))
        .route("/sign-out", post(door::sign_out))
        .route("/me", get(door::me))
        .route("/me/password", post(door::change_password))
        .route("/console", get(door::console))
        .route("/console.css", get(stylesheet))
        .route("/console.js", get(script))
        .route("/console/accounts", get(accounts::accounts))
        .route("/console/accounts/act", post(accounts::act))
        .route("/console/accounts/reset", post(accounts::reset))
        .route("/console/accounts/{id}", get(account::account))
        .route("/console/accounts/{id}/password", post(account::set_password))
        .route("/console/accounts/{id}/unlock", post(account::unlock))
        .route("/console/accounts/{id}/email", post(account::change_email))
        .route("/console/exports/{id}", get(exports::export))
        .route("/console/imports", get(imports::imports))
        .route(
            "/console/imports/preview",
            post(imports::preview).layer(roster_limit),
        )
        .route("/console/imports/apply", post(imports::apply).layer(roster_limit))
        .route("/console/follow-up", get(follow_up::follow_ups))
        .route("/console/follow-up/{class}", get(follow_up::follow_up))
        .route(
            "/console/follow-up/{class}/send",
            post(follow_up::send_to_pending),
        )
        .route("/console/follow-up/{class}/cards", post(follow_up::cards))
        .route("/console/distributions", get(distributions::distributions))
        .route("/console/distributions/{id}", get(distributions::distribution))
        .route("/console/distributions/{id}/revoke", post(distributions::revoke))
        .route("/console/audit", get(audit::audit))
        .route(
            "/console/settings",
            get(settings::settings).post(settings::save_settings),
        )
        .layer(axum::middleware::map_response(super::ui::security_headers))
        .with_state(state)
}

/// The console's one stylesheet and one small script, served by `sesame` itself.
const STYLESHEET: &str = include_str!("assets/console.css");
const SCRIPT: &str = include_str!("assets/console.js");

async fn stylesheet() -> Response {
    super::ui::asset(STYLESHEET, "text/css; charset=utf-8")
}

async fn script() -> Response {
    super::ui::asset(SCRIPT, "text/javascript; charset=utf-8")
}
