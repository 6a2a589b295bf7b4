//! The `/oidc/...` routes: sign-in through an OpenID Connect provider, for the web UI
//! (`/oidc/NAME/start`) and for the bootstrapper's OAuth 2.0 sign-in of native clients
//! (`/oidc/NAME/authorize`, with the parameters of the `/oauth2/authorize` request); both come
//! back to `/oidc/NAME/callback`. The logic is in `auth::oidc`.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::auth::oauth;
use crate::auth::oidc::{self, Flow, OidcError};
use crate::authorize::AuthorizeParams;
use crate::page::{ClientAddr, message};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/oidc/{name}/start", get(start_web))
        .route("/oidc/{name}/authorize", get(start_oauth))
        .route("/oidc/{name}/callback", get(callback))
}

fn to_flow(p: &AuthorizeParams) -> Flow {
    Flow::OAuth {
        client_id: p.client_id.clone(),
        redirect_uri: p.redirect_uri.clone(),
        state: p.state.clone(),
        code_challenge: p.code_challenge.clone(),
        code_challenge_method: p.code_challenge_method.clone(),
    }
}

fn from_flow(f: &Flow) -> AuthorizeParams {
    match f {
        Flow::OAuth {
            client_id,
            redirect_uri,
            state,
            code_challenge,
            code_challenge_method,
        } => AuthorizeParams {
            response_type: Some("code".into()),
            client_id: client_id.clone(),
            redirect_uri: redirect_uri.clone(),
            state: state.clone(),
            code_challenge: code_challenge.clone(),
            code_challenge_method: code_challenge_method.clone(),
        },
        Flow::Web { .. } => AuthorizeParams::default(),
    }
}

fn pending_cookie(state: &AppState, value: &str, max_age: i64) -> String {
    let secure = if state.base.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    // Lax: the provider sends the browser back with a top-level GET from its own site.
    format!(
        "{}={value}; Path=/oidc; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        oidc::COOKIE
    )
}

fn with_cookie(mut resp: Response, cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

fn redirect(to: &str) -> Response {
    match HeaderValue::from_str(to) {
        Ok(v) => (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, v),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response(),
        Err(_) => message(
            StatusCode::BAD_GATEWAY,
            "The sign-in provider's address is not usable.",
        ),
    }
}

/// The page of a failed sign-in. Details go to the log, not to the browser.
fn failure(e: OidcError) -> Response {
    let (status, text) = match e {
        OidcError::UnknownProvider => (StatusCode::NOT_FOUND, "No such sign-in provider."),
        OidcError::BadPending => (
            StatusCode::BAD_REQUEST,
            "The sign-in expired or did not start in this browser. Start again.",
        ),
        OidcError::Provider(_) => (
            StatusCode::BAD_GATEWAY,
            "The sign-in provider could not be reached. Try again later.",
        ),
        OidcError::Refused(_) => (
            StatusCode::FORBIDDEN,
            "The sign-in provider did not confirm the sign-in. Start again.",
        ),
        OidcError::BadIdToken(_) => (
            StatusCode::FORBIDDEN,
            "The sign-in provider's answer could not be verified.",
        ),
        OidcError::NotAllowed => (
            StatusCode::FORBIDDEN,
            "Your account is not in a group allowed to use this service.",
        ),
        OidcError::NoUserName => (
            StatusCode::FORBIDDEN,
            "The sign-in provider gave no user name for your account.",
        ),
        OidcError::RateLimited => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed attempts; try again later.",
        ),
        OidcError::Api(e) => return e.into_response(),
    };
    tracing::warn!(error = %e, "OpenID Connect sign-in failed");
    message(status, text)
}

async fn begin(state: &AppState, name: &str, flow: Flow) -> Response {
    let Some(p) = oidc::provider(state, name) else {
        return failure(OidcError::UnknownProvider);
    };
    match oidc::start(state, p, flow).await {
        Ok((url, sealed)) => with_cookie(
            redirect(&url),
            &pending_cookie(state, &sealed, oidc::PENDING_TTL_MS / 1000),
        ),
        Err(e) => failure(e),
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct Next {
    #[serde(default)]
    next: String,
}

async fn start_web(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<Next>,
) -> Response {
    let next = super::signin::safe_next(&q.next).to_owned();
    begin(&state, &name, Flow::Web { next }).await
}

async fn start_oauth(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(p): Query<AuthorizeParams>,
) -> Result<Response, crate::error::ApiError> {
    // The same checks as `/oauth2/authorize` before anything else: a known client, its exact
    // redirect URI, a well-formed request.
    if let Err(resp) = crate::authorize::check(&state, &p).await? {
        return Ok(resp);
    }
    Ok(begin(&state, &name, to_flow(&p)).await)
}

#[derive(Deserialize, Default)]
pub(crate) struct CallbackQuery {
    #[serde(default)]
    code: String,
    #[serde(default)]
    state: String,
    error: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, crate::error::ApiError> {
    // Whatever happens, the sign-in in progress is over.
    let clear = pending_cookie(&state, "", 0);
    let Some(p) = oidc::provider(&state, &name) else {
        return Ok(with_cookie(failure(OidcError::UnknownProvider), &clear));
    };
    let pending =
        super::session::cookie_value(&headers, oidc::COOKIE).and_then(|v| oidc::open(&state, &v));
    let Some(pending) = pending else {
        return Ok(with_cookie(failure(OidcError::BadPending), &clear));
    };
    if let Some(e) = q.error {
        // A native client learns that the sign-in ended (RFC 6749 §4.1.2.1), once the provider's
        // answer is known to belong to its request.
        if let Flow::OAuth { .. } = &pending.flow
            && crate::auth::tokens::same(&pending.state, &q.state)
        {
            let params = from_flow(&pending.flow);
            if let Ok(client) = crate::authorize::check(&state, &params).await? {
                tracing::warn!(error = %e, "the OpenID Connect provider refused a native sign-in");
                return Ok(with_cookie(
                    crate::authorize::redirect_to_client(
                        &client.redirect_uri,
                        &[("error", "access_denied")],
                        &params.state,
                    ),
                    &clear,
                ));
            }
        }
        return Ok(with_cookie(failure(OidcError::Refused(e)), &clear));
    }
    if q.code.is_empty() {
        return Ok(with_cookie(failure(OidcError::BadPending), &clear));
    }
    let user = match oidc::finish(&state, p, &pending, &q.state, &q.code, addr).await {
        Ok(u) => u,
        Err(e) => return Ok(with_cookie(failure(e), &clear)),
    };
    let resp = match pending.flow {
        Flow::Web { next } => {
            let session = super::session::start(&state, &user).await?;
            with_cookie(redirect(super::signin::safe_next(&next)), &session)
        }
        Flow::OAuth { .. } => {
            let params = from_flow(&pending.flow);
            let client = match crate::authorize::check(&state, &params).await? {
                Ok(c) => c,
                Err(resp) => return Ok(with_cookie(resp, &clear)),
            };
            let challenge =
                (!params.code_challenge.is_empty()).then(|| params.code_challenge.clone());
            let code = oauth::issue_code(
                &state,
                &client,
                &user,
                crate::authorize::redirect_uri(&params),
                challenge,
            )
            .await?;
            crate::authorize::redirect_to_client(
                &client.redirect_uri,
                &[("code", &code)],
                &params.state,
            )
        }
    };
    Ok(with_cookie(resp, &clear))
}
