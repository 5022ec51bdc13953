//! Per-school settings.

use crate::http::AppState;
use crate::http::dto::SettingsView;
use crate::http::extract::{ApiJson, Authenticated, RequestId};
use crate::http::problem::{ApiResult, Problem};
use crate::ops::settings::SettingsPatch;
use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_settings, put_settings))
}

/// The school's settings (administrators).
#[utoipa::path(get, path = "/v1/settings", tag = "settings", security(("bearer" = [])),
    responses((status = 200, body = SettingsView), (status = 403, body = Problem)))]
async fn get_settings(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Json<SettingsView>> {
    Ok(Json(state.sesame.get_settings(&caller).await?.into()))
}

/// Changes the fields given (role `admin` only).
#[utoipa::path(put, path = "/v1/settings", tag = "settings", security(("bearer" = [])), request_body = SettingsPatch,
    responses((status = 200, body = SettingsView), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn put_settings(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    request_id: RequestId,
    body: ApiJson<SettingsPatch>,
) -> ApiResult<Json<SettingsView>> {
    Ok(Json(
        state
            .sesame
            .update_settings(&caller, request_id.as_deref(), body.value)
            .await?
            .into(),
    ))
}
