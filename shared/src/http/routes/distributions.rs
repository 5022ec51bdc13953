//! Distributions, the follow-up of a class, an account's credential ledger, and
//! unlocking.

use super::access::AccountIds;
use super::audit::{instant, limit};
use crate::domain::{
    AccountId, ClassName, Distribution, DistributionKind, Error, FieldError, RunResult, RunStatus,
    SecretState,
};
use crate::http::AppState;
use crate::http::dto::BulkResults;
use crate::http::extract::{ApiJson, ApiQuery, Authenticated, RequestId};
use crate::http::problem::{ApiResult, Problem};
use crate::http::routes::schema;
use crate::ops::commands::Bulk;
use crate::ops::distributions::{FollowUp, Handed, Ledger};
use crate::ports::DistributionQuery;
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_distributions))
        .routes(routes!(get_distribution))
        .routes(routes!(revoke_distribution))
        .routes(routes!(follow_up))
        .routes(routes!(ledger))
        .routes(routes!(unlock))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DistributionParams {
    /// Covering an account of this class.
    #[param(schema_with = schema::class)]
    pub class: Option<String>,
    /// Made by this caller (`sub`).
    pub actor: Option<String>,
    #[param(value_type = Option<DistributionKind>)]
    pub kind: Option<String>,
    /// Made at or after.
    #[param(schema_with = schema::instant)]
    pub from: Option<String>,
    /// Made at or before.
    #[param(schema_with = schema::instant)]
    pub to: Option<String>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
    #[param(schema_with = schema::limit)]
    pub limit: Option<String>,
}

/// A distribution, without its accounts.
#[derive(Serialize, ToSchema)]
pub struct DistributionSummary {
    pub id: String,
    pub kind: DistributionKind,
    pub actor: String,
    pub created_at: DateTime<Utc>,
    #[schema(value_type = Vec<String>)]
    pub classes: Vec<ClassName>,
    pub status: RunStatus,
    pub processed: u64,
    pub total: u64,
}

impl From<&Distribution> for DistributionSummary {
    fn from(d: &Distribution) -> Self {
        Self {
            id: d.id.clone(),
            kind: d.kind,
            actor: d.actor.clone(),
            created_at: d.created_at,
            classes: d.classes.clone(),
            status: d.status,
            processed: d.processed,
            total: d.total,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DistributionList {
    pub items: Vec<DistributionSummary>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DistributionDetail {
    #[serde(flatten)]
    pub summary: DistributionSummary,
    /// Per account (those the caller may see), the state of the secret it got.
    pub accounts: Vec<Handed>,
    /// A background send-activation's per-account results.
    pub results: Vec<RunResult>,
}

/// Every hand-out of secrets, newest first (a teacher: those they made).
#[utoipa::path(get, path = "/v1/distributions", tag = "distributions", params(DistributionParams),
    security(("bearer" = [])),
    responses((status = 200, body = DistributionList),
        (status = 400, description = "`cursor` is not one this list gave (`invalid_cursor`).", body = Problem),
        (status = 422, description = "A parameter's value is not one the list takes (`validation_failed`, naming it in `errors`).", body = Problem)))]
async fn list_distributions(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(params): ApiQuery<DistributionParams>,
) -> ApiResult<Json<DistributionList>> {
    let mut errors = Vec::new();
    let class = params.class.as_deref().and_then(|raw| {
        ClassName::parse(raw)
            .map_err(|e| errors.push(FieldError::new("class", e.to_string())))
            .ok()
    });
    let kind = params.kind.as_deref().and_then(|raw| {
        let kind = DistributionKind::parse(raw);
        if kind.is_none() {
            errors.push(FieldError::new(
                "kind",
                "must be export, send_activation, temporary_password, birth_date_password or reset_link",
            ));
        }
        kind
    });
    let from = instant("from", params.from.as_deref(), &mut errors);
    let to = instant("to", params.to.as_deref(), &mut errors);
    let limit = limit(params.limit.as_deref(), &mut errors);
    if !errors.is_empty() {
        return Err(Error::Validation(errors).into());
    }
    let query = DistributionQuery {
        class,
        actor: params.actor,
        kind,
        from,
        to,
        after: None,
        limit,
    };
    let (items, next_cursor) = state
        .sesame
        .list_distributions(&caller, query, params.cursor.as_deref())
        .await?;
    Ok(Json(DistributionList {
        items: items.iter().map(DistributionSummary::from).collect(),
        next_cursor,
    }))
}

/// One distribution: who, when, what, and per account whether its secret is
/// still open, used, expired, replaced or revoked.
#[utoipa::path(get, path = "/v1/distributions/{id}", tag = "distributions",
    params(("id" = String, Path, description = "The distribution")), security(("bearer" = [])),
    responses((status = 200, body = DistributionDetail),
        (status = 404, description = "No such distribution that the caller may see (`not_found`).", body = Problem)))]
