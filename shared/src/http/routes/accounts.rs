//! Reading: classes, the filtered account list, one account.

use crate::domain::{
    Access, AccountId, Activation, ClassName, EmailStatus, Error, FieldError, LocalAdmin, Profile, Sort,
};
use crate::http::AppState;
use crate::http::dto::AccountView;
use crate::http::extract::{ApiQuery, Authenticated};
use crate::http::problem::{ApiResult, Problem};
use crate::http::routes::schema;
use crate::ops::accounts::{DEFAULT_LIMIT, MAX_LIMIT, Selection};
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_classes))
        .routes(routes!(list_accounts))
        .routes(routes!(get_account))
}

#[derive(Serialize, ToSchema)]
pub struct ClassView {
    pub name: String,
    pub level: Option<String>,
    pub student_count: u64,
}

#[derive(Serialize, ToSchema)]
pub struct ClassList {
    pub items: Vec<ClassView>,
}

/// Classes with their level and number of students (teachers: theirs).
#[utoipa::path(get, path = "/v1/classes", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = ClassList)))]
async fn list_classes(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Json<ClassList>> {
    let classes = state.sesame.list_classes(&caller).await?;
    let items = classes
        .into_iter()
        .map(|c| ClassView {
            name: c.name.into(),
            level: c.level,
            student_count: c.student_count,
        })
        .collect();
    Ok(Json(ClassList { items }))
}

/// The account list's filters, in the query string or as the `filter` of a mailing
/// or an export (there as strings: see [`schema::ListFilter`]). Lists (`profile`, `class`)
/// are comma-separated; spaces around values are ignored.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Profiles (`student`, `parent`, `teacher`, `staff`, `guest`),
    /// comma-separated; empty items are ignored.
    #[param(explode = false, schema_with = schema::profile_list)]
    pub profile: Option<String>,
    /// Class names, comma-separated; empty items are ignored.
    #[param(explode = false, schema_with = schema::class_list)]
    pub class: Option<String>,
    /// At most 100 characters.
    #[param(schema_with = schema::label_text)]
    pub level: Option<String>,
    /// At most 100 characters.
    #[param(schema_with = schema::label_text)]
    pub group: Option<String>,
    #[param(value_type = Option<Access>)]
    pub access: Option<String>,
    #[param(value_type = Option<Activation>)]
    pub activation: Option<String>,
    /// Whether the account has an e-mail address.
    #[param(schema_with = schema::email_presence)]
    pub email: Option<String>,
    /// Accounts with an address in this mail state (SPEC §4).
    #[param(value_type = Option<EmailStatus>)]
    pub email_state: Option<String>,
    #[param(value_type = Option<LocalAdmin>)]
    pub local_admin: Option<String>,
    /// Created at or after: an RFC 3339 instant, or a day (from its start, UTC).
    #[param(schema_with = schema::instant_or_day)]
    pub created_from: Option<String>,
    /// Created at or before: an RFC 3339 instant, or a day (to its end, UTC).
    #[param(schema_with = schema::instant_or_day)]
    pub created_to: Option<String>,
    /// Disabled within this many days.
    #[param(value_type = Option<u32>, minimum = 0, maximum = 3650)]
    pub disabled_within_days: Option<String>,
    /// Disabled for longer than the school's retention period.
    #[param(value_type = Option<bool>)]
    pub pre_deletion: Option<String>,
    /// Part of a name or login (at most 100 characters); case and accents do not
    /// matter.
    #[param(schema_with = schema::label_text)]
    pub q: Option<String>,
    #[param(value_type = Option<Sort>)]
    pub sort: Option<String>,
    /// The `next_cursor` of the page before, with the same `sort`.
    pub cursor: Option<String>,
    #[param(schema_with = schema::limit)]
    pub limit: Option<String>,
}

/// Collects the errors of every parameter before answering.
struct Parser(Vec<FieldError>);

impl Parser {
    fn one<T>(
        &mut self,
        field: &str,
        raw: Option<&str>,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let raw = raw?;
        let parsed = parse(raw.trim());
        if parsed.is_none() {
            self.0.push(FieldError::new(field, format!("must be {expected}")));
        }
        parsed
    }

    fn list<T>(
        &mut self,
        field: &str,
        raw: Option<&str>,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Vec<T> {
        let items = raw
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty());
        items
            .filter_map(|item| self.one(field, Some(item), expected, &parse))
            .collect()
    }
}

fn parse_instant(raw: &str, end_of_day: bool) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()?;
            let time = if end_of_day {
                date.and_hms_micro_opt(23, 59, 59, 999_999)?
            } else {
                date.and_hms_opt(0, 0, 0)?
            };
            Some(time.and_utc())
        })
}

