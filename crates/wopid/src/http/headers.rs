//! The request's headers and method in the protocol crate's terms.

use axum::http::{HeaderMap, HeaderValue, Method as HttpMethod};

/// `wopid_proto::Headers` over axum's header map (a newtype: both are foreign).
pub(crate) struct Hdrs<'a>(pub &'a HeaderMap);

impl wopid_proto::Headers for Hdrs<'_> {
    fn get(&self, name: &str) -> Option<&[u8]> {
        self.0.get(name).map(HeaderValue::as_bytes)
    }
}

pub(crate) fn method(m: &HttpMethod) -> wopid_proto::Method {
    match *m {
        HttpMethod::GET => wopid_proto::Method::Get,
        HttpMethod::POST => wopid_proto::Method::Post,
        _ => wopid_proto::Method::Other,
    }
}
