//! The kit of every HTML page Sésame serves, the console's and the self-service
//! pages' alike: one template engine (`maud`, compile-checked and escaping by
//! default), one way to translate (`tr`: the French and the English side by side
//! where the text is used), one choice of language, one document skeleton, the
//! same security headers and the same reading of forms.

use crate::domain::Language;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::de::DeserializeOwned;

/// The text of `lang` among two.
pub fn tr(lang: Language, fr: &'static str, en: &'static str) -> &'static str {
    match lang {
        Language::Fr => fr,
        Language::En => en,
    }
}

/// The language a page offers to switch to: its code and its name in itself.
pub fn other_language(lang: Language) -> (&'static str, &'static str) {
    match lang {
        Language::Fr => ("en", "English"),
        Language::En => ("fr", "Français"),
    }
}

/// The link to the same page in the other language.
pub fn language_switch(lang: Language) -> Markup {
    let (code, name) = other_language(lang);
    html! { a href={ "?lang=" (code) } hreflang=(code) lang=(code) { (name) } }
}

/// The first of `explicit` that is `fr` or `en` (from the form, the query) wins;
/// then the most preferred of French and English in `accept` (an `Accept-Language`
/// header); then French.
pub fn negotiate(explicit: &[Option<&str>], accept: Option<&str>) -> Language {
    if let Some(lang) = explicit.iter().flatten().find_map(|raw| parse_lang(raw)) {
        return lang;
    }
    let mut best: Option<(Language, f32)> = None;
    for range in accept.unwrap_or_default().split(',') {
        let mut parts = range.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        let primary = tag.split('-').next().unwrap_or_default();
        let Some(lang) = parse_lang(primary) else {
            continue;
        };
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
            best = Some((lang, q));
        }
    }
    best.map_or(Language::Fr, |(lang, _)| lang)
}

fn parse_lang(raw: &str) -> Option<Language> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "fr" => Some(Language::Fr),
        "en" => Some(Language::En),
        _ => None,
    }
}

/// A page's language: the form's hidden field, `?lang=`, `Accept-Language`, French.
pub fn language(uri: &Uri, headers: &HeaderMap, form: Option<&str>) -> Language {
    let query = query_param(uri, "lang");
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    negotiate(&[form, query.as_deref()], accept)
}

/// The query string's fields in order.
pub fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default()
}

/// The value of `name` in the query string, if any.
pub fn query_param(uri: &Uri, name: &str) -> Option<String> {
    query_pairs(uri)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The first value of `name` among a form's fields.
pub fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

/// A form-encoded body, or the status that says why there is none.
pub fn read_form<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, StatusCode> {
    if !is_form(headers) {
        return Err(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    let bytes = body.map_err(|rejection| rejection.status())?;
    serde_urlencoded::from_bytes(&bytes).map_err(|_| StatusCode::BAD_REQUEST)
}

/// A form-encoded body of this shape (`None`: not a form, or not of this shape).
pub fn form<T: DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> Option<T> {
    read_form(headers, Ok(body.clone())).ok()
}

/// A form's fields in order, repeated names kept (check boxes).
pub fn form_pairs(headers: &HeaderMap, body: &Bytes) -> Option<Vec<(String, String)>> {
    form::<Vec<(String, String)>>(headers, body)
}

/// The card pages' stylesheet (the self-service pages, the console's sign-in and
/// own page): one small layout that reads well on a phone.
pub const STYLE: &str = "\
*{box-sizing:border-box}\
[hidden]{display:none!important}\
body{margin:0;background:#f3f4f6;color:#1f2937;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}\
main{max-width:28rem;margin:0 auto;padding:1.25rem 1rem 2rem}\
.card{background:#fff;border-radius:.75rem;padding:1.25rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}\
h1{font-size:1.4rem;line-height:1.25;margin:0 0 .75rem}\
p{margin:.5rem 0}\
.brand{display:flex;justify-content:space-between;align-items:center;margin-bottom:.75rem;color:#4b5563}\
.brand strong{font-size:1.1rem;color:#1e3a8a}\
.brand a{color:#1e40af}\
label{display:block;font-weight:600;margin:1rem 0 .25rem}\
input{display:block;width:100%;font:inherit;font-size:1.05rem;padding:.7rem .75rem;border:1px solid #9ca3af;border-radius:.5rem;background:#fff;color:inherit}\
input:focus{outline:3px solid #93c5fd;border-color:#1e40af}\
.hint{font-size:.9rem;color:#4b5563;margin:.35rem 0 0}\
button,.button{display:block;width:100%;margin-top:1.5rem;padding:.85rem;font:inherit;font-size:1.1rem;font-weight:600;border:0;border-radius:.5rem;background:#1e40af;color:#fff;text-align:center;text-decoration:none;cursor:pointer}\
.alert{border-left:4px solid #b91c1c;background:#fef2f2;color:#7f1d1d;padding:.6rem .8rem;border-radius:.25rem;margin:.75rem 0}\
.alert ul{margin:.25rem 0 0;padding-left:1.25rem}\
.ok{border-left-color:#15803d;background:#f0fdf4;color:#14532d}\
table{border-collapse:collapse;width:100%;margin-top:1rem;display:block;overflow-x:auto}\
th,td{border-bottom:1px solid #d1d5db;padding:.45rem .5rem;text-align:left;vertical-align:top}\
td input[type=checkbox]{width:1.25rem;height:1.25rem}\
@media print{.brand,form,nav,button,a{display:none}table{display:table}}\
";

/// A whole page: private (no referrer, not indexed), in `lang`.
pub fn document(lang: Language, title: &str, head: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                meta name="robots" content="noindex, nofollow";
                title { (title) " · Sésame" }
                (head)
            }
            body { (body) }
        }
    }
}

