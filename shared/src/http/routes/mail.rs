//! Mail to account holders: activation mail and login information; and the answer
//! shape of every mailing (also that of `email_link` resets).

use crate::domain::Code;
use crate::domain::{AccountId, Email, Error, Scope};
use crate::http::AppState;
use crate::http::dto::{AccountView, BulkResults, ItemError, ItemStatus, item_error};
use crate::http::extract::{ApiJson, Authenticated, RequestId};
use crate::http::idempotency;
use crate::http::problem::{ApiResult, Problem};
use crate::http::routes::access::AccountIds;
use crate::http::routes::distributions::DistributionSummary;
use crate::http::routes::schema::ListFilter;
use crate::ops::commands::{Bulk, Sent};
use crate::ops::mail::{MailOutcome, MailReport};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(send_activation))
        .routes(routes!(change_email))
        .routes(routes!(clear_email_state))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendActivationRequest {
    /// 1 to 500 accounts; more than 50 run in the background. Or give `filter`.
    #[schema(schema_with = super::schema::mail_ids)]
    pub account_ids: Option<Vec<String>>,
    /// Every account the list's filters select that you may mail, in the
    /// background. Or give `account_ids`.
    #[schema(value_type = Option<ListFilter>)]
    pub filter: Option<crate::http::routes::accounts::ListParams>,
    /// Also mail you (your own account's address) a copy of each mail, link or code
    /// included, to help the person if needed. Default false.
    #[serde(default)]
    pub copy_to_me: bool,
}

super::schema::ids_or_filter_body!(SendActivationBody for SendActivationRequest);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailStatus {
    Sent,
    /// No address: nothing was sent, nor handed out.
    NoEmail,
    /// The address is marked bounced or complained: nothing was sent, nor handed
    /// out, until it changes or the mark is cleared.
    EmailUndeliverable,
    Failed,
}

impl From<MailOutcome> for MailStatus {
    fn from(outcome: MailOutcome) -> Self {
        match outcome {
            MailOutcome::Sent => Self::Sent,
            MailOutcome::NoEmail => Self::NoEmail,
            MailOutcome::Undeliverable => Self::EmailUndeliverable,
            MailOutcome::Failed(_) => Self::Failed,
        }
    }
}

/// One account's mail. `status` is `ok` only when the mail was sent; `mail` is
/// there whenever the account could be mailed at all.
#[derive(Debug, Serialize, ToSchema)]
pub struct MailItem {
    pub account_id: String,
    pub status: ItemStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mail: Option<MailStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ItemError>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MailResults {
    pub results: Vec<MailItem>,
    /// With `copy_to_me`: `sent` (every mail that went out was copied to you),
    /// `no_email` (your own account has no address, so no copy went) or `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy: Option<MailStatus>,
}

impl From<MailReport> for MailResults {
    fn from(report: MailReport) -> Self {
        let results = report
            .results
            .into_iter()
            .map(|r| {
                let account_id = r.account_id.into();
                let (status, error) = match &r.result {
                    Ok(MailOutcome::Sent) => (ItemStatus::Ok, None),
                    Ok(MailOutcome::NoEmail) => (
                        ItemStatus::Error,
                        Some(ItemError {
                            code: Code::NoEmail,
                            detail: "this account has no e-mail address".into(),
                        }),
                    ),
                    Ok(MailOutcome::Undeliverable) => (
                        ItemStatus::Error,
                        Some(ItemError {
                            code: Code::EmailUndeliverable,
                            detail: "this account's address is marked bounced or complained: correct it, or clear the mark".into(),
                        }),
                    ),
                    Ok(MailOutcome::Failed(failure)) => (
                        ItemStatus::Error,
                        Some(ItemError {
                            code: Code::MailFailed,
                            detail: failure.detail().into(),
                        }),
                    ),
                    Err(e) => (ItemStatus::Error, Some(item_error(e))),
                };
                MailItem {
                    account_id,
                    status,
                    mail: r.result.ok().map(MailStatus::from),
                    error,
                }
            })
            .collect();
        Self {
            results,
            copy: report.copy.map(MailStatus::from),
        }
    }
}

/// Mails accounts what they need to log in: pending accounts an activation mail
/// (a new activation code, replacing the older one, and the page to type it on),
/// activated accounts their login and a new reset link (valid 24 hours). Each
/// account succeeds or fails on its own: `mail` is `sent`, `no_email` or `failed`.
/// Honours `Idempotency-Key`: a retry answers the same and sends nothing again.
/// More than 50 accounts, or a `filter`, run in the background: 202 with the
/// distribution's id, whose progress and per-account results are at
/// `GET /v1/distributions/{id}`.
#[utoipa::path(post, path = "/v1/accounts/send-activation", tag = "mail", security(("bearer" = [])),
    request_body = SendActivationBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe for 24 h")),
    responses((status = 200, description = "Per account: `ok` when its mail went, or its `error`", body = MailResults),
        (status = 202, description = "Queued: follow it at `GET /v1/distributions/{id}`", body = DistributionSummary),
        (status = 422, description = "Not exactly one of `account_ids` and `filter`, or a filter's value is not one the list takes (`validation_failed`).", body = Problem)))]
