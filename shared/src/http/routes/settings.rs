//! Per-school settings.

use crate::http::AppState;
use crate::http::dto::SettingsView;
use crate::http::extract::{ApiJson, Authenticated, RequestId};
use crate::http::problem::{ApiResult, Problem};
use crate::http::routes::schema;
use crate::ops::settings::SettingsPatch;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_settings, put_settings))
}

/// The school's settings (administrators).
#[utoipa::path(get, path = "/v1/settings", tag = "settings", security(("bearer" = [])),
    responses((status = 200, body = SettingsView),
        (status = 403, description = "Administrators only (`forbidden`).", body = Problem)))]
async fn get_settings(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Json<SettingsView>> {
    Ok(Json(state.sesame.get_settings(&caller).await?.into()))
}

/// Changes the fields given (role `admin` only).
#[utoipa::path(put, path = "/v1/settings", tag = "settings", security(("bearer" = [])),
    request_body = SettingsChange,
    responses((status = 200, body = SettingsView),
        (status = 403, description = "The role `admin` only (`forbidden`).", body = Problem),
        (status = 409, description = "The settings kept changing meanwhile (`conflict`).", body = Problem),
        (status = 422, description = "A value is out of its bounds (`validation_failed`, naming it in `errors`).", body = Problem)))]
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

/// [`SettingsPatch`] as described: its fields with the bounds its `apply` checks.
struct SettingsChange;

/// What `SettingsPatch::apply` accepts of each field (besides `null`, which keeps
/// the value; `sender: null` clears it).
fn bounds() -> [(&'static str, Value); 9] {
    let days = |min: u32, max: u32| json!({ "minimum": min, "maximum": max });
    // Neither control characters nor line or paragraph separators (`has_control`).
    let no_control = r"[^\x00-\x1f\x7f-\x9f\u2028\u2029]";
    let visible = r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
    let zones: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
    [
        ("temporary_password_days", days(1, 90)),
        ("password_min_length", days(8, 64)),
        ("retention_days", days(1, 3650)),
        ("audit_days", days(30, 3650)),
        (
            "school_name",
            json!({
                "description": "1 to 200 characters, not only spaces, no control character.",
                "maxLength": 200,
                "pattern": format!("^{no_control}*{visible}{no_control}*$"),
            }),
        ),
        (
            "login_url",
            json!({
                "description": "An http(s) URL of at most 500 characters.",
                "maxLength": 500,
                "pattern": "^https?://",
            }),
        ),
        (
            "sender",
            json!({
                "description": "An e-mail address (one `@`, a dotted domain, no spaces; at most 254 characters), or `null` to clear it.",
                "maxLength": 254,
                "pattern": schema::email_pattern(),
            }),
        ),
        ("time_zone", json!({ "enum": zones })),
        (
            "oneroster_org",
            json!({
                "description": "1 to 255 characters, not only spaces, no control character; `null` clears it.",
                "maxLength": 255,
                "pattern": format!("^{no_control}*{visible}{no_control}*$"),
            }),
        ),
    ]
}

impl PartialSchema for SettingsChange {
    fn schema() -> RefOr<Schema> {
        let mut value = serde_json::to_value(SettingsPatch::schema()).unwrap_or_default();
        for (field, bounds) in bounds() {
            let property = &mut value["properties"][field];
            for (key, bound) in bounds.as_object().into_iter().flatten() {
                property[key] = bound.clone();
            }
            if let Some(values) = property["enum"].as_array_mut() {
                values.push(Value::Null);
            }
        }
        schema::from_json(value)
    }
}

impl ToSchema for SettingsChange {
    fn name() -> std::borrow::Cow<'static, str> {
        SettingsPatch::name()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        SettingsPatch::schemas(schemas);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bound_names_a_field_of_the_patch() {
        let patch = serde_json::to_value(SettingsPatch::schema()).unwrap();
        for (field, _) in bounds() {
            assert!(patch["properties"][field].is_object(), "{field}");
        }
    }

    #[test]
    fn the_time_zones_are_every_name_parse_accepts_or_null() {
        let change = serde_json::to_value(SettingsChange::schema()).unwrap();
        let zones = change["properties"]["time_zone"]["enum"].as_array().unwrap();
        assert!(zones.contains(&json!("Europe/Paris")) && zones.contains(&Value::Null));
        for zone in zones.iter().filter_map(Value::as_str) {
            assert!(crate::domain::TimeZone::parse(zone).is_some(), "{zone}");
        }
    }
}
