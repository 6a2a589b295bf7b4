//! The OAuth 2.0 endpoints of the bootstrapper: `/oauth2/authorize` (sign-in page and its form)
//! and `/oauth2/token`. CSRF protection is a double-submit cookie: a random value in a
//! `SameSite=Strict` cookie and in the form, compared in constant time.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::auth::oauth::{self, OAuthError};
use crate::error::ApiError;
use crate::page::{FORM_EXPIRED, FormCookie, refused_sign_in};
use crate::state::AppState;

/// The sign-in form's CSRF cookie.
const CSRF: FormCookie = FormCookie {
    name: "wopid_csrf",
    path: "/oauth2",
};

#[derive(Debug, Default, Deserialize)]
pub(super) struct AuthorizeParams {
    #[serde(default)]
    response_type: String,
    #[serde(default)]
    client_id: String,
    redirect_uri: Option<String>,
    #[serde(default)]
    state: String,
    #[serde(default)]
    code_challenge: String,
    #[serde(default)]
    code_challenge_method: String,
}

#[derive(Deserialize)]
pub(super) struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(flatten)]
    params: AuthorizeParams,
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage<'a> {
    action: &'a str,
    client_name: &'a str,
    error: Option<&'a str>,
    csrf: &'a str,
    client_id: &'a str,
    redirect_uri: &'a str,
    state: &'a str,
    code_challenge: &'a str,
    code_challenge_method: &'a str,
}

fn page(status: StatusCode, html: String, cookie: Option<&str>) -> Response {
    let resp = crate::page::send(status, html, crate::page::STANDALONE_CSP);
    match cookie {
        Some(c) => crate::page::with_cookie(resp, c),
        None => resp,
    }
}

fn error_page(status: StatusCode, message: &str) -> Response {
    let text = format!(
        "<!doctype html><title>wopid</title><p>{}</p>",
        askama::filters::escape(message, askama::filters::Html)
            .map(|e| e.to_string())
            .unwrap_or_default()
    );
    page(status, text, None)
}

/// A redirect to the client with an RFC 6749 §4.1.2.1 error.
fn redirect_error(redirect_uri: &str, error: &str, state: &str) -> Response {
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let q: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("error", error)
        .append_pair("state", state)
        .finish();
    Redirect::to(&format!("{redirect_uri}{sep}{q}")).into_response()
}

/// Checks what must hold before anything is sent to the redirect URI: a known client and its
/// exact redirect URI. Then the request itself, whose errors go back to the client.
async fn check(
    state: &AppState,
    p: &AuthorizeParams,
) -> Result<Result<wopid_store::OAuthClient, Response>, ApiError> {
    let Some(client) = oauth::client_for(state, &p.client_id, p.redirect_uri.as_deref()).await?
    else {
        return Ok(Err(error_page(
            StatusCode::BAD_REQUEST,
            "Unknown client or redirect URI.",
        )));
    };
    if p.response_type != "code" {
        return Ok(Err(redirect_error(
            &client.redirect_uri,
            "unsupported_response_type",
            &p.state,
        )));
    }
    if !p.code_challenge.is_empty() && p.code_challenge_method != "S256" {
        return Ok(Err(redirect_error(
            &client.redirect_uri,
            "invalid_request",
            &p.state,
        )));
    }
    Ok(Ok(client))
}

fn render_sign_in(
    state: &AppState,
    client: &wopid_store::OAuthClient,
    p: &AuthorizeParams,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let (csrf, cookie) = CSRF.issue(state);
    let action = format!("{}/oauth2/authorize", state.base);
    let html = SignInPage {
        action: &action,
        client_name: &client.name,
        error,
        csrf: &csrf,
        client_id: &client.id,
        redirect_uri: &client.redirect_uri,
        state: &p.state,
        code_challenge: &p.code_challenge,
        code_challenge_method: &p.code_challenge_method,
    }
    .render();
    match html {
        Ok(html) => page(status, html, Some(&cookie)),
        Err(_) => error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The sign-in page could not be rendered.",
        ),
    }
}

pub(super) async fn authorize_page(
    State(state): State<AppState>,
    Query(p): Query<AuthorizeParams>,
) -> Result<Response, ApiError> {
    Ok(match check(&state, &p).await? {
        Err(resp) => resp,
        Ok(client) => render_sign_in(&state, &client, &p, None, StatusCode::OK),
    })
}

pub(super) async fn authorize_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Result<Response, ApiError> {
    let client = match check(&state, &f.params).await? {
        Err(resp) => return Ok(resp),
        Ok(c) => c,
    };
    if !CSRF.matches(&headers, &f.csrf) {
        return Ok(error_page(StatusCode::FORBIDDEN, FORM_EXPIRED));
    }
    let user = match oauth::sign_in(&state, &f.username, &f.password).await? {
        Ok(u) => u,
        Err(e) => {
            let (status, text) = refused_sign_in(&e);
            return Ok(render_sign_in(
                &state,
                &client,
                &f.params,
                Some(text),
                status,
            ));
        }
    };
    let challenge = (!f.params.code_challenge.is_empty()).then(|| f.params.code_challenge.clone());
    let code = oauth::issue_code(&state, &client, &user, challenge).await?;
    let sep = if client.redirect_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    let q: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("code", &code)
        .append_pair("state", &f.params.state)
        .finish();
    Ok(Redirect::to(&format!("{}{sep}{q}", client.redirect_uri)).into_response())
}

#[derive(Deserialize)]
pub(super) struct TokenForm {
    #[serde(default)]
    grant_type: String,
    code: Option<String>,
    redirect_uri: Option<String>,
    #[serde(default)]
    client_id: String,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
}

fn oauth_json(status: StatusCode, body: &impl serde::Serialize) -> Response {
    let mut resp = (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_vec(body).unwrap_or_default(),
    )
        .into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

pub(super) async fn token(
    State(state): State<AppState>,
    Form(f): Form<TokenForm>,
) -> Result<Response, ApiError> {
    if state.meta.oauth_client(&f.client_id).await?.is_none() {
        return Ok(oauth_json(
            StatusCode::UNAUTHORIZED,
            &OAuthError::new("invalid_client", "unknown client_id"),
        ));
    }
    let result = match (f.grant_type.as_str(), &f.code, &f.refresh_token) {
        ("authorization_code", Some(code), _) => {
            oauth::exchange_code(
                &state,
                code,
                &f.client_id,
                f.redirect_uri.as_deref(),
                f.code_verifier.as_deref(),
            )
            .await?
        }
        ("refresh_token", _, Some(rt)) => oauth::refresh(&state, rt, &f.client_id).await?,
        ("authorization_code" | "refresh_token", _, _) => Err(OAuthError::new(
            "invalid_request",
            "a required parameter is missing",
        )),
        _ => Err(OAuthError::new(
            "unsupported_grant_type",
            "only authorization_code and refresh_token",
        )),
    };
    Ok(match result {
        Ok(t) => oauth_json(StatusCode::OK, &t),
        Err(e) => oauth_json(StatusCode::BAD_REQUEST, &e),
    })
}
