//! Cookies of a request, read by the web pages' sessions and the OAuth sign-in page alike.

use axum::http::{HeaderMap, header};

/// The value of the cookie `name`, from any `Cookie` header of the request.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}
