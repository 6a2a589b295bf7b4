//! HTML pages shared by the web UI (`web`) and the OAuth authorization page (`http::oauth`): the
//! one helper that sends a page with its security headers, the message page, and what both
//! sign-in forms share (the double-submit CSRF cookie and the answers to a failed sign-in).

use std::net::{IpAddr, SocketAddr};

use askama::Template;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::auth::oauth::SignInError;
use crate::state::AppState;

/// The content security policy of the web UI's pages (their stylesheet is an asset).
pub const SITE_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/// The content security policy of a self-contained page (inline style, no assets).
pub const STANDALONE_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'";

/// A rendered page with the headers every page carries: never cached, never framed, its type
/// fixed, and `csp`.
pub fn send(status: StatusCode, body: String, csp: &'static str) -> Response {
    let mut resp = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response();
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    resp
}

/// A page of the web UI.
pub fn html(status: StatusCode, rendered: askama::Result<String>) -> Response {
    match rendered {
        Ok(body) => send(status, body, SITE_CSP),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the page could not be rendered",
        )
            .into_response(),
    }
}

/// A small page with one message, its title named after the status, and a way back; with the
/// signed-in user's name and Sign out in the header when `user` is known.
#[derive(Template)]
#[template(path = "message.html")]
struct Message<'a> {
    title: &'a str,
    text: &'a str,
    error: bool,
    user: Option<&'a str>,
    csrf: &'a str,
}

/// What a message page said, kept on its response so the web UI can render it again with the
/// signed-in user's header (`with_user`).
#[derive(Debug, Clone)]
pub struct MessageParts {
    title: &'static str,
    text: String,
    error: bool,
}

/// The message page again, with the user's name and Sign out in its header.
pub fn with_user(resp: Response, user: &str, csrf: &str) -> Response {
    let Some(m) = resp.extensions().get::<MessageParts>().cloned() else {
        return resp;
    };
    let page = Message {
        title: m.title,
        text: &m.text,
        error: m.error,
        user: Some(user),
        csrf,
    };
    let Ok(body) = page.render() else {
        return resp;
    };
    let (mut parts, _) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
}

pub fn message(status: StatusCode, text: &str) -> Response {
    let title = match status.as_u16() {
        200..=399 => "Done",
        400 => "That did not work",
        401 | 403 => "Not allowed",
        404 => "Not found",
        409 => "Conflict",
        413 => "Too large",
        429 => "Too many attempts",
        503 => "Not available",
        _ => "Something went wrong",
    };
    let error = status.as_u16() >= 400;
    let page = Message {
        title,
        text,
        error,
        user: None,
        csrf: "",
    };
    let mut resp = html(status, page.render());
    resp.extensions_mut().insert(MessageParts {
        title,
        text: text.to_owned(),
        error,
    });
    resp
}

/// What a sign-in form that did not come from this site (or expired) is told.
pub const FORM_EXPIRED: &str =
    "The form expired or did not come from this site. Go back and try again.";

/// The status and text of a refused sign-in.
pub fn refused_sign_in(e: &SignInError) -> (StatusCode, &'static str) {
    match e {
        SignInError::Invalid => (StatusCode::UNAUTHORIZED, "Wrong user name or password."),
        SignInError::RateLimited => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed attempts; try again later.",
        ),
    }
}

/// The double-submit CSRF cookie of a sign-in form: a random value in a `SameSite=Strict`
/// cookie scoped to the form's path and in the form, compared in constant time.
pub struct FormCookie {
    pub name: &'static str,
    pub path: &'static str,
}

impl FormCookie {
    /// A new value and its `Set-Cookie` header value.
    pub fn issue(&self, state: &AppState) -> (String, String) {
        let value = crate::auth::tokens::random_token();
        let secure = if state.base.starts_with("https://") {
            "; Secure"
        } else {
            ""
        };
        let cookie = format!(
            "{}={value}; Path={}; HttpOnly; SameSite=Strict{secure}",
            self.name, self.path
        );
        (value, cookie)
    }

    /// Whether the form's value is the cookie's.
    pub fn matches(&self, headers: &HeaderMap, presented: &str) -> bool {
        let cookie = crate::auth::cookie::cookie_value(headers, self.name).unwrap_or_default();
        !cookie.is_empty() && crate::auth::tokens::same(&cookie, presented)
    }
}

/// Sets a cookie on a response.
pub fn with_cookie(mut resp: Response, cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// The client's address, for throttling sign-ins: the connection's peer, or with
/// `trust_forwarded_headers` the last hop of `X-Forwarded-For` (the one the proxy appended).
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.config.trust_forwarded_headers {
            // Only the last entry: everything before it came from the client, unchecked.
            let forwarded = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .next_back()
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|a| a.trim().parse::<IpAddr>().ok());
            if forwarded.is_some() {
                return Ok(Self(forwarded));
            }
        }
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// A provider's button on a sign-in page.
#[derive(Debug, Clone)]
pub struct ProviderLink {
    pub href: String,
    pub label: String,
}

pub fn label(p: &crate::config::OidcConfig) -> String {
    p.label
        .clone()
        .unwrap_or_else(|| format!("Sign in with {}", p.name))
}

/// The providers' buttons of the web UI's sign-in page.
pub fn web_links(state: &AppState, next: &str) -> Vec<ProviderLink> {
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("next", next)
        .finish();
    state
        .config
        .oidc
        .iter()
        .map(|p| ProviderLink {
            href: format!("/oidc/{}/start?{q}", p.name),
            label: label(p),
        })
        .collect()
}
