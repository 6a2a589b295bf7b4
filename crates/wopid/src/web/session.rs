//! Web sign-in sessions as the browser sees them: a random cookie (`HttpOnly`, `SameSite=Lax`,
//! `Secure` behind HTTPS) naming a session of `auth::session`. Every form of the web UI carries
//! the session's CSRF token and every POST checks it.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use subtle::ConstantTimeEq as _;
use wopid_store::User;

use crate::auth::session::{self as store, SESSION_TTL_MS};
use crate::error::ApiError;
use crate::state::AppState;

pub const COOKIE: &str = "wopid_session";

pub use crate::auth::cookie::cookie_value;

fn secure(state: &AppState) -> &'static str {
    if state.base.starts_with("https://") {
        "; Secure"
    } else {
        ""
    }
}

/// Starts a session; returns the `Set-Cookie` value.
pub async fn start(state: &AppState, user: &User) -> Result<String, ApiError> {
    let value = store::start(state, user).await?;
    Ok(format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        SESSION_TTL_MS / 1000,
        secure(state)
    ))
}

/// Ends the session of these headers; returns the `Set-Cookie` value that clears the cookie.
pub async fn end(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    if let Some(v) = cookie_value(headers, COOKIE) {
        store::end(state, &v).await?;
    }
    Ok(format!(
        "{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        secure(state)
    ))
}

/// The signed-in user of a request. Pages that need one redirect to the sign-in page without it.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    pub csrf: String,
    /// The session's credential generation, which the tokens it mints inherit.
    pub epoch: i64,
}

impl SignedIn {
    /// Checks a form's CSRF token against the session's, in constant time.
    #[allow(clippy::result_large_err)] // the refusal page is the response, built once per request
    pub fn check_csrf(&self, presented: &str) -> Result<(), Response> {
        if !presented.is_empty() && bool::from(self.csrf.as_bytes().ct_eq(presented.as_bytes())) {
            Ok(())
        } else {
            Err(crate::page::message(
                axum::http::StatusCode::FORBIDDEN,
                "The form expired or did not come from this site.",
            ))
        }
    }
}

/// The session of a request, if it has a live one.
pub async fn current(state: &AppState, headers: &HeaderMap) -> Result<Option<SignedIn>, ApiError> {
    let Some(v) = cookie_value(headers, COOKIE) else {
        return Ok(None);
    };
    Ok(store::live(state, &v).await?.map(|s| SignedIn {
        user: s.user,
        csrf: s.csrf,
        epoch: s.epoch,
    }))
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match current(state, &parts.headers).await {
            Ok(Some(s)) => Ok(s),
            Ok(None) => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let q: String = form_urlencoded::Serializer::new(String::new())
                    .append_pair("next", next)
                    .finish();
                Err(Redirect::to(&format!("/login?{q}")).into_response())
            }
            Err(e) => Err(e.into_response()),
        }
    }
}