/// A card page around `body`, under its title; `switch` offers the other language.
pub fn card(lang: Language, title: &str, body: Markup, switch: bool) -> Markup {
    let head = html! { style { (PreEscaped(STYLE)) } };
    let body = html! {
        main {
            div.brand {
                strong { "Sésame" }
                @if switch { (language_switch(lang)) }
            }
            div.card { h1 { (title) } (body) }
        }
    };
    document(lang, title, head, body)
}

/// What went wrong with a form, shown above it: a sentence and maybe a list.
pub fn alert_list(sentence: &str, items: &[String]) -> Markup {
    html! {
        div.alert role="alert" {
            p { (sentence) }
            @if !items.is_empty() { ul { @for item in items { li { (item) } } } }
        }
    }
}

/// An alert of one sentence.
pub fn alert(message: &str) -> Markup {
    alert_list(message, &[])
}

/// An HTML response.
pub fn respond(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// A page's response: HTML in `lang`, which the language's negotiation varies on.
pub fn page(status: StatusCode, lang: Language, markup: Markup) -> Response {
    let mut response = respond(status, markup);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.code()));
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    response
}

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The headers of every page: no referrer, no cache, a strict policy. A layer, so
/// that even an extractor's rejection carries them.
pub async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = [
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// A static asset of the pages (a stylesheet, a script).
pub fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_wins_then_the_preferred_of_french_and_english_then_french() {
        assert_eq!(negotiate(&[None, Some("en")], Some("fr")), Language::En);
        assert_eq!(
            negotiate(&[Some("de"), None], Some("en-GB,en;q=0.9")),
            Language::En
        );
        assert_eq!(
            negotiate(&[], Some("de-DE,de;q=0.9,en;q=0.5,fr;q=0.8")),
            Language::Fr
        );
        assert_eq!(negotiate(&[], Some("en-US,en;q=0.9")), Language::En);
        assert_eq!(negotiate(&[], Some("en;q=0,de")), Language::Fr);
        assert_eq!(negotiate(&[], None), Language::Fr);
    }

    #[test]
    fn markup_from_outside_is_escaped() {
        let page = card(Language::En, "<b>", alert("\"><script>alert(1)</script>"), true);
        let page = page.into_string();
        assert!(!page.contains("<script>"));
        assert!(page.contains("&quot;&gt;&lt;script&gt;"));
    }
}