async fn send_activation(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    request_id: RequestId,
    headers: HeaderMap,
    body: ApiJson<SendActivationRequest>,
) -> ApiResult<Response> {
    let copy_to_me = body.value.copy_to_me;
    let scope = match (&body.value.account_ids, &body.value.filter) {
        (Some(ids), None) => Scope::Ids(Bulk::SendActivation.ids(ids)?),
        (None, Some(filter)) => Scope::Filter(filter.clone().into_query()?.0),
        _ => return Err(Error::invalid("account_ids", "give either account_ids or filter").into()),
    };
    idempotency::once(
        &state,
        &caller,
        &headers,
        "send-activation",
        &body.digest,
        |_| async {
            let sent = state
                .sesame
                .send_activation_to(&caller, request_id.as_deref(), scope, copy_to_me)
                .await?;
            Ok(match sent {
                Sent::Now(report) => (StatusCode::OK, Mailed::Now(MailResults::from(report))),
                Sent::Queued(queued) => (
                    StatusCode::ACCEPTED,
                    Mailed::Queued(DistributionSummary::from(queued.as_ref())),
                ),
            })
        },
    )
    .await
}

/// The answer of a send-activation: done now, or queued.
#[derive(Serialize)]
#[serde(untagged)]
enum Mailed {
    Now(MailResults),
    Queued(DistributionSummary),
}

/// A corrected address.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeEmail {
    /// The new address, or `null` to remove it. A new address starts with an
    /// unknown mail state.
    #[schema(schema_with = crate::http::routes::schema::email_or_null)]
    pub email: Option<String>,
}

/// Corrects an account's address (administrators; audited). A new address resets
/// its mail state: mail goes there again.
#[utoipa::path(patch, path = "/v1/accounts/{id}", tag = "mail", security(("bearer" = [])),
    params(("id" = String, Path, description = "Account id")),
    request_body = ChangeEmail,
    responses((status = 200, body = AccountView),
        (status = 403, description = "The caller may not change this account (`forbidden`).", body = Problem),
        (status = 404, description = "No such account that the caller may see (`not_found`).", body = Problem),
        (status = 422, description = "Not an e-mail address (`validation_failed`, the field named).", body = Problem)))]
async fn change_email(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    request_id: RequestId,
    Path(id): Path<String>,
    body: ApiJson<ChangeEmail>,
) -> ApiResult<Json<AccountView>> {
    let id = AccountId::parse(&id).map_err(|_| Error::NotFound)?;
    let email = body
        .value
        .email
        .as_deref()
        .map(|e| Email::parse(e.trim()).map_err(|e| Error::invalid("email", e.to_string())))
        .transpose()?;
    let sesame = &state.sesame;
    let account = sesame
        .change_email(&caller, request_id.as_deref(), &id, email)
        .await?;
    let retention = sesame.school(&caller.school).await?.settings.retention_days;
    Ok(Json(AccountView::new(account, &caller, sesame.now(), retention)))
}

#[derive(Serialize, ToSchema)]
pub struct EmailStateCleared {}

/// Clears the mail state of the accounts' addresses (a bounce or complaint that
/// no longer holds): mail goes there again. Administrators; audited.
#[utoipa::path(post, path = "/v1/accounts/clear-email-state", tag = "mail", request_body = AccountIds,
    security(("bearer" = [])),
    responses((status = 200, description = "Per account: `ok`, or its `error`", body = BulkResults<EmailStateCleared>)))]
async fn clear_email_state(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    request_id: RequestId,
    body: ApiJson<AccountIds>,
) -> ApiResult<Json<BulkResults<EmailStateCleared>>> {
    let ids = Bulk::ClearEmailState.ids(&body.value.account_ids)?;
    let results = state
        .sesame
        .clear_email_state(&caller, request_id.as_deref(), &ids)
        .await?;
    Ok(Json(BulkResults::from_results(results, |_| EmailStateCleared {})))
}