fn parse_bool(raw: &str) -> Option<bool> {
    match raw {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn label(raw: &str) -> Option<String> {
    (raw.chars().count() <= 100).then(|| raw.to_owned())
}

impl ListParams {
    pub(crate) fn into_query(self) -> Result<(Selection, Sort, Option<String>, usize), Error> {
        let mut p = Parser(Vec::new());
        let selection = Selection {
            profiles: p.list("profile", self.profile.as_deref(), "a profile", |s| {
                Profile::parse(s)
            }),
            classes: p.list("class", self.class.as_deref(), "a class name", |s| {
                ClassName::parse(s).ok()
            }),
            level: p.one("level", self.level.as_deref(), "at most 100 characters", label),
            group: p.one("group", self.group.as_deref(), "at most 100 characters", label),
            access: p.one(
                "access",
                self.access.as_deref(),
                "enabled or disabled",
                |s| match s {
                    "enabled" => Some(Access::Enabled),
                    "disabled" => Some(Access::Disabled),
                    _ => None,
                },
            ),
            activation: p.one(
                "activation",
                self.activation.as_deref(),
                "pending or activated",
                |s| match s {
                    "pending" => Some(Activation::Pending),
                    "activated" => Some(Activation::Activated),
                    _ => None,
                },
            ),
            has_email: p.one("email", self.email.as_deref(), "present or absent", |s| match s {
                "present" => Some(true),
                "absent" => Some(false),
                _ => None,
            }),
            email_state: p.one(
                "email_state",
                self.email_state.as_deref(),
                "unknown, delivered, bounced, complained or delayed",
                EmailStatus::parse,
            ),
            local_admin: p.one(
                "local_admin",
                self.local_admin.as_deref(),
                "none, secondary or admin",
                LocalAdmin::parse,
            ),
            created_from: p.one("created_from", self.created_from.as_deref(), "a date", |s| {
                parse_instant(s, false)
            }),
            created_to: p.one("created_to", self.created_to.as_deref(), "a date", |s| {
                parse_instant(s, true)
            }),
            disabled_within_days: p.one(
                "disabled_within_days",
                self.disabled_within_days.as_deref(),
                "a number of days (0–3650)",
                |s| s.parse().ok().filter(|d| *d <= 3650),
            ),
            pre_deletion: p.one(
                "pre_deletion",
                self.pre_deletion.as_deref(),
                "true or false",
                parse_bool,
            ),
            q: p.one("q", self.q.as_deref(), "at most 100 characters", label),
        };
        let sort = p
            .one(
                "sort",
                self.sort.as_deref(),
                "name, profile or class",
                |s| match s {
                    "name" => Some(Sort::Name),
                    "profile" => Some(Sort::Profile),
                    "class" => Some(Sort::Class),
                    _ => None,
                },
            )
            .unwrap_or_default();
        let limit = p
            .one("limit", self.limit.as_deref(), "a number from 1 to 500", |s| {
                s.parse::<usize>().ok().filter(|n| (1..=MAX_LIMIT).contains(n))
            })
            .unwrap_or(DEFAULT_LIMIT);
        if p.0.is_empty() {
            Ok((selection, sort, self.cursor, limit))
        } else {
            Err(Error::Validation(p.0))
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AccountListView {
    pub items: Vec<AccountView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// How many accounts match the filters, on all pages.
    pub total: u64,
}

/// Accounts of the caller's school that the caller may see, filtered and sorted.
#[utoipa::path(get, path = "/v1/accounts", tag = "accounts", params(ListParams), security(("bearer" = [])),
    responses((status = 200, body = AccountListView),
        (status = 400, description = "`cursor` is not one this list gave with this `sort` (`invalid_cursor`).", body = Problem),
        (status = 422, description = "A filter's value is not one the list takes (`validation_failed`, naming it in `errors`).", body = Problem)))]
async fn list_accounts(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Json<AccountListView>> {
    let (selection, sort, cursor, limit) = params.into_query()?;
    let sesame = &state.sesame;
    let list = sesame
        .list_accounts(&caller, &selection, sort, cursor.as_deref(), limit)
        .await?;
    let now = sesame.now();
    let items = list
        .items
        .into_iter()
        .map(|a| AccountView::new(a, &caller, now, list.retention_days))
        .collect();
    Ok(Json(AccountListView {
        items,
        next_cursor: list.next_cursor,
        total: list.total,
    }))
}

/// One account.
#[utoipa::path(get, path = "/v1/accounts/{id}", tag = "accounts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Account id")),
    responses((status = 200, body = AccountView),
        (status = 404, description = "No such account that the caller may see (`not_found`).", body = Problem)))]
async fn get_account(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<AccountView>> {
    let id = AccountId::parse(&id).map_err(|_| Error::NotFound)?;
    let sesame = &state.sesame;
    let account = sesame.get_account(&caller, &id).await?;
    let retention = sesame.retention_days_for(&caller, &account).await?;
    Ok(Json(AccountView::new(account, &caller, sesame.now(), retention)))
}
