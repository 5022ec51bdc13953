//! The responses every route of a kind shares, added to the generated description
//! in one place so that no annotation repeats them and none can forget one: what
//! the extractors refuse (unreadable, oversized or misshapen bodies, bad query
//! strings, bad `Idempotency-Key`s, missing tokens), the headers that go with
//! them, and internal errors.

use axum::http::{StatusCode, header};
use utoipa::openapi::content::Content;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{OpenApi, Ref, RefOr, ResponseBuilder};

/// Completes the generated description. Routes declare only their own statuses
/// (`body = Problem`); here every API error becomes `application/problem+json`,
/// and the pages' errors stay `text/html`.
pub fn complete(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let api = path.starts_with("/v1/");
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            complete_operation(operation, api);
        }
    }
}

const PROBLEM_JSON: &str = "application/problem+json";

/// A status a route of a kind may answer whatever it does, and why: on the API,
/// naming the `code`; on a page (empty: pages never answer it).
struct Common {
    status: StatusCode,
    api: &'static str,
    page: &'static str,
}

const UNAUTHENTICATED: Common = Common {
    status: StatusCode::UNAUTHORIZED,
    api: "No valid bearer token: missing, malformed, expired, or naming a disabled account (`unauthenticated`).",
    page: "",
};
const UNREADABLE_JSON: Common = Common {
    status: StatusCode::BAD_REQUEST,
    api: "The body is not JSON (`malformed_json`) or could not be read (`unreadable_body`).",
    page: "",
};
const UNREADABLE_BODY: Common = Common {
    status: StatusCode::BAD_REQUEST,
    api: "The body could not be read (`unreadable_body`).",
    page: "The form could not be read.",
};
const TOO_LARGE: Common = Common {
    status: StatusCode::PAYLOAD_TOO_LARGE,
    api: "The body is larger than 1 MiB (`payload_too_large`).",
    page: "The form is larger than 1 MiB.",
};
const UNSUPPORTED: Common = Common {
    status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
    api: "The body is not of the documented type (`unsupported_media_type`).",
    page: "The body is not a form (`application/x-www-form-urlencoded`).",
};
const MISSHAPEN: Common = Common {
    status: StatusCode::UNPROCESSABLE_ENTITY,
    api: "The body does not have the documented shape: a missing, unknown or mistyped field (`validation_failed`, naming it in `errors`).",
    page: "",
};
const BAD_QUERY: Common = Common {
    status: StatusCode::BAD_REQUEST,
    api: "The query string cannot be read: an unknown, repeated or mistyped parameter (`invalid_query`).",
    page: "",
};
const BAD_KEY: Common = Common {
    status: StatusCode::BAD_REQUEST,
    api: "`Idempotency-Key` is not 1 to 255 visible characters (`invalid_idempotency_key`).",
    page: "",
};
const KEY_RUNNING: Common = Common {
    status: StatusCode::CONFLICT,
    api: "The first request with this `Idempotency-Key` is still running (`idempotency_in_progress`).",
    page: "",
};
const KEY_REUSED: Common = Common {
    status: StatusCode::UNPROCESSABLE_ENTITY,
    api: "This `Idempotency-Key` was used with another body (`idempotency_key_reused`).",
    page: "",
};
const BUSY: Common = Common {
    status: StatusCode::SERVICE_UNAVAILABLE,
    api: "The server is checking too many passwords at once (`busy`).",
    page: "The server is checking too many passwords at once.",
};
const UNAVAILABLE: Common = Common {
    status: StatusCode::SERVICE_UNAVAILABLE,
    api: "The store did not answer (`unavailable`): nothing was done; try again.",
    page: "The service did not answer: try again in a moment.",
};
const INTERNAL: Common = Common {
    status: StatusCode::INTERNAL_SERVER_ERROR,
    api: "An internal error (`internal`): its cause is in the log, under the request id.",
    page: "An internal error: its cause is in the log, under the request id.",
};

