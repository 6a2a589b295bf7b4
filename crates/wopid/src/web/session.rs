//! Web sign-in sessions: a random cookie (`HttpOnly`, `SameSite=Lax`, `Secure` behind HTTPS)
//! whose hash is stored with the user and the session's CSRF token. Every form of the web UI
//! carries that token and every POST checks it. A session records the user's credential
//! generation at sign-in: a new password or `token revoke --user` ends it, on every node.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use wopid_store::{SessionRecord, User};

use crate::error::ApiError;
use crate::state::AppState;

pub const COOKIE: &str = "wopid_session";
/// Sessions last this long.
pub const SESSION_TTL_MS: i64 = 12 * 3_600_000;

fn hash(v: &str) -> Vec<u8> {
    Sha256::digest(v.as_bytes()).to_vec()
}

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

fn secure(state: &AppState) -> &'static str {
    if state.base.starts_with("https://") {
        "; Secure"
    } else {
        ""
    }
}

/// Starts a session; returns the `Set-Cookie` value.
pub async fn start(state: &AppState, user: &User) -> Result<String, ApiError> {
    let value = crate::auth::tokens::random_token();
    let expires_ms = state.now_ms() + SESSION_TTL_MS;
    state
        .meta
        .insert_session(&SessionRecord {
            hash: hash(&value),
            user_id: user.id.clone(),
            csrf: crate::auth::tokens::random_token(),
            expires_ms,
            // As read with the user before the password was checked: a password changed since
            // voids this session too.
            epoch: user.epoch,
        })
        .await?;
    Ok(format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        SESSION_TTL_MS / 1000,
        secure(state)
    ))
}

/// Ends the session of these headers; returns the `Set-Cookie` value that clears the cookie.
pub async fn end(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    if let Some(v) = cookie_value(headers, COOKIE) {
        state.meta.delete_session(&hash(&v)).await?;
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
            Err(super::pages::message(
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
    let Some(s) = state.meta.session(&hash(&v)).await? else {
        return Ok(None);
    };
    if s.expires_ms <= state.now_ms() {
        state.meta.delete_session(&s.hash).await?;
        return Ok(None);
    }
    let Some(user) = state.meta.user(&s.user_id).await? else {
        return Ok(None);
    };
    if s.epoch < user.revoked_below {
        state.meta.delete_session(&s.hash).await?;
        return Ok(None);
    }
    Ok(Some(SignedIn {
        user,
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
