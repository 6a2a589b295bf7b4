//! The OAuth 2.0 endpoints of the bootstrapper: `/oauth2/authorize` (sign-in page and its form)
//! and `/oauth2/token`. CSRF protection is a double-submit cookie: a random value in a
//! `SameSite=Strict` cookie and in the form, compared in constant time.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Deserialize;

use crate::auth::oauth::{self, OAuthError};
use crate::authorize::{
    AuthorizeParams, check, error_page, page, redirect_to_client, redirect_uri,
};
use crate::error::ApiError;
use crate::page::{ClientAddr, FORM_EXPIRED, FormCookie, refused_sign_in};
use crate::state::AppState;

/// The sign-in form's CSRF cookie.
const CSRF: FormCookie = FormCookie {
    name: "wopid_csrf",
    path: "/oauth2",
};

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
    password: bool,
    providers: Vec<crate::page::ProviderLink>,
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
        redirect_uri: redirect_uri(p).unwrap_or_default(),
        state: &p.state,
        code_challenge: &p.code_challenge,
        code_challenge_method: &p.code_challenge_method,
        password: state.config.password_sign_in,
        providers: crate::authorize::oauth_links(state, p),
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
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Result<Response, ApiError> {
    let client = match check(&state, &f.params).await? {
        Err(resp) => return Ok(resp),
        Ok(c) => c,
    };
    if !state.config.password_sign_in {
        return Ok(error_page(
            StatusCode::FORBIDDEN,
            "Sign-in with a password is switched off here.",
        ));
    }
    if !CSRF.matches(&headers, &f.csrf) {
        return Ok(error_page(StatusCode::FORBIDDEN, FORM_EXPIRED));
    }
    let user = match oauth::sign_in(&state, &f.username, &f.password, addr).await? {
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
    let code =
        oauth::issue_code(&state, &client, &user, redirect_uri(&f.params), challenge).await?;
    Ok(redirect_to_client(
        &client.redirect_uri,
        &[("code", &code)],
        &f.params.state,
    ))
}

/// The parameters of a token request (RFC 6749 §4.1.3, §6).
#[derive(Default)]
struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    client_id: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
}

impl TokenForm {
    /// Parses an `application/x-www-form-urlencoded` body; a parameter given twice is an error
    /// (RFC 6749 §3.2), unknown ones are ignored.
    fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        let mut f = Self::default();
        for (k, v) in form_urlencoded::parse(body) {
            let slot = match k.as_ref() {
                "grant_type" => &mut f.grant_type,
                "code" => &mut f.code,
                "redirect_uri" => &mut f.redirect_uri,
                "client_id" => &mut f.client_id,
                "code_verifier" => &mut f.code_verifier,
                "refresh_token" => &mut f.refresh_token,
                _ => continue,
            };
            if slot.is_some() {
                return Err(OAuthError::new(
                    "invalid_request",
                    "a parameter is given more than once",
                ));
            }
            // Empty values count as omitted (RFC 6749 §3.1).
            *slot = Some(v.into_owned()).filter(|v| !v.is_empty());
        }
        Ok(f)
    }
}

/// HTTP Basic client credentials (RFC 6749 §2.3.1: each part form-urlencoded first).
fn basic_credentials(headers: &HeaderMap) -> Option<Result<(String, String), ()>> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decode = || {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .map_err(|_| ())?;
        let text = String::from_utf8(raw).map_err(|_| ())?;
        let (id, secret) = text.split_once(':').ok_or(())?;
        let unescape = |s: &str| {
            form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        Ok((unescape(id), unescape(secret)))
    };
    Some(decode())
}

/// 401 `invalid_client` with the Basic challenge RFC 6749 §5.2 asks for.
fn invalid_client(description: &'static str) -> Response {
    let mut resp = oauth_json(
        StatusCode::UNAUTHORIZED,
        &OAuthError::new("invalid_client", description),
    );
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"wopid\", charset=\"UTF-8\""),
    );
    resp
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

/// The client a token request is from. Public clients have no secret: they name themselves in
/// the body, or as HTTP Basic with an empty password (what requests-oauthlib and authlib send by
/// default). `Ok(Err(_))` is the answer to send instead.
async fn token_client(
    state: &AppState,
    headers: &HeaderMap,
    f: &TokenForm,
) -> Result<Result<String, Response>, ApiError> {
    let bad = |e: OAuthError| oauth_json(StatusCode::BAD_REQUEST, &e);
    Ok(Ok(
        match (basic_credentials(headers), f.client_id.as_deref()) {
            (Some(Err(())), _) => return Ok(Err(invalid_client("malformed Basic credentials"))),
            (Some(Ok((_, secret))), _) if !secret.is_empty() => {
                return Ok(Err(invalid_client("this client has no secret")));
            }
            (Some(Ok((id, _))), Some(body_id)) if id != body_id => {
                return Ok(Err(bad(OAuthError::new(
                    "invalid_request",
                    "two different client ids",
                ))));
            }
            (Some(Ok((id, _))), _) => id,
            (None, Some(id)) => id.to_owned(),
            // A public client refreshing may leave itself unnamed (requests-oauthlib does): the
            // refresh token says whose it is.
            (None, None) => match (f.grant_type.as_deref(), f.refresh_token.as_deref()) {
                (Some("refresh_token"), Some(rt)) => {
                    match oauth::refresh_client(state, rt).await? {
                        Some(id) => id,
                        None => {
                            return Ok(Err(bad(OAuthError::new(
                                "invalid_grant",
                                "unknown, revoked or expired refresh token",
                            ))));
                        }
                    }
                }
                _ => return Ok(Err(invalid_client("client_id is missing"))),
            },
        },
    ))
}

pub(super) async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let bad = |e: OAuthError| oauth_json(StatusCode::BAD_REQUEST, &e);
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Ok(bad(OAuthError::new(
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        )));
    }
    let f = match TokenForm::parse(&body) {
        Ok(f) => f,
        Err(e) => return Ok(bad(e)),
    };
    let client_id = match token_client(&state, &headers, &f).await? {
        Ok(id) => id,
        Err(resp) => return Ok(resp),
    };
    let Some(client) = state.meta.oauth_client(&client_id).await? else {
        return Ok(invalid_client("unknown client_id"));
    };
    let result = match (f.grant_type.as_deref(), &f.code, &f.refresh_token) {
        (None, _, _) => Err(OAuthError::new("invalid_request", "grant_type is missing")),
        (Some("authorization_code"), Some(code), _) => {
            oauth::exchange_code(
                &state,
                code,
                &client,
                f.redirect_uri.as_deref(),
                f.code_verifier.as_deref(),
            )
            .await?
        }
        (Some("refresh_token"), _, Some(rt)) => oauth::refresh(&state, rt, &client.id).await?,
        (Some("authorization_code" | "refresh_token"), _, _) => Err(OAuthError::new(
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
        Err(e) => bad(e),
    })
}
