//! `ApiError`: the one error type of the HTTP layer, mapped to a status and headers in one place.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use wopid_proto::ProtoError;
use wopid_store::StoreError;

/// Marks a response that failed because of the storage layer; set by `ApiError`, counted by the
/// metrics middleware.
#[derive(Debug, Clone, Copy)]
pub struct StoreFailure {
    /// The store was unreachable (503) rather than failing otherwise (500).
    pub unavailable: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Proto(#[from] ProtoError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Compare-and-swap kept losing to concurrent changes.
    #[error("the file is changing too fast, try again")]
    Busy,
    /// The request's proof-key signature is missing, stale or wrong (answered 500 as the spec
    /// says).
    #[error("proof key validation failed: {0}")]
    ProofFailed(String),
    /// The token's editor requires proofs but no proof key is known for it (a configuration
    /// problem, answered 401 with the reason rather than a 500).
    #[error("{0}")]
    ProofUnavailable(String),
    /// The editor saves over a version it has not seen (Collabora's status 1010).
    #[error("the document changed in storage since the editor loaded it")]
    ChangedInStorage,
    /// A value of the management API's request that cannot be used (422).
    #[error("{0}")]
    Invalid(&'static str),
    /// The management API refuses the caller this (403).
    #[error("{0}")]
    Refused(&'static str),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::ChangedInStorage = self {
            // The body Collabora looks for (older builds read the LOOL name).
            let body = r#"{"COOLStatusCode":1010,"LOOLStatusCode":1010}"#;
            let mut resp = (
                StatusCode::CONFLICT,
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response();
            resp.headers_mut().insert(
                wopid_proto::wopi_header::SERVER_ERROR,
                HeaderValue::from_static("the document changed in storage"),
            );
            return resp;
        }
        let (status, headers, message) = match &self {
            ApiError::Proto(p) => (p.status(), p.headers(), p.to_string()),
            ApiError::Store(StoreError::TooLarge { limit }) => {
                let p = ProtoError::TooLarge { limit: *limit };
                (p.status(), p.headers(), p.to_string())
            }
            ApiError::Store(StoreError::Body(e)) if body_timed_out(e) => (
                408,
                Vec::new(),
                "the request body stopped arriving".to_owned(),
            ),
            ApiError::Store(StoreError::Body(_)) => (
                400,
                Vec::new(),
                "the request body could not be read".to_owned(),
            ),
            ApiError::Store(StoreError::BlobNotFound(_)) => {
                (404, Vec::new(), "not found".to_owned())
            }
            ApiError::Busy | ApiError::ChangedInStorage => (503, Vec::new(), self.to_string()),
            ApiError::Store(e) if e.is_unavailable() => {
                // The database or object store is down or restarting: worth a retry later.
                tracing::error!(error = %e, "storage unavailable");
                (
                    503,
                    Vec::new(),
                    "storage temporarily unavailable".to_owned(),
                )
            }
            ApiError::ProofFailed(_) => (500, Vec::new(), self.to_string()),
            ApiError::Invalid(_) => (422, Vec::new(), self.to_string()),
            ApiError::Refused(_) => (403, Vec::new(), self.to_string()),
            ApiError::ProofUnavailable(_) => (401, Vec::new(), self.to_string()),

            ApiError::Store(e) => {
                // The cause goes to the log; the client learns only that the server failed.
                tracing::error!(error = %e, "storage failure");
                (500, Vec::new(), "internal storage error".to_owned())
            }
        };
        let mut resp = (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            message.clone(),
        )
            .into_response();
        let h = resp.headers_mut();
        for (name, value) in headers {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                h.insert(n, v);
            }
        }
        if let Ok(v) = HeaderValue::from_str(&message) {
            h.insert(wopid_proto::wopi_header::SERVER_ERROR, v);
        }
        if let ApiError::Store(e) = &self
            && status >= 500
        {
            // Counted by the metrics middleware.
            resp.extensions_mut().insert(StoreFailure {
                unavailable: e.is_unavailable(),
            });
        }
        resp
    }
}

/// Whether a body read failed because the client stopped sending (the server's idle timeout).
pub fn body_timed_out(e: &std::io::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::TimedOut {
                return true;
            }
            if let Some(inner) = io.get_ref() {
                cur = Some(inner);
                continue;
            }
        }
        cur = err.source();
    }
    false
}

impl From<wopid_proto::Conflict> for ApiError {
    fn from(c: wopid_proto::Conflict) -> Self {
        ApiError::Proto(ProtoError::LockConflict(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[test]
    fn timed_out_is_found_through_wrappers() {
        let inner = io::Error::from(io::ErrorKind::TimedOut);
        assert!(body_timed_out(&inner));
        let wrapped = io::Error::other(axum::Error::new(io::Error::other(inner)));
        assert!(body_timed_out(&wrapped));
        assert!(!body_timed_out(&io::Error::other("reset")));
    }
}