fn complete_operation(operation: &mut Operation, api: bool) {
    let media = if api { PROBLEM_JSON } else { "text/html" };
    let responses = &mut operation.responses.responses;
    for (status, response) in responses.iter_mut() {
        if let (RefOr::T(response), true) = (response, is_error(status))
            && let Some(content) = response.content.shift_remove("application/json")
        {
            response.content.insert(media.to_owned(), content);
        }
    }
    let bearer = operation
        .security
        .iter()
        .flatten()
        .any(|requirement| serde_json::to_value(requirement).is_ok_and(|v| v.get("bearer").is_some()));
    let body = operation.request_body.as_ref();
    let reads_json = body.is_some_and(|b| b.content.contains_key("application/json"));
    let parameters = || operation.parameters.iter().flatten();
    let has_query = parameters().any(|p| matches!(p.parameter_in, ParameterIn::Query));
    let mut idempotent = false;
    for parameter in operation.parameters.iter_mut().flatten() {
        if parameter.name.eq_ignore_ascii_case("Idempotency-Key") {
            parameter.schema = Some(idempotency_key());
            idempotent = true;
        }
    }
    let mut common = Vec::new();
    if bearer {
        common.push(UNAUTHENTICATED);
    }
    if body.is_some() {
        common.extend([
            if reads_json {
                UNREADABLE_JSON
            } else {
                UNREADABLE_BODY
            },
            TOO_LARGE,
            UNSUPPORTED,
        ]);
    }
    if reads_json {
        common.push(MISSHAPEN);
    }
    if has_query && api {
        common.push(BAD_QUERY);
    }
    if idempotent {
        common.extend([BAD_KEY, KEY_RUNNING, KEY_REUSED]);
    }
    for Common {
        status,
        api: why_api,
        page,
    } in common
    {
        let why = if api { why_api } else { page };
        if !why.is_empty() {
            add_response(responses, status, why, media);
        }
    }
    // A route that counts attempts (429) takes a place in the checking queue to
    // count one: a full queue answers 503 (`busy`), and costs no attempt.
    if responses.contains_key("429") {
        let why = if api { BUSY.api } else { BUSY.page };
        add_response(responses, BUSY.status, why, media);
    }
    // An operation that can fail for a reason of the request's can fail for one of
    // ours; liveness and the plain pages cannot.
    if responses.keys().any(|status| is_error(status)) {
        let why = if api { INTERNAL.api } else { INTERNAL.page };
        add_response(responses, INTERNAL.status, why, media);
        let why = if api { UNAVAILABLE.api } else { UNAVAILABLE.page };
        add_response(responses, UNAVAILABLE.status, why, media);
    }
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        let retry_after = || {
            (
                header::RETRY_AFTER,
                ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)),
                "Seconds to wait before trying again.",
            )
        };
        // Problems say when to try again; the pages only when an account is locked.
        let (name, schema, description) = match status.as_str() {
            "401" if bearer => (
                header::WWW_AUTHENTICATE,
                ObjectBuilder::new().schema_type(Type::String),
                "`Bearer` when no valid bearer token came.",
            ),
            "429" => retry_after(),
            "503" if api => retry_after(),
            _ => continue,
        };
        let header = HeaderBuilder::new()
            .schema(schema)
            .description(Some(description))
            .build();
        response.headers.insert(name.as_str().to_owned(), header);
    }
}

/// What `http::idempotency` takes as a key: 1 to 255 visible ASCII characters
/// (tabs and spaces inside), once HTTP has stripped the spaces around it.
fn idempotency_key() -> RefOr<utoipa::openapi::schema::Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(r"^[\t ]*[!-~](?:[\t -~]{0,253}[!-~])?[\t ]*$"))
        .into()
}

fn is_error(status: &str) -> bool {
    status.starts_with('4') || status.starts_with('5')
}

