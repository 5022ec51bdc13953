//! `GET /files/{*key}`: serves a file of the disk store when its link verifies.

use super::DiskFiles;
use crate::domain::Code;
use crate::http::problem::Problem;
use crate::ports::Clock;
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

#[derive(Clone)]
struct Downloads {
    files: Arc<DiskFiles>,
    clock: Arc<dyn Clock>,
}

/// The routes that serve signed links of `files`.
pub fn download_router(files: Arc<DiskFiles>, clock: Arc<dyn Clock>) -> Router {
    Router::new()
        .route("/files/{*key}", axum::routing::get(download))
        .with_state(Downloads { files, clock })
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
    let refused = || {
        Problem::new(
            StatusCode::FORBIDDEN,
            Code::InvalidLink,
            "this link is invalid or has expired",
        )
        .into_response()
    };
    let Ok(Query(params)) = params else {
        return refused();
    };
    let now = downloads.clock.now();
    if !downloads
        .files
        .verify(&key, &params.filename, params.expires, &params.signature, now)
    {
        return refused();
    }
    match downloads.files.read(&key).await {
        Ok(Some(bytes)) => {
            let disposition = format!(
                "attachment; filename=\"{}\"",
                params.filename.replace(['"', '\\', '\r', '\n'], "_")
            );
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
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "reading a file");
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                Code::Internal,
                "internal error",
            )
            .into_response()
        }
    }
}