async fn get_distribution(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<DistributionDetail>> {
    let view = state.sesame.view_distribution(&caller, &id).await?;
    Ok(Json(DistributionDetail {
        summary: DistributionSummary::from(&view.distribution),
        accounts: view.accounts,
        results: view.distribution.results,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Recalled {
    /// The state of the account's secret from this distribution now.
    pub state: SecretState,
}

/// "This sheet is lost": revokes every still-open secret of the distribution, each
/// account as the reset column allows; a secret already used stays used. Running
/// it again changes nothing.
#[utoipa::path(post, path = "/v1/distributions/{id}/revoke", tag = "distributions",
    params(("id" = String, Path, description = "The distribution")), security(("bearer" = [])),
    responses((status = 200, description = "Per account: `ok` with the state of its secret, or its `error`", body = BulkResults<Recalled>),
        (status = 404, description = "No such distribution that the caller may see (`not_found`).", body = Problem)))]
async fn revoke_distribution(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    request_id: RequestId,
    Path(id): Path<String>,
) -> ApiResult<Json<BulkResults<Recalled>>> {
    let results = state
        .sesame
        .revoke_distribution(&caller, request_id.as_deref(), &id)
        .await?;
    Ok(Json(BulkResults::from_results(results, |state| Recalled {
        state,
    })))
}

/// The activation follow-up of a class: students and parents apart, and who to
/// chase (a teacher: their classes).
#[utoipa::path(get, path = "/v1/classes/{name}/follow-up", tag = "distributions",
    params(("name" = String, Path, description = "The class")), security(("bearer" = [])),
    responses((status = 200, body = FollowUp),
        (status = 404, description = "Not a class the caller may follow (`not_found`).", body = Problem)))]
async fn follow_up(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
) -> ApiResult<Json<FollowUp>> {
    let class = ClassName::parse(&name).map_err(|_| Error::NotFound)?;
    Ok(Json(state.sesame.follow_up(&caller, &class).await?))
}

/// An account's credential ledger: its outstanding secret, its recent secrets and
/// how each ended, and its locks. Never a secret.
#[utoipa::path(get, path = "/v1/accounts/{id}/credentials", tag = "distributions",
    params(("id" = String, Path, description = "The account")), security(("bearer" = [])),
    responses((status = 200, body = Ledger),
        (status = 403, description = "The caller sees the account but may not reset it (`forbidden`).", body = Problem),
        (status = 404, description = "No such account that the caller may see (`not_found`).", body = Problem)))]
async fn ledger(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<Ledger>> {
    let id = AccountId::parse(&id).map_err(|_| Error::NotFound)?;
    Ok(Json(state.sesame.ledger(&caller, &id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Unlocked {}

/// Clears the brute-force locks of the accounts (sign-in and activation), each as
/// the reset column allows; audited.
#[utoipa::path(post, path = "/v1/accounts/unlock", tag = "distributions", request_body = AccountIds,
    security(("bearer" = [])),
    responses((status = 200, description = "Per account: `ok`, or its `error`", body = BulkResults<Unlocked>)))]
async fn unlock(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    request_id: RequestId,
    body: ApiJson<AccountIds>,
) -> ApiResult<Json<BulkResults<Unlocked>>> {
    let ids = Bulk::Unlock.ids(&body.value.account_ids)?;
    let results = state.sesame.unlock(&caller, request_id.as_deref(), &ids).await?;
    Ok(Json(BulkResults::from_results(results, |()| Unlocked {})))
}
