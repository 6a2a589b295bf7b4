//! The web sign-in page and sign-out. The form and its CSRF cookie are shared with the OAuth
//! sign-in page (`crate::page`).

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::reach::{CsrfOnly, see_other};
use super::session::{self, SignedIn};
use crate::auth::oauth;
use crate::error::ApiError;
use crate::page::{
    ClientAddr, FORM_EXPIRED, FormCookie, html, message, refused_sign_in, with_cookie,
};
use crate::state::AppState;

/// The sign-in form's CSRF cookie.
const LOGIN_CSRF: FormCookie = FormCookie {
    name: "wopid_login_csrf",
    path: "/login",
};

#[derive(Template)]
#[template(path = "login.html")]
struct Login<'a> {
    error: Option<&'a str>,
    csrf: &'a str,
    next: &'a str,
    password: bool,
    providers: Vec<crate::page::ProviderLink>,
}

#[derive(Deserialize, Default)]
pub(crate) struct Next {
    #[serde(default)]
    next: String,
}

/// Only a path of this site: never an absolute or protocol-relative URL (no open redirect).
/// Browsers drop tabs and newlines from URLs and read `\\` as `/`, so `/<TAB>/evil.example` is
/// `//evil.example` to them: a `next` must be printable ASCII without spaces or backslashes,
/// start with one `/` and not a second one. Anything else means the home page.
pub(crate) fn safe_next(next: &str) -> &str {
    let printable = next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    if printable && next.starts_with('/') && !next.starts_with("//") {
        next
    } else {
        "/"
    }
}

fn login_page(state: &AppState, status: StatusCode, error: Option<&str>, next: &str) -> Response {
    let (csrf, cookie) = LOGIN_CSRF.issue(state);
    let page = Login {
        error,
        csrf: &csrf,
        next: safe_next(next),
        password: state.config.password_sign_in,
        providers: crate::page::web_links(state, safe_next(next)),
    };
    with_cookie(html(status, page.render()), &cookie)
}

pub(crate) async fn login_form(State(state): State<AppState>, Query(q): Query<Next>) -> Response {
    login_page(&state, StatusCode::OK, None, &q.next)
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub(crate) async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, ApiError> {
    if !LOGIN_CSRF.matches(&headers, &f.csrf) {
        return Ok(message(StatusCode::FORBIDDEN, FORM_EXPIRED));
    }
    if !state.config.password_sign_in {
        return Ok(message(
            StatusCode::FORBIDDEN,
            "Sign-in with a password is switched off here.",
        ));
    }
    // Where to go is settled before anything is created: the redirect cannot fail afterwards.
    let next = safe_next(&f.next);
    let user = match oauth::sign_in(&state, &f.username, &f.password, addr).await? {
        Ok(u) => u,
        Err(e) => {
            let (status, text) = refused_sign_in(&e);
            return Ok(login_page(&state, status, Some(text), &f.next));
        }
    };
    let cookie = session::start(&state, &user).await?;
    Ok(with_cookie(see_other(next), &cookie))
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    me: SignedIn,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, ApiError> {
    if let Err(r) = me.check_csrf(&f.csrf) {
        return Ok(r);
    }
    let cookie = session::end(&state, &headers).await?;
    Ok(with_cookie(see_other("/login"), &cookie))
}
