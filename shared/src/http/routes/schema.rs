//! Schemas of what the routes check by hand, so that the description says exactly
//! what the server accepts (SPEC §4), down to the spaces a `parse` trims: a client
//! generated from it, or a fuzzer, finds no value the schema allows and the server
//! refuses, nor the reverse.

use crate::domain::{Access, Activation, LocalAdmin, Profile, Sort};
use serde_json::{Value, json};
use utoipa::PartialSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

/// What `str::trim` removes around a value: Unicode `White_Space`.
const SPACE: &str = r"[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
/// Any character but those.
const NOT_SPACE: &str = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
/// A character of a class name: neither a control character (`char::is_control`)
/// nor a space, nor (in a list) the comma that separates names.
const NAME_EDGE: &str = r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000,]";
const NAME_INNER: &str = r"[^\x00-\x1f\x7f-\x9f,]";

/// A schema written as JSON. Only ever given literals of the routes, read back
/// whole by the tests (utoipa's types drop what they cannot hold, such as an
/// `anyOf` beside `properties`).
pub fn from_json(value: Value) -> RefOr<Schema> {
    let schema: RefOr<Schema> =
        serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("a schema of the routes: {e}"));
    #[cfg(debug_assertions)]
    if let Some(lost) = difference(&value, &serde_json::to_value(&schema).unwrap_or_default(), "") {
        panic!("a schema of the routes lost {lost}");
    }
    schema
}

/// Where `read` differs from `written`, as a JSON pointer.
#[cfg(debug_assertions)]
fn difference(written: &Value, read: &Value, at: &str) -> Option<String> {
    match (written, read) {
        (Value::Object(w), Value::Object(r)) => w
            .iter()
            .filter(|(key, value)| {
                !(r.get(*key).is_none() && value.as_object().is_some_and(|o| o.is_empty()))
            })
            .find_map(|(key, value)| {
                difference(value, r.get(key).unwrap_or(&Value::Null), &format!("{at}/{key}"))
            })
            .or_else(|| {
                r.keys()
                    .find(|key| !w.contains_key(*key))
                    .map(|key| format!("{at}/{key} (added)"))
            }),
        (Value::Array(w), Value::Array(r)) if w.len() == r.len() => w
            .iter()
            .zip(r)
            .enumerate()
            .find_map(|(i, (w, r))| difference(w, r, &format!("{at}/{i}"))),
        _ => (written != read).then(|| format!("{at}: {written} became {read}")),
    }
}

/// `inner`, with any spaces around it.
pub fn trimmed(inner: &str) -> String {
    format!("^{SPACE}*(?:{inner}){SPACE}*$")
}

/// A comma-separated list of `item`s, each with any spaces around it; empty items
/// are ignored.
pub fn listed(item: &str) -> String {
    let one = format!("{SPACE}*(?:(?:{item}){SPACE}*)?");
    format!("^{one}(?:,{one})*$")
}

