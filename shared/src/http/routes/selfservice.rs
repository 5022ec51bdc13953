//! Self-service for students and parents: log in, change the password, claim an
//! account with an activation code, use a reset link.

use crate::http::AppState;
use crate::http::extract::{ApiJson, ClientAddress, RequestId};
use crate::http::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(change_password))
        .routes(routes!(activate))
        .routes(routes!(reset))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub login: String,
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

impl From<crate::ops::auth::LoginOutcome> for LoginResponse {
    fn from(outcome: crate::ops::auth::LoginOutcome) -> Self {
        Self {
            account_id: outcome.account_id.into(),
            must_change_password: outcome.must_change_password,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    pub account_id: String,
    /// The password is temporary or was set by staff: choose a new one now.
    pub must_change_password: bool,
}

/// Checks a login and password. Any failure answers 401; a correct password on a
/// disabled account 403; too many failures 429 with `Retry-After`.
#[utoipa::path(post, path = "/v1/auth/login", tag = "self-service", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse),
        (status = 401, description = "The login or password is incorrect, whichever it is (`invalid_credentials`).", body = Problem),
        (status = 403, description = "The password is right but the account's access is disabled (`access_disabled`).", body = Problem),
        (status = 429, description = "Too many failed attempts on this login (`too_many_attempts`).", body = Problem),
        (status = 503, description = "The server is checking too many passwords at once (`busy`).", body = Problem)))]
async fn login(State(state): State<AppState>, body: ApiJson<LoginRequest>) -> ApiResult<Json<LoginResponse>> {
    let LoginRequest { login, password } = body.value;
    let outcome = state.sesame.login(&login, password).await?;
    Ok(Json(outcome.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub login: String,
    #[schema(value_type = String, format = Password)]
    pub current_password: SecretString,
    #[schema(value_type = String, format = Password)]
    pub new_password: SecretString,
}

/// Replaces the current (possibly temporary) password with one the user chooses.
#[utoipa::path(post, path = "/v1/auth/change-password", tag = "self-service", request_body = ChangePasswordRequest,
    responses((status = 200, body = LoginResponse),
        (status = 401, description = "The login or current password is incorrect (`invalid_credentials`).", body = Problem),
        (status = 403, description = "The password is right but the account's access is disabled (`access_disabled`).", body = Problem),
        (status = 422, description = "The new password does not meet the school's policy, or is the current one (`password_policy`, each broken rule in `errors`).", body = Problem),
        (status = 429, description = "Too many failed attempts on this login (`too_many_attempts`).", body = Problem),
        (status = 503, description = "The server is checking too many passwords at once, or the account kept changing meanwhile (`busy`).", body = Problem)))]
async fn change_password(
    State(state): State<AppState>,
    request_id: RequestId,
    body: ApiJson<ChangePasswordRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let ChangePasswordRequest {
        login,
        current_password,
        new_password,
    } = body.value;
    let outcome = state
        .sesame
        .change_password(request_id.as_deref(), &login, current_password, new_password)
        .await?;
    Ok(Json(outcome.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivateRequest {
    pub login: String,
    /// The 8-character code handed out by the school; case, spaces and dashes do not matter.
    #[schema(value_type = String, format = Password)]
    pub activation_code: SecretString,
    #[schema(value_type = String, format = Password)]
    pub new_password: SecretString,
}

/// Claims a pending account with its login and activation code, and sets the chosen
/// password. A wrong login or code answers 400 `invalid_activation_code` and counts
/// towards the lock (429 with `Retry-After` after 10 in 15 minutes); an expired code
/// 400 `activation_code_expired`.
#[utoipa::path(post, path = "/v1/auth/activate", tag = "self-service", request_body = ActivateRequest,
    responses((status = 200, body = LoginResponse),
        (status = 400, description = "The login or code is wrong, or the account is already claimed (`invalid_activation_code`); the code has expired (`activation_code_expired`).", body = Problem),
        (status = 403, description = "The code is right but the account's access is disabled (`access_disabled`).", body = Problem),
        (status = 422, description = "The new password does not meet the school's policy (`password_policy`, each broken rule in `errors`).", body = Problem),
        (status = 429, description = "Too many failed attempts on this login (`too_many_attempts`).", body = Problem),
        (status = 503, description = "The server is checking too many codes at once, or the account kept changing meanwhile (`busy`).", body = Problem)))]
async fn activate(
    State(state): State<AppState>,
    request_id: RequestId,
    body: ApiJson<ActivateRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let ActivateRequest {
        login,
        activation_code,
        new_password,
    } = body.value;
    let outcome = state
        .sesame
        .activate(request_id.as_deref(), &login, activation_code, new_password)
        .await?;
    Ok(Json(outcome.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetWithLinkRequest {
    /// The token of the reset link (the last segment of `/reset/{token}`).
    #[schema(value_type = String, format = Password)]
    pub token: SecretString,
    #[schema(value_type = String, format = Password)]
    pub new_password: SecretString,
}

/// Uses a reset link: sets the chosen password and retires the link. An unknown,
/// used, replaced or revoked link answers 400 `invalid_link` (counted towards the
/// lock of the client's address, never the account's), an expired one 400 `link_expired`.
#[utoipa::path(post, path = "/v1/auth/reset", tag = "self-service", request_body = ResetWithLinkRequest,
    responses((status = 200, body = LoginResponse),
        (status = 400, description = "The link is unknown, used, replaced or revoked (`invalid_link`), or has expired (`link_expired`).", body = Problem),
        (status = 403, description = "The account's access is disabled (`access_disabled`).", body = Problem),
        (status = 422, description = "The new password does not meet the school's policy (`password_policy`, each broken rule in `errors`).", body = Problem),
        (status = 429, description = "Too many wrong links from this client address (`too_many_attempts`).", body = Problem),
        (status = 503, description = "The server is checking too many passwords at once, or the account kept changing meanwhile (`busy`).", body = Problem)))]
async fn reset(
    State(state): State<AppState>,
    request_id: RequestId,
    client: ClientAddress,
    body: ApiJson<ResetWithLinkRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let ResetWithLinkRequest { token, new_password } = body.value;
    let outcome = state
        .sesame
        .reset_with_token(request_id.as_deref(), client.0, token, new_password)
        .await?;
    Ok(Json(outcome.into()))
}
