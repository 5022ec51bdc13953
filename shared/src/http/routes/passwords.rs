//! Password resets by staff.

use crate::domain::{AccountId, Error};
use crate::http::AppState;
use crate::http::dto::{AccountView, BulkResults};
use crate::http::extract::{ApiJson, Authenticated, RequestId};
use crate::http::idempotency;
use crate::http::problem::{ApiResult, Problem};
use crate::http::routes::mail::MailResults;
use crate::ops::commands::Bulk;
use crate::ops::reset::{Issued, ResetMethod, Resets};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(reset_passwords))
        .routes(routes!(set_password))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// 1 to 100 accounts; for more, use an export.
    #[schema(schema_with = super::schema::reset_ids)]
    pub account_ids: Vec<String>,
    pub method: ResetMethod,
    /// `email_link` only: also mail you (your own account's address) a copy of each
    /// link sent. Default false.
    #[serde(default)]
    pub copy_to_me: bool,
}

/// `temporary` and `birth_date` answer the passwords; `email_link` what became of
/// each mail (`mail`: `sent`, `no_email`, `failed`), and never the link.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum ResetResponse {
    Passwords(BulkResults<ResetIssued>),
    Mailed(MailResults),
}

/// [`ResetResponse`] as described: either shape, `anyOf` rather than utoipa's
/// `oneOf`, since when every account failed the two answers are alike.
struct ResetResponseSchema;

impl utoipa::PartialSchema for ResetResponseSchema {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let mut value = serde_json::to_value(ResetResponse::schema()).unwrap_or_default();
        if let Some(shapes) = value.as_object_mut().and_then(|o| o.remove("oneOf")) {
            value["anyOf"] = shapes;
        }
        super::schema::from_json(value)
    }
}

impl ToSchema for ResetResponseSchema {
    fn name() -> std::borrow::Cow<'static, str> {
        ResetResponse::name()
    }

    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        ResetResponse::schemas(schemas);
    }
}

/// What a successful reset hands out, once.
#[derive(Serialize, ToSchema)]
pub struct ResetIssued {
    pub temporary_password: String,
    pub expires_at: Option<DateTime<Utc>>,
}

/// New temporary (or birth-date) passwords for several accounts, or reset links
/// mailed to them (`email_link`). Each account succeeds or fails on its own. Honours
/// `Idempotency-Key`: a retry returns the same passwords, never new ones, and mails
/// nothing again.
#[utoipa::path(post, path = "/v1/accounts/reset-password", tag = "passwords", security(("bearer" = [])),
    request_body = ResetRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe for 24 h")),
    responses((status = 200, description = "Per account: `ok` with what was handed out, or its `error`", body = ResetResponseSchema),
        (status = 409, description = "`birth_date` while the school's birth-date mode is off (`birth_date_mode_disabled`).", body = Problem)))]
async fn reset_passwords(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    request_id: RequestId,
    headers: HeaderMap,
    body: ApiJson<ResetRequest>,
) -> ApiResult<Response> {
    let ids = Bulk::Reset(body.value.method).ids(&body.value.account_ids)?;
    let (method, copy_to_me) = (body.value.method, body.value.copy_to_me);
    let (sesame, by, request_id) = (&state.sesame, &caller, request_id.as_deref());
    idempotency::once(
        &state,
        &caller,
        &headers,
        "reset-password",
        &body.digest,
        |replay| async move {
            let body = match sesame
                .reset(by, request_id, &ids, method, copy_to_me, replay.as_deref())
                .await?
            {
                Resets::Passwords(results) => {
                    ResetResponse::Passwords(BulkResults::from_results(results, |issued: Issued| {
                        ResetIssued {
                            temporary_password: issued.password.expose_secret().to_owned(),
                            expires_at: issued.expires_at,
                        }
                    }))
                }
                Resets::Mailed(report) => ResetResponse::Mailed(report.into()),
            };
            Ok((StatusCode::OK, body))
        },
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPasswordRequest {
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
    #[schema(value_type = String, format = Password)]
    pub confirmation: SecretString,
    /// Whether the user must choose a new password at next login (default true).
    #[serde(default = "yes")]
    pub must_change: bool,
}

fn yes() -> bool {
    true
}

/// Sets a password chosen by an administrator, checked against the school's policy.
#[utoipa::path(put, path = "/v1/accounts/{id}/password", tag = "passwords", security(("bearer" = [])),
    request_body = SetPasswordRequest, params(("id" = String, Path, description = "Account id")),
    responses((status = 200, body = AccountView),
        (status = 403, description = "The caller sees the account but may not set its password (`forbidden`).", body = Problem),
        (status = 404, description = "No such account that the caller may see (`not_found`).", body = Problem),
        (status = 409, description = "The account is managed by a directory (`federated_account`), or changed meanwhile (`conflict`).", body = Problem),
        (status = 422, description = "`confirmation` differs from `password` (`validation_failed`), or the password does not meet the school's policy (`password_policy`, each broken rule in `errors`).", body = Problem)))]
async fn set_password(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    request_id: RequestId,
    Path(id): Path<String>,
    body: ApiJson<SetPasswordRequest>,
) -> ApiResult<Json<AccountView>> {
    let id = AccountId::parse(&id).map_err(|_| Error::NotFound)?;
    let SetPasswordRequest {
        password,
        confirmation,
        must_change,
    } = body.value;
    let sesame = &state.sesame;
    let account = sesame
        .set_password(
            &caller,
            request_id.as_deref(),
            &id,
            password,
            confirmation,
            must_change,
        )
        .await?;
    let retention = sesame.school(&caller.school).await?.settings.retention_days;
    Ok(Json(AccountView::new(account, &caller, sesame.now(), retention)))
}
