//! RFC 9457 problem details: every error of `/api/v1` is `application/problem+json`, including
//! the extractors' rejections (bad JSON, bad path or query) and unknown routes and methods.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use crate::error::{ApiError, StoreFailure};

/// An error of the management API (RFC 9457).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; `about:blank` when the status says it all.
    #[serde(rename = "type")]
    pub kind: String,
    /// The status's short description.
    pub title: String,
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    #[serde(skip)]
    #[schema(ignore)]
    extra: Box<Extra>,
}

#[derive(Debug, Clone, Default)]
struct Extra {
    content_range: Option<HeaderValue>,
    challenge: bool,
    store_failure: Option<StoreFailure>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank".to_owned(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            extra: Box::default(),
        }
    }

    /// 401 with the `WWW-Authenticate: Bearer` challenge.
    pub fn unauthorized(detail: &str) -> Self {
        let mut p = Self::new(StatusCode::UNAUTHORIZED, detail);
        p.extra.challenge = true;
        p
    }

    pub fn forbidden(detail: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "no such resource")
    }
}

impl From<ApiError> for Problem {
    /// The status and the message `ApiError`'s one mapping chooses (internal causes are logged
    /// there and never sent), as problem details.
    fn from(e: ApiError) -> Self {
        let resp = e.into_response();
        let status = resp.status();
        let detail = resp
            .headers()
            .get(wopid_proto::wopi_header::SERVER_ERROR)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let mut p = Problem::new(status, detail);
        p.extra.content_range = resp.headers().get(header::CONTENT_RANGE).cloned();
        p.extra.store_failure = resp.extensions().get::<StoreFailure>().copied();
        p
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut resp = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(v) = self.extra.content_range {
            h.insert(header::CONTENT_RANGE, v);
        }
        if self.extra.challenge {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"wopid\""),
            );
        }
        if let Some(f) = self.extra.store_failure {
            resp.extensions_mut().insert(f);
        }
        resp
    }
}

/// A JSON body; its rejections (not JSON, wrong content type, wrong shape, too large) are
/// problems.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(r) => Err(Problem::new(r.status(), r.body_text())),
        }
    }
}

/// Path parameters; a rejection is a problem.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Self(v)),
            Err(r) => Err(Problem::new(StatusCode::BAD_REQUEST, r.body_text())),
        }
    }
}

/// Query parameters; a rejection is a problem.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Self(v)),
            Err(r) => Err(Problem::new(StatusCode::BAD_REQUEST, r.body_text())),
        }
    }
}

/// The answer to a route that does not exist under `/api/v1`.
pub async fn no_route() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, NO_ROUTE)
}

/// The detail of [`no_route`]: no such route, as opposed to no such resource.
pub const NO_ROUTE: &str = "no such API route";

/// The answer to a method a route does not have.
pub async fn no_method() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "this resource does not answer that method",
    )
}
