//! Request extractors that answer bad input with problem responses: JSON bodies
//! (unknown fields, wrong types), query strings, the bearer token, the request id.

use super::AppState;
use super::problem::Problem;
use crate::domain::Code;
use crate::domain::{Caller, FieldError};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

/// A JSON body, with a digest of its bytes (for idempotency fingerprints).
pub struct ApiJson<T> {
    pub value: T,
    pub digest: String,
}

/// Decodes JSON the way every endpoint does: malformed → 400, wrong shape → 422
/// naming the field. Numbers are read as JSON Schema reads them (the description
/// is one): `540.0` is the integer 540.
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let malformed = || {
        Problem::new(
            StatusCode::BAD_REQUEST,
            Code::MalformedJson,
            "the body is not valid JSON",
        )
    };
    let invalid = |e: serde_path_to_error::Error<serde_json::Error>| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = if path == "." { "body".to_owned() } else { path };
                Ok(Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Code::ValidationFailed,
                    "the request is invalid",
                )
                .with_errors(vec![FieldError::new(field, strip_position(&inner.to_string()))]))
            }
            _ => Err(()),
        }
    };
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, Json>(&mut deserializer)
        .map_err(|e| invalid(e).unwrap_or_else(|()| malformed()))?;
    deserializer.end().map_err(|_| malformed())?;
    serde_path_to_error::deserialize(value.0).map_err(|e| invalid(e).unwrap_or_else(|()| malformed()))
}

/// A JSON value as JSON Schema reads it: a number with no fraction is the integer
/// it equals, whichever way it is written (`540.0`, `5.4e2`); and, as a struct
/// would, an object may not name a field twice.
struct Json(serde_json::Value);

impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor).map(Json)
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // 2^64: the first float beyond `u64`.
        const U64_END: f64 = 18_446_744_073_709_551_616.0;
        if v.fract() == 0.0 && (-(2f64.powi(63))..U64_END).contains(&v) {
            return Ok(if v < 0.0 {
                (v as i64).into()
            } else {
                (v as u64).into()
            });
        }
        serde_json::Number::from_f64(v)
            .map(serde_json::Value::Number)
            .ok_or_else(|| E::custom("a number must be finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Json(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(items.into())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Json(value) = map.next_value()?;
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format_args!("duplicate field `{key}`")));
            }
            object.insert(key, value);
        }
        Ok(object.into())
    }
}

fn strip_position(message: &str) -> String {
    message.split(" at line ").next().unwrap_or(message).to_owned()
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !is_json {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Code::UnsupportedMediaType,
                "send the body as application/json",
            ));
        }
        let bytes = read_body(req, state).await?;
        Ok(Self {
            value: decode_json(&bytes)?,
            digest: crate::credentials::hex(&Sha256::digest(&bytes)),
        })
    }
}

/// The raw body, within the route's size limit (413 beyond it).
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, Problem> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                Code::PayloadTooLarge,
                "the body is too large",
            )
        } else {
            Problem::new(
                StatusCode::BAD_REQUEST,
                Code::UnreadableBody,
                "the body could not be read",
            )
        }
    })
}

/// A query string; unknown parameters and wrong types answer 400 problem+json.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query).map(ApiQuery).map_err(|e| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                Code::InvalidQuery,
                "the query string is invalid",
            )
            .with_errors(vec![FieldError::new("query", e.to_string())])
        })
    }
}

/// The request id given by the request-id layer.
pub struct RequestId(pub Option<String>);

impl RequestId {
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl RequestId {
    /// The request's id (the router's, or a fit one the client sent).
    pub fn of(headers: &axum::http::HeaderMap) -> Self {
        let id = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|id| is_request_id(id))
            .map(str::to_owned);
        Self(id)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::of(&parts.headers))
    }
}

/// Whether a request id (ours, or one a client or proxy sent) is fit for the log
/// and the audit: short, and only letters, digits and `-_.:`.
pub fn is_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The address of the client, for what is limited per client rather than per
/// account (wrong reset links, SPEC §3): API Gateway's `sourceIp` in the cloud (put
/// in the request by the gateway layer); on the edge the peer, or, when the peer is
/// a proxy the configuration trusts, the last address of `X-Forwarded-For` that is
/// not itself a trusted proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub Option<std::net::IpAddr>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(known) = parts.extensions.get::<ClientAddress>() {
            return Ok(*known);
        }
        #[cfg(feature = "edge")]
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        // Only the edge serves connections itself.
        #[cfg(not(feature = "edge"))]
        let peer: Option<std::net::IpAddr> = None;
        Ok(Self(peer.map(|peer| {
            forwarded_client(peer, &parts.headers, &state.trusted_proxies)
        })))
    }
}