/// The values of a string enum, as its own schema lists them, as an alternation.
pub fn one_of<T: PartialSchema>() -> String {
    let schema = serde_json::to_value(T::schema()).unwrap_or_default();
    let values: Vec<&str> = schema["enum"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    values.join("|")
}

/// A class name once trimmed: 1 to 64 characters, no control character
/// (`ClassName::parse`).
pub fn class_name() -> String {
    format!("{NAME_EDGE}(?:{NAME_INNER}{{0,62}}{NAME_EDGE})?")
}

/// At most 100 characters once trimmed (the list's `level`, `group`, `q`).
pub fn label() -> String {
    format!(r"{NOT_SPACE}(?:[\s\S]{{0,98}}{NOT_SPACE})?|")
}

/// An account id once trimmed (`AccountId::parse`).
pub const ACCOUNT_ID: &str = "[A-Za-z0-9_-]{1,64}";

/// A whole number from 1 to 500 as `str::parse::<usize>` reads it (`limit`).
pub const ONE_TO_500: &str = r"\+?0*(?:[1-9][0-9]?|[1-4][0-9]{2}|500)";
/// A whole number from 0 to 3650 (`disabled_within_days`).
pub const ZERO_TO_3650: &str = r"\+?0*(?:[0-9]{1,3}|[0-2][0-9]{3}|3[0-5][0-9]{2}|36[0-4][0-9]|3650)";

/// A path parameter naming an account.
pub fn account_id() -> RefOr<Schema> {
    from_json(json!({ "type": "string", "pattern": trimmed(ACCOUNT_ID) }))
}

/// A list of 1 to `max` account ids, each as `AccountId::parse` reads it.
fn account_ids(max: usize, nullable: bool) -> RefOr<Schema> {
    let kind = if nullable {
        json!(["array", "null"])
    } else {
        json!("array")
    };
    from_json(json!({
        "type": kind,
        "items": { "type": "string", "pattern": trimmed(ACCOUNT_ID) },
        "minItems": 1,
        "maxItems": max,
    }))
}

/// `account_ids` of the bulk routes: 1 to 500.
pub fn bulk_ids() -> RefOr<Schema> {
    account_ids(super::access::MAX_BULK_IDS, false)
}

/// `account_ids` of a reset: 1 to 100.
pub fn reset_ids() -> RefOr<Schema> {
    account_ids(crate::ops::reset::MAX_RESET_IDS, false)
}

/// `account_ids` of a mailing, or `null` with a `filter`: 1 to 500.
pub fn mail_ids() -> RefOr<Schema> {
    account_ids(super::access::MAX_BULK_IDS, true)
}

/// `account_ids` of an export, or `null` with a `filter`: 1 to 10,000.
pub fn export_ids() -> RefOr<Schema> {
    account_ids(crate::ops::export::MAX_EXPORT_IDS, true)
}

/// An RFC 3339 instant, as `DateTime::parse_from_rfc3339` reads it.
pub fn instant() -> RefOr<Schema> {
    from_json(json!({ "type": "string", "format": "date-time" }))
}

/// An RFC 3339 instant, or a day (`YYYY-MM-DD`, its start or its end).
pub fn instant_or_day() -> RefOr<Schema> {
    from_json(json!({
        "anyOf": [
            { "type": "string", "format": "date-time" },
            { "type": "string", "format": "date" },
        ],
    }))
}

/// `limit` of a list: 1 to 500, 100 by default.
pub fn limit() -> RefOr<Schema> {
    from_json(json!({ "type": "integer", "minimum": 1, "maximum": 500, "default": 100 }))
}

/// A class in a query: a class name, with any spaces around it.
pub fn class() -> RefOr<Schema> {
    from_json(json!({ "type": "string", "pattern": format!("^{SPACE}*{}{SPACE}*$", class_name()) }))
}

/// The account list's `profile` in a query: profiles, each item itself a
/// comma-separated list (the query string joins them).
pub fn profile_list() -> RefOr<Schema> {
    from_json(json!({
        "type": "array",
        "items": { "type": "string", "pattern": listed(&one_of::<Profile>()) },
    }))
}

pub fn class_list() -> RefOr<Schema> {
    from_json(json!({
        "type": "array",
        "items": { "type": "string", "pattern": listed(&class_name()) },
    }))
}

pub fn label_text() -> RefOr<Schema> {
    from_json(json!({ "type": "string", "pattern": trimmed(&label()) }))
}

/// An e-mail address as `Email::parse` takes it (one `@`, a dotted domain, no
/// spaces), with any spaces around it.
pub fn email_pattern() -> String {
    trimmed(&format!(
        r"[^@\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+@{d}[^@{s}]*\.[^@{s}]*{d}",
        d = r"[^.@\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        s = r"\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000",
    ))
}

/// An address (at most 254 characters), or `null`.
pub fn email_or_null() -> RefOr<Schema> {
    from_json(json!({
        "type": ["string", "null"],
        "maxLength": 254,
        "pattern": email_pattern(),
        "description": "An e-mail address (one `@`, a dotted domain, no spaces; at most 254 characters), or `null` to remove it.",
    }))
}

pub fn email_presence() -> RefOr<Schema> {
    from_json(json!({ "type": "string", "enum": ["present", "absent"] }))
}

/// The list's filters as the JSON `filter` of a mailing or an export: every value a
/// string, as in a query string, and checked alike.
pub struct ListFilter;

impl PartialSchema for ListFilter {
    fn schema() -> RefOr<Schema> {
        let text = |pattern: String, description: &str| json!({ "type": ["string", "null"], "pattern": pattern, "description": description });
        let day = json!({
            "anyOf": [
                { "type": "string", "format": "date-time" },
                { "type": "string", "format": "date" },
                { "type": "null" },
            ],
        });
        from_json(json!({
            "type": "object",
            "description": "The filters of `GET /v1/accounts`, each as a string as in its query string.",
            "properties": {
                "profile": text(listed(&one_of::<Profile>()), "Profiles, comma-separated."),
                "class": text(listed(&class_name()), "Class names, comma-separated."),
                "level": text(trimmed(&label()), "At most 100 characters."),
                "group": text(trimmed(&label()), "At most 100 characters."),
                "access": text(trimmed(&one_of::<Access>()), "`enabled` or `disabled`."),
                "activation": text(trimmed(&one_of::<Activation>()), "`pending` or `activated`."),
                "email": text(trimmed("present|absent"), "`present` or `absent`."),
                "local_admin": text(trimmed(&one_of::<LocalAdmin>()), "`none`, `secondary` or `admin`."),
                "created_from": day,
                "created_to": day,
                "disabled_within_days": text(trimmed(ZERO_TO_3650), "0 to 3650."),
                "pre_deletion": text(trimmed("true|false"), "`true` or `false`."),
                "q": text(trimmed(&label()), "At most 100 characters."),
                "sort": text(trimmed(&one_of::<Sort>()), "`name`, `profile` or `class`."),
                "cursor": { "type": ["string", "null"] },
                "limit": text(trimmed(ONE_TO_500), "1 to 500."),
            },
            "additionalProperties": false,
        }))
    }
}

impl utoipa::ToSchema for ListFilter {}

/// `object` (a reference to its schema), with exactly one of `account_ids` and
/// `filter` given (the other absent or `null`).
pub fn ids_or_filter(object: &str) -> RefOr<Schema> {
    from_json(json!({
        "allOf": [
            { "$ref": format!("#/components/schemas/{object}") },
            {
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["account_ids"],
                        "properties": { "account_ids": { "type": "array" }, "filter": { "type": "null" } },
                    },
                    {
                        "type": "object",
                        "required": ["filter"],
                        "properties": { "filter": { "type": "object" }, "account_ids": { "type": "null" } },
                    },
                ],
            },
        ],
    }))
}

