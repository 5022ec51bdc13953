//! `Idempotency-Key` on bulk POSTs: the first request's response is remembered for
//! 24 hours (sealed, since it may hold temporary passwords) and a retry with the
//! same key and body gets it back instead of running again.

use super::AppState;
use super::problem::{ApiResult, Problem};
use crate::domain::Caller;
use crate::domain::Code;
use crate::ops::replay::replay_distribution;
use crate::ports::{IdempotencyRecord, StoredResponse};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use std::future::Future;

const HEADER: &str = "idempotency-key";
const TTL: Duration = Duration::hours(24);

/// The stored key: a digest of who asks (school, `sub`, role, classes), the route
/// and the client's key, each field delimited by JSON, so that no two callers, no
/// two roles of one `sub` and no crafted key share a record.
fn scoped_key(caller: &Caller, route: &str, key: &str) -> String {
    use sha2::{Digest, Sha256};
    let scope = serde_json::json!([caller.school, caller.sub, caller.role, caller.classes, route, key]);
    crate::credentials::hex(&Sha256::digest(scope.to_string().as_bytes()))
}

/// Runs `run` at most once per (caller, route, key): a replay returns the stored
/// response with `Idempotent-Replayed: true`.
pub async fn once<F, Fut, T>(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    route: &str,
    body_digest: &str,
    run: F,
) -> ApiResult<Response>
where
    F: FnOnce(Option<String>) -> Fut,
    Fut: Future<Output = ApiResult<(StatusCode, T)>>,
    T: serde::Serialize,
{
    let Some(key) = headers.get(HEADER) else {
        let (status, body) = run(None).await?;
        return Ok((status, axum::Json(body)).into_response());
    };
    let key = key
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                Code::InvalidIdempotencyKey,
                "Idempotency-Key must be 1 to 255 visible characters",
            )
        })?;
    let sesame = &state.sesame;
    let now = sesame.now();
    let record = IdempotencyRecord {
        key: scoped_key(caller, route, key),
        fingerprint: body_digest.to_owned(),
        response: None,
        created_at: now,
        expires_at: now + TTL,
    };
    if let Some(existing) = sesame
        .guards
        .claim_idempotency(&record, now)
        .await
        .map_err(crate::domain::Error::from)?
    {
        if existing.fingerprint != record.fingerprint {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                Code::IdempotencyKeyReused,
                "this Idempotency-Key was used for another request",
            ));
        }
        let Some(stored) = existing.response else {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                Code::IdempotencyInProgress,
                "the first request with this Idempotency-Key is still running",
            ));
        };
        let body = sesame
            .sealer
            .open(&stored.sealed_body)
            .map_err(crate::domain::Error::from)?;
        let body = still_theirs(state, caller, body).await?;
        let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
        let mut response = (
            status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
        return Ok(response);
    }
    // Secrets handed out by this run belong to this replay's distribution, so that
    // revoking or replacing one deletes the replay (SPEC §3).
    match run(Some(replay_distribution(&record.key))).await {
        Ok((status, body)) => {
            let bytes = serde_json::to_vec(&body).map_err(|e| crate::domain::Error::Internal(e.into()))?;
            let sealed = sesame.sealer.seal(&bytes).map_err(crate::domain::Error::from)?;
            let stored = StoredResponse {
                status: status.as_u16(),
                sealed_body: sealed,
            };
            // The work is done: its answer goes out whatever happens to the
            // record. A record that cannot be completed is released rather than
            // left "in progress" for a day.
            if let Err(e) = retried(|| sesame.guards.complete_idempotency(&record.key, &stored)).await {
                tracing::error!(
                    error = format!("{:#}", anyhow::Error::from(e)),
                    "could not remember a response; its key is released"
                );
                release(sesame, &record.key).await;
            }
            Ok((
                status,
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                bytes,
            )
                .into_response())
        }
        Err(problem) => {
            // A failed request may be retried with the same key.
            release(sesame, &record.key).await;
            Err(problem)
        }
    }
}

/// `write`, tried again a few times over a store that hiccups.
async fn retried<F, Fut>(write: F) -> crate::ports::StoreResult<()>
where
    F: Fn() -> Fut,
    Fut: Future<Output = crate::ports::StoreResult<()>>,
{
    let mut outcome = write().await;
    for pause in [50, 200, 800] {
        if outcome.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
        outcome = write().await;
    }
    outcome
}

/// Frees `key` for a retry (logged when even that fails: it expires in a day).
async fn release(sesame: &crate::ops::Sesame, key: &str) {
    if let Err(e) = retried(|| sesame.guards.release_idempotency(key)).await {
        tracing::error!(
            error = format!("{:#}", anyhow::Error::from(e)),
            "could not release an idempotency key"
        );
    }
}

/// The role at the time of use decides (SPEC §2): a replayed answer hands each
/// remembered password only to a caller who, as they are now, may still obtain it;
/// any other account's item answers as a missing account.
async fn still_theirs(state: &AppState, caller: &Caller, body: Vec<u8>) -> ApiResult<Vec<u8>> {
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return Ok(body);
    };
    let Some(items) = value.get_mut("results").and_then(|r| r.as_array_mut()) else {
        return Ok(body);
    };
    let with_secret: Vec<crate::domain::AccountId> = items
        .iter()
        .filter(|item| item.get("temporary_password").is_some())
        .filter_map(|item| crate::domain::AccountId::parse(item["account_id"].as_str()?).ok())
        .collect();
    if with_secret.is_empty() {
        return Ok(body);
    }
    let accounts = state
        .sesame
        .accounts
        .get_accounts(&caller.school, &with_secret)
        .await
        .map_err(crate::domain::Error::from)?;
    let allowed = |id: &str| {
        accounts.iter().any(|a| {
            a.id.as_str() == id
                && caller
                    .may_issue(a, crate::domain::SecretKind::TemporaryPassword)
                    .is_ok()
        })
    };
    let missing = super::dto::item_error(&crate::domain::Error::NotFound);
    for item in items.iter_mut() {
        let Some(id) = item.get("temporary_password").and(item["account_id"].as_str()) else {
            continue;
        };
        if !allowed(id) {
            *item = serde_json::json!({"account_id": id, "status": "error", "error": missing});
        }
    }
    serde_json::to_vec(&value).map_err(|e| crate::domain::Error::Internal(e.into()).into())
}
