//! The edge's file links (the disk store's, `adapters::disk`):
//! `GET /files/{*key}` serves a file when its link verifies;
//! `PUT /files/uploads/…` keeps an uploaded roster when its upload link verifies.

use crate::adapters::disk::DiskFiles;
use crate::domain::Code;
use crate::http::problem::Problem;
use crate::ports::Clock;
use crate::ports::files::MAX_UPLOAD_BYTES;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize)]
struct LinkParams {
    filename: String,
    expires: i64,
    signature: String,
}

#[derive(Deserialize)]
struct UploadParams {
    expires: i64,
    signature: String,
}

#[derive(Clone)]
struct Downloads {
    files: Arc<DiskFiles>,
    clock: Arc<dyn Clock>,
    /// Uploads held in memory at once (each up to `MAX_UPLOAD_BYTES`).
    uploads: Arc<tokio::sync::Semaphore>,
}

/// Uploads received at once; more wait their turn.
const UPLOADS_AT_ONCE: usize = 2;

/// The routes that serve signed links of `files`.
pub fn router(files: Arc<DiskFiles>, clock: Arc<dyn Clock>) -> Router {
    Router::new()
        .route("/files/{*key}", axum::routing::get(download).put(upload))
        .with_state(Downloads {
            files,
            clock,
            uploads: Arc::new(tokio::sync::Semaphore::new(UPLOADS_AT_ONCE)),
        })
}

/// A link's parameters, when they parse and `verify` accepts them.
fn verified<P>(params: Result<Query<P>, QueryRejection>, verify: impl FnOnce(&P) -> bool) -> Option<P> {
    params.ok().map(|Query(p)| p).filter(|p| verify(p))
}

fn refused() -> Response {
    Problem::new(
        StatusCode::FORBIDDEN,
        Code::InvalidLink,
        "this link is invalid or has expired",
    )
    .into_response()
}

fn internal(e: &anyhow::Error, doing: &str) -> Response {
    tracing::error!(error = format!("{e:#}"), "{doing}");
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        Code::Internal,
        "internal error",
    )
    .into_response()
}

/// Keeps the body (at most [`MAX_UPLOAD_BYTES`]) at `key`, whole or not at all.
async fn upload(
    State(downloads): State<Downloads>,
    Path(key): Path<String>,
    params: Result<Query<UploadParams>, QueryRejection>,
    body: axum::body::Body,
) -> Response {
    let Some(_params) = verified(params, |p| {
        let now = downloads.clock.now();
        downloads.files.verify_upload(&key, p.expires, &p.signature, now)
    }) else {
        return refused();
    };
    let Ok(_turn) = downloads.uploads.acquire().await else {
        return internal(
            &anyhow::anyhow!("the uploads' semaphore is closed"),
            "keeping an upload",
        );
    };
    let limit = usize::try_from(MAX_UPLOAD_BYTES).unwrap_or(usize::MAX);
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::PayloadTooLarge,
            format!("an upload is at most {} MiB", MAX_UPLOAD_BYTES >> 20),
        )
        .into_response();
    };
    match downloads.files.keep_upload(&key, Vec::from(bytes)).await {
        Ok(true) => StatusCode::OK.into_response(),
        // An upload link carries one file: once a job has read it, no other.
        Ok(false) => Problem::new(
            StatusCode::CONFLICT,
            Code::Conflict,
            "this upload link has been used by an import; ask for a new one",
        )
        .into_response(),
        Err(e) => internal(&e, "keeping an upload"),
    }
}

fn content_type(filename: &str) -> &'static str {
    match filename.rsplit('.').next() {
        Some("csv") => "text/csv; charset=utf-8",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some("pdf") => "application/pdf",
        _ => "application/octet-stream",
    }
}

async fn download(
    State(downloads): State<Downloads>,
    Path(key): Path<String>,
    params: Result<Query<LinkParams>, QueryRejection>,
) -> Response {
    let Some(params) = verified(params, |p| {
        let now = downloads.clock.now();
        downloads
            .files
            .verify(&key, &p.filename, p.expires, &p.signature, now)
    }) else {
        return refused();
    };
    match downloads.files.read(&key).await {
        Ok(Some(bytes)) => {
            let disposition = crate::ports::files::attachment(&params.filename);
            let mut response = (StatusCode::OK, bytes).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(&params.filename)),
            );
            if let Ok(value) = HeaderValue::from_str(&disposition) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
            response
        }
        // A deleted (or swept) file: the link no longer works.
        Ok(None) => {
            Problem::new(StatusCode::GONE, Code::FileDeleted, "this file has been deleted").into_response()
        }
        Err(e) => internal(&e, "reading a file"),
    }
}