/// Declares `$marker`, the schema of a request body `$body` that names its accounts
/// by `account_ids` or by `filter`: `$body`'s own, with the rule that exactly one of
/// them is given.
macro_rules! ids_or_filter_body {
    ($marker:ident for $body:ty) => {
        #[doc = concat!("`", stringify!($body), "`, with exactly one of `account_ids` and `filter`.")]
        pub struct $marker;

        impl utoipa::PartialSchema for $marker {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::http::routes::schema::ids_or_filter(&<$body as utoipa::ToSchema>::name())
            }
        }

        impl utoipa::ToSchema for $marker {
            fn schemas(
                schemas: &mut Vec<(
                    String,
                    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
                )>,
            ) {
                let name = <$body as utoipa::ToSchema>::name().into_owned();
                schemas.push((name, <$body as utoipa::PartialSchema>::schema()));
                <$body as utoipa::ToSchema>::schemas(schemas);
            }
        }
    };
}
pub(crate) use ids_or_filter_body;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_reads_back_as_written() {
        // `from_json` checks each (in debug builds, as tests are).
        for schema in [
            account_id(),
            bulk_ids(),
            export_ids(),
            instant(),
            instant_or_day(),
            limit(),
            class(),
            ids_or_filter("ExportBody"),
            ListFilter::schema(),
            profile_list(),
            class_list(),
        ] {
            assert!(serde_json::to_value(&schema).unwrap().is_object());
        }
    }

    #[test]
    fn an_enum_becomes_the_alternation_of_its_values() {
        assert_eq!(
            one_of::<crate::domain::Profile>(),
            "student|parent|teacher|staff|guest"
        );
    }
}
