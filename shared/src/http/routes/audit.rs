//! The audit log.

use crate::domain::{AccountId, AuditEvent, Error, FieldError};
use crate::http::AppState;
use crate::http::extract::{ApiQuery, Authenticated};
use crate::http::problem::{ApiResult, Problem};
use crate::http::routes::schema;
use crate::ports::AuditQuery;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Naming this account.
    #[param(schema_with = schema::account_id)]
    pub account_id: Option<String>,
    /// Made by this caller (`sub`, or `self:<account id>`).
    pub actor: Option<String>,
    /// e.g. `password.reset`.
    pub action: Option<String>,
    /// At or after.
    #[param(schema_with = schema::instant)]
    pub from: Option<String>,
    /// At or before.
    #[param(schema_with = schema::instant)]
    pub to: Option<String>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
    #[param(schema_with = schema::limit)]
    pub limit: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditList {
    pub items: Vec<AuditEvent>,
    pub next_cursor: Option<String>,
}

pub(super) fn instant(field: &str, raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<DateTime<Utc>> {
    let parsed = DateTime::parse_from_rfc3339(raw?)
        .map(|t| t.with_timezone(&Utc))
        .ok();
    if parsed.is_none() {
        errors.push(FieldError::new(field, "must be an RFC 3339 instant"));
    }
    parsed
}

/// `limit`: 1 to 500, default 100.
pub(super) fn limit(raw: Option<&str>, errors: &mut Vec<FieldError>) -> usize {
    match raw.map(str::parse::<usize>) {
        None => 100,
        Some(Ok(n)) if (1..=500).contains(&n) => n,
        Some(_) => {
            errors.push(FieldError::new("limit", "must be a number from 1 to 500"));
            100
        }
    }
}

/// The school's audit events, newest first (administrators).
#[utoipa::path(get, path = "/v1/audit", tag = "audit", params(AuditParams), security(("bearer" = [])),
    responses((status = 200, body = AuditList),
        (status = 400, description = "`cursor` is not one this list gave (`invalid_cursor`).", body = Problem),
        (status = 403, description = "Administrators only (`forbidden`).", body = Problem),
        (status = 422, description = "A parameter's value is not one the list takes (`validation_failed`, naming it in `errors`).", body = Problem)))]
async fn list_audit(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> ApiResult<Json<AuditList>> {
    let mut errors = Vec::new();
    let account_id = params.account_id.as_deref().and_then(|raw| {
        AccountId::parse(raw)
            .map_err(|e| errors.push(FieldError::new("account_id", e.to_string())))
            .ok()
    });
    let from = instant("from", params.from.as_deref(), &mut errors);
    let to = instant("to", params.to.as_deref(), &mut errors);
    let limit = limit(params.limit.as_deref(), &mut errors);
    if !errors.is_empty() {
        return Err(Error::Validation(errors).into());
    }
    let query = AuditQuery {
        account_id,
        actor: params.actor,
        action: params.action,
        from,
        to,
        before: None,
        limit,
    };
    let list = state
        .sesame
        .list_audit(&caller, query, params.cursor.as_deref())
        .await?;
    Ok(Json(AuditList {
        items: list.items,
        next_cursor: list.next_cursor,
    }))
}
