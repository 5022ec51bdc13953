//! Activating and deactivating access.

use crate::domain::{Access, Account};
use crate::http::AppState;
use crate::http::dto::BulkResults;
use crate::http::extract::{ApiJson, Authenticated, RequestId};
use crate::http::idempotency;
use crate::http::problem::ApiResult;
use crate::ops::commands::Bulk;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use crate::ops::access::MAX_BULK_IDS;

pub fn activate_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(activate))
}

pub fn deactivate_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(deactivate))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountIds {
    /// 1 to 500 accounts.
    #[schema(schema_with = super::schema::bulk_ids)]
    pub account_ids: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AccessState {
    pub access: Access,
    pub disabled_at: Option<DateTime<Utc>>,
}

async fn set_access(
    state: AppState,
    caller: Authenticated,
    request_id: RequestId,
    headers: HeaderMap,
    body: ApiJson<AccountIds>,
    access: Access,
) -> ApiResult<Response> {
    let Authenticated(caller) = caller;
    let bulk = if access == Access::Enabled {
        Bulk::Activate
    } else {
        Bulk::Deactivate
    };
    let ids = bulk.ids(&body.value.account_ids)?;
    let route = if access == Access::Enabled {
        "activate"
    } else {
        "deactivate"
    };
    idempotency::once(&state, &caller, &headers, route, &body.digest, |_| async {
        let results = state
            .sesame
            .set_access(&caller, request_id.as_deref(), &ids, access)
            .await?;
        let body = BulkResults::from_results(results, |a: Account| AccessState {
            access: a.access,
            disabled_at: a.disabled_at,
        });
        Ok((StatusCode::OK, body))
    })
    .await
}

/// Enables access for several accounts.
#[utoipa::path(post, path = "/v1/accounts/activate", tag = "access", security(("bearer" = [])),
    request_body = AccountIds,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe for 24 h")),
    responses((status = 200, description = "Per account: `ok`, or its `error`", body = BulkResults<AccessState>)))]
async fn activate(
    State(state): State<AppState>,
    caller: Authenticated,
    request_id: RequestId,
    headers: HeaderMap,
    body: ApiJson<AccountIds>,
) -> ApiResult<Response> {
    set_access(state, caller, request_id, headers, body, Access::Enabled).await
}

/// Disables access for several accounts, revoking outstanding temporary passwords.
#[utoipa::path(post, path = "/v1/accounts/deactivate", tag = "access", security(("bearer" = [])),
    request_body = AccountIds,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe for 24 h")),
    responses((status = 200, description = "Per account: `ok`, or its `error`", body = BulkResults<AccessState>)))]
async fn deactivate(
    State(state): State<AppState>,
    caller: Authenticated,
    request_id: RequestId,
    headers: HeaderMap,
    body: ApiJson<AccountIds>,
) -> ApiResult<Response> {
    set_access(state, caller, request_id, headers, body, Access::Disabled).await
}