/// Adds `why` to the response of `status`, creating it (a problem in `media`)
/// when the route declared none. A route that declared the status keeps its own
/// words about it when they already say this (its own body limit, say).
fn add_response(
    responses: &mut std::collections::BTreeMap<String, RefOr<utoipa::openapi::Response>>,
    status: StatusCode,
    why: &str,
    media: &str,
) {
    let key = status.as_str().to_owned();
    match responses.get_mut(&key) {
        Some(RefOr::T(response)) => {
            let said = response.description.contains(why)
                || (status == StatusCode::PAYLOAD_TOO_LARGE && !response.description.is_empty());
            if !said {
                response.description = format!("{} {why}", response.description.trim_end())
                    .trim_start()
                    .to_owned();
            }
            if response.content.is_empty() {
                response.content.insert(media.to_owned(), problem_content(media));
            }
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            let response = ResponseBuilder::new()
                .description(why)
                .content(media, problem_content(media))
                .build();
            responses.insert(key, RefOr::T(response));
        }
    }
}

fn problem_content(media: &str) -> Content {
    if media == PROBLEM_JSON {
        Content::new(Some(Ref::from_schema_name("Problem")))
    } else {
        Content::new(Some(ObjectBuilder::new().schema_type(Type::String)))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    fn doc() -> Value {
        serde_json::to_value(crate::http::openapi()).unwrap()
    }

    fn operations(doc: &Value) -> Vec<(String, String, Value)> {
        let mut all = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                all.push((method.to_uppercase(), path.clone(), operation.clone()));
            }
        }
        all
    }

    #[test]
    fn every_reference_of_the_description_resolves() {
        fn refs(value: &Value, found: &mut Vec<String>) {
            match value {
                Value::Object(o) => {
                    if let Some(Value::String(r)) = o.get("$ref") {
                        found.push(r.clone());
                    }
                    o.values().for_each(|v| refs(v, found));
                }
                Value::Array(a) => a.iter().for_each(|v| refs(v, found)),
                _ => {}
            }
        }
        let doc = doc();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        for reference in found {
            let name = reference.strip_prefix("#/components/schemas/").unwrap();
            assert!(doc["components"]["schemas"][name].is_object(), "{reference}");
        }
    }

    #[test]
    fn the_bearer_token_guards_every_v1_route_but_self_service() {
        for (method, path, operation) in operations(&doc()) {
            let bearer = operation["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            let guarded = path.starts_with("/v1/") && !path.starts_with("/v1/auth/");
            assert_eq!(bearer, guarded, "{method} {path}");
            assert_eq!(
                operation["responses"]["401"].is_object(),
                guarded || path == "/v1/auth/login" || path == "/v1/auth/change-password",
                "{method} {path}"
            );
        }
    }

    #[test]
    fn every_api_error_is_a_problem_and_every_page_error_html() {
        for (method, path, operation) in operations(&doc()) {
            for (status, response) in operation["responses"].as_object().unwrap() {
                if status.as_str() < "400" {
                    continue;
                }
                let content = response["content"].as_object().unwrap();
                let media: Vec<&String> = content.keys().collect();
                if path.starts_with("/v1/") {
                    assert_eq!(media, ["application/problem+json"], "{method} {path} {status}");
                    assert_eq!(
                        content["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem"
                    );
                } else {
                    assert_eq!(media, ["text/html"], "{method} {path} {status}");
                }
                assert!(
                    !response["description"].as_str().unwrap().is_empty(),
                    "{method} {path} {status}"
                );
            }
        }
    }

    #[test]
    fn a_route_that_reads_json_describes_every_refusal_of_its_extractor() {
        for (method, path, operation) in operations(&doc()) {
            if operation["requestBody"]["content"]["application/json"].is_object() {
                for status in ["400", "413", "415", "422", "500"] {
                    assert!(
                        operation["responses"][status].is_object(),
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
}
