//! The OAuth 2.0 authorization request (RFC 6749 §4.1.1) as the bootstrapper's sign-in page and
//! the OpenID Connect sign-in both receive it: its parameters, the checks that come before
//! anything is sent to the client's redirect URI, and the answers (an error page, or a redirect
//! to the client).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::oauth;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    #[serde(default)]
    pub client_id: String,
    pub redirect_uri: Option<String>,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub code_challenge: String,
    #[serde(default)]
    pub code_challenge_method: String,
}

pub fn page(status: StatusCode, html: String, cookie: Option<&str>) -> Response {
    let resp = crate::page::send(status, html, crate::page::STANDALONE_CSP);
    match cookie {
        Some(c) => crate::page::with_cookie(resp, c),
        None => resp,
    }
}

pub fn error_page(status: StatusCode, message: &str) -> Response {
    let text = format!(
        "<!doctype html><title>wopid</title><p>{}</p>",
        askama::filters::escape(message, askama::filters::Html)
            .map(|e| e.to_string())
            .unwrap_or_default()
    );
    page(status, text, None)
}

/// A redirect to the client with these parameters, and `state` if the request had one (an empty
/// one is not echoed).
pub fn redirect_to_client(redirect_uri: &str, params: &[(&str, &str)], state: &str) -> Response {
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.extend_pairs(params);
    if !state.is_empty() {
        q.append_pair("state", state);
    }
    let to = format!("{redirect_uri}{sep}{}", q.finish());
    match HeaderValue::from_str(&to) {
        Ok(v) => (StatusCode::SEE_OTHER, [(header::LOCATION, v)]).into_response(),
        Err(_) => error_page(StatusCode::BAD_REQUEST, "The redirect URI is not usable."),
    }
}

/// A redirect to the client with an RFC 6749 §4.1.2.1 error.
pub fn redirect_error(redirect_uri: &str, error: &str, state: &str) -> Response {
    redirect_to_client(redirect_uri, &[("error", error)], state)
}

/// The redirect URI the request named, if any (an empty one is none).
pub fn redirect_uri(p: &AuthorizeParams) -> Option<&str> {
    p.redirect_uri.as_deref().filter(|r| !r.is_empty())
}

/// Checks what must hold before anything is sent to the redirect URI: a known client and its
/// exact redirect URI. Then the request itself, whose errors go back to the client.
pub async fn check(
    state: &AppState,
    p: &AuthorizeParams,
) -> Result<Result<wopid_store::OAuthClient, Response>, ApiError> {
    let Some(client) = oauth::client_for(state, &p.client_id, redirect_uri(p)).await? else {
        return Ok(Err(error_page(
            StatusCode::BAD_REQUEST,
            "Unknown client or redirect URI.",
        )));
    };
    let error = match p.response_type.as_deref() {
        None | Some("") => Some("invalid_request"),
        Some("code") => None,
        Some(_) => Some("unsupported_response_type"),
    };
    // PKCE: only S256 (a missing method means `plain`, RFC 7636 §4.3), a challenge that can be
    // one, and one at all from a client that must use it.
    let pkce_ok = if p.code_challenge.is_empty() {
        p.code_challenge_method.is_empty() && !client.require_pkce
    } else {
        p.code_challenge_method == "S256" && oauth::valid_challenge(&p.code_challenge)
    };
    let error = error.or((!pkce_ok).then_some("invalid_request"));
    if let Some(e) = error {
        return Ok(Err(redirect_error(&client.redirect_uri, e, &p.state)));
    }
    Ok(Ok(client))
}

/// The providers' buttons of the bootstrapper's sign-in page: the authorization request goes
/// along, to be answered once the provider has signed the user in.
pub fn oauth_links(
    state: &AppState,
    p: &crate::authorize::AuthorizeParams,
) -> Vec<crate::page::ProviderLink> {
    let q = query(p);
    state
        .config
        .oidc
        .iter()
        .map(|o| crate::page::ProviderLink {
            href: format!("{}/oidc/{}/authorize?{q}", state.base, o.name),
            label: crate::page::label(o),
        })
        .collect()
}

/// The authorization request as a query string.
fn query(p: &AuthorizeParams) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    if let Some(t) = &p.response_type {
        q.append_pair("response_type", t);
    }
    q.append_pair("client_id", &p.client_id);
    if let Some(r) = &p.redirect_uri {
        q.append_pair("redirect_uri", r);
    }
    for (k, v) in [
        ("state", &p.state),
        ("code_challenge", &p.code_challenge),
        ("code_challenge_method", &p.code_challenge_method),
    ] {
        if !v.is_empty() {
            q.append_pair(k, v);
        }
    }
    q.finish()
}
