//! `/wopibootstrapper`: the OAuth 2.0 entry point of native clients. Bootstrap, and the
//! GetNewAccessToken, GetRootContainer and GetFileWopiSrc shortcuts.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use wopid_proto::containers::{AccessTokenInfo, BootstrapResponse, UrlBody};
use wopid_proto::request::BootstrapOp;
use wopid_store::ResourceKind;

use super::headers::Hdrs;
use crate::auth::tokens;
use crate::error::ApiError;
use crate::ops;
use crate::respond::json;
use crate::state::AppState;

/// The OAuth token: `Authorization: Bearer <t>`, also in the documented `Bearer: <t>` form.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = v.split_at(v.find([' ', ':']).unwrap_or(v.len()));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let t = rest.trim_start_matches(':').trim();
    (!t.is_empty()).then_some(t)
}

/// 401 with exactly one `Bearer` challenge naming the authorization and token endpoints.
fn challenge(state: &AppState) -> Response {
    let mut value = format!(
        "Bearer authorization_uri=\"{}/oauth2/authorize\",tokenIssuance_uri=\"{}/oauth2/token\"",
        state.base, state.base
    );
    if let Some(p) = state
        .config
        .oauth_provider_id
        .as_ref()
        .filter(|p| p.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        value.push_str(&format!(",providerId=\"{p}\""));
    }
    let mut resp = (
        StatusCode::UNAUTHORIZED,
        "a valid OAuth 2.0 access token is required",
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    // Like every other WOPI error.
    resp.headers_mut().insert(
        wopid_proto::wopi_header::SERVER_ERROR,
        HeaderValue::from_static("a valid OAuth 2.0 access token is required"),
    );
    resp
}

pub(super) async fn handle(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(token) = bearer(&headers) else {
        return Ok(challenge(&state));
    };
    let Ok(grant) = tokens::verify_kind(&state, token, ResourceKind::OAuth).await else {
        return Ok(challenge(&state));
    };
    let Some(user) = state.meta.user(&grant.user_id).await? else {
        return Ok(challenge(&state));
    };
    let op = BootstrapOp::parse(&Hdrs(&headers));
    tracing::Span::current().record("op", op.label());
    // What the OAuth token stands for: the user's ecosystem, with a fresh lifetime (primary
    // authentication), in the token's credential generation.
    let primary = crate::auth::Grant {
        user_id: user.id.clone(),
        kind: ResourceKind::Ecosystem,
        resource_id: user.id.clone(),
        perms: crate::auth::Perms::READ_WRITE,
        expires_ms: crate::auth::issue::fresh_expiry(&state),
        client: None,
        epoch: grant.epoch,
        link: None,
        token_ref: String::new(),
    };
    let bootstrap = ops::ecosystem::bootstrap(&state, &user, &primary).await?;
    let mut body = BootstrapResponse {
        bootstrap,
        access_token_info: None,
        root_container_info: None,
        wopi_src_info: None,
    };
    match op {
        BootstrapOp::GetNewAccessToken { wopi_src } => {
            let src = wopi_src?;
            let (access_token, access_token_expiry) =
                ops::ecosystem::new_access_token(&state, &primary, &src).await?;
            body.access_token_info = Some(AccessTokenInfo {
                access_token,
                access_token_expiry,
            });
        }
        BootstrapOp::GetRootContainer => {
            body.root_container_info =
                Some(ops::ecosystem::root_container(&state, &primary).await?);
        }
        BootstrapOp::GetFileWopiSrc {
            host_native_file_name,
        } => {
            let ident = host_native_file_name?;
            let url = ops::ecosystem::file_wopi_src(&state, &primary, &ident).await?;
            body.wopi_src_info = Some(UrlBody { url });
        }
        // Bootstrap itself, and any operation wopid does not know: the Bootstrap response.
        BootstrapOp::Bootstrap | BootstrapOp::Other(_) => {}
    }
    Ok(json(StatusCode::OK, &[], &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_forms() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        for (v, want) in [
            ("Bearer abc", Some("abc")),
            ("Bearer: abc", Some("abc")),
            ("bearer abc", Some("abc")),
            ("Bearer ", None),
            ("Basic abc", None),
            ("Bearer:", None),
        ] {
            h.insert(header::AUTHORIZATION, HeaderValue::from_static(v));
            assert_eq!(bearer(&h), want, "{v}");
        }
    }
}