/// The client behind `peer`: `peer` itself unless it is a trusted proxy, then the
/// last address of `X-Forwarded-For` that is not a trusted proxy (the entries
/// before it are the client's own word, which anyone can write).
pub fn forwarded_client(
    peer: std::net::IpAddr,
    headers: &axum::http::HeaderMap,
    trusted: &[std::net::IpAddr],
) -> std::net::IpAddr {
    // An IPv4 peer of a server bound to `[::]` comes as `::ffff:a.b.c.d`.
    let plain = |ip: std::net::IpAddr| ip.to_canonical();
    let is_trusted = |ip: std::net::IpAddr| trusted.iter().any(|t| plain(*t) == plain(ip));
    let mut client = plain(peer);
    if !is_trusted(client) {
        return client;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    // From the nearest hop back: each trusted proxy names the one before it; the
    // first that is not trusted is the client. A hop that is no address (a port,
    // `unknown`) ends the walk: what stands before it is anyone's word.
    for hop in hops.into_iter().rev() {
        let Ok(hop) = hop.trim().parse::<std::net::IpAddr>() else {
            break;
        };
        client = plain(hop);
        if !is_trusted(client) {
            break;
        }
    }
    client
}

/// The authenticated caller of an admin endpoint.
pub struct Authenticated(pub Caller);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let unauthenticated = || {
            Problem::new(
                StatusCode::UNAUTHORIZED,
                Code::Unauthenticated,
                "a valid bearer token is required",
            )
        };
        let caller = state
            .auth
            .caller(parts, state.sesame.now())
            .ok_or_else(unauthenticated)?;
        // A token whose `sub` names a disabled account of the school is refused
        // (SPEC §2): deactivation ends an admin's or teacher's access at once.
        if state.sesame.caller_is_disabled(&caller).await? {
            return Err(unauthenticated());
        }
        Ok(Authenticated(caller))
    }
}

#[cfg(test)]
mod tests {
    use super::{decode_json, forwarded_client};
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Days {
        days: u32,
        #[serde(default)]
        names: Vec<String>,
    }

    #[test]
    fn a_number_with_no_fraction_is_the_integer_it_equals() {
        for body in [r#"{"days": 540}"#, r#"{"days": 540.0}"#, r#"{"days": 5.4e2}"#] {
            let days: Days = decode_json(body.as_bytes()).unwrap();
            assert_eq!(days.days, 540, "{body}");
        }
    }

    #[test]
    fn a_fraction_names_the_field_in_a_422() {
        let problem = decode_json::<Days>(br#"{"days": 1.5}"#).unwrap_err();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.errors[0].field, "days");
    }

    #[test]
    fn a_field_given_twice_is_refused_as_before() {
        let problem = decode_json::<Days>(br#"{"days": 1, "days": 2}"#).unwrap_err();
        assert_eq!(problem.status, 422);
        assert!(
            problem.errors[0].message.contains("duplicate field"),
            "{:?}",
            problem.errors
        );
    }

    #[test]
    fn a_nested_error_keeps_its_path_and_bad_json_is_a_400() {
        let problem = decode_json::<Days>(br#"{"days": 1, "names": ["a", 2]}"#).unwrap_err();
        assert_eq!(
            (problem.status, problem.errors[0].field.as_str()),
            (422, "names[1]")
        );
        assert_eq!(decode_json::<Days>(br#"{"days": 1"#).unwrap_err().status, 400);
        assert_eq!(decode_json::<Days>(br#"{"days": 1} x"#).unwrap_err().status, 400);
        assert_eq!(
            decode_json::<Days>(br#"{"days": 1e999}"#).unwrap_err().status,
            400
        );
    }

    fn forwarded(peer: &str, header: Option<&str>, trusted: &[&str]) -> String {
        let mut headers = axum::http::HeaderMap::new();
        if let Some(value) = header {
            headers.insert("x-forwarded-for", value.parse().unwrap());
        }
        let trusted: Vec<std::net::IpAddr> = trusted.iter().map(|t| t.parse().unwrap()).collect();
        forwarded_client(peer.parse().unwrap(), &headers, &trusted).to_string()
    }

    #[test]
    fn the_client_is_the_peer_unless_the_peer_is_a_trusted_proxy() {
        assert_eq!(forwarded("203.0.113.7", Some("198.51.100.1"), &[]), "203.0.113.7");
        assert_eq!(
            forwarded("127.0.0.1", Some("198.51.100.1"), &["127.0.0.1"]),
            "198.51.100.1"
        );
        // A mapped IPv4 peer is the same proxy.
        assert_eq!(
            forwarded("::ffff:127.0.0.1", Some("198.51.100.1"), &["127.0.0.1"]),
            "198.51.100.1"
        );
    }

    #[test]
    fn what_a_client_writes_before_the_proxies_never_names_it() {
        // The client wrote the first entry; the trusted proxy appended the real one.
        assert_eq!(
            forwarded("127.0.0.1", Some("10.9.9.9, 198.51.100.1"), &["127.0.0.1"]),
            "198.51.100.1"
        );
        // Two proxies: the walk goes back past the trusted one only.
        assert_eq!(
            forwarded(
                "127.0.0.1",
                Some("10.9.9.9, 198.51.100.1, 10.0.0.2"),
                &["127.0.0.1", "10.0.0.2"]
            ),
            "198.51.100.1"
        );
        // A hop that is no address ends the walk at the proxy that wrote it.
        assert_eq!(
            forwarded("127.0.0.1", Some("10.9.9.9, unknown"), &["127.0.0.1"]),
            "127.0.0.1"
        );
        // A proxy that sends no header: the proxy is all one knows.
        assert_eq!(forwarded("127.0.0.1", None, &["127.0.0.1"]), "127.0.0.1");
    }
}
