//! The OAuth 2.0 authorization server of the bootstrapper: authorization code grant (RFC 6749)
//! with PKCE S256 (RFC 7636) and rotating refresh tokens. HTTP lives in `http::oauth`; this is
//! the logic.

use base64::Engine as _;
use rand::RngCore as _;
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use wopid_store::{AuthCode, OAuthClient, ResourceKind, User};

use super::{Perms, password, tokens};
use crate::error::ApiError;
use crate::state::AppState;

/// Authorization codes live this long.
pub const CODE_TTL_MS: i64 = 60_000;
/// Refresh tokens live this long.
pub const REFRESH_TTL_MS: i64 = 30 * 24 * 3_600_000;
/// Failed sign-ins of one name within the window before sign-in is refused for a while.
pub const MAX_FAILURES: u64 = 5;
pub const FAILURE_WINDOW_MS: i64 = 15 * 60_000;

/// An RFC 6749 §5.2 error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OAuthError {
    pub error: &'static str,
    pub error_description: &'static str,
}

impl OAuthError {
    pub fn new(error: &'static str, error_description: &'static str) -> Self {
        Self {
            error,
            error_description,
        }
    }
}

/// The token endpoint's answer.
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
}

fn random_b64() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn sha(s: &str) -> Vec<u8> {
    Sha256::digest(s.as_bytes()).to_vec()
}

/// RFC 7636 S256: BASE64URL(SHA256(verifier)) == challenge.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let valid = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    valid && bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
}

/// The client of an authorization request, if `redirect_uri` is exactly the registered one.
pub async fn client_for(
    state: &AppState,
    client_id: &str,
    redirect_uri: Option<&str>,
) -> Result<Option<OAuthClient>, ApiError> {
    let Some(client) = state.meta.oauth_client(client_id).await? else {
        return Ok(None);
    };
    match redirect_uri {
        Some(r) if r != client.redirect_uri => Ok(None),
        _ => Ok(Some(client)),
    }
}

/// Why a sign-in failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInError {
    Invalid,
    RateLimited,
}

/// Checks a user name and password, refusing for a while after repeated failures.
pub async fn sign_in(
    state: &AppState,
    login: &str,
    pw: &str,
) -> Result<Result<User, SignInError>, ApiError> {
    let now = state.now_ms();
    let since = now - FAILURE_WINDOW_MS;
    if state.meta.sign_in_failures(login, since).await? >= MAX_FAILURES {
        return Ok(Err(SignInError::RateLimited));
    }
    let user = state.meta.user_by_login(login).await?;
    let hash = match &user {
        Some(u) => state.meta.password_hash(&u.id).await?,
        None => None,
    };
    let ok = match &hash {
        Some(h) => password::verify(pw, h),
        None => {
            password::dummy_verify(pw);
            false
        }
    };
    match user {
        Some(u) if ok => Ok(Ok(u)),
        _ => {
            state.meta.record_sign_in_failure(login, now, since).await?;
            Ok(Err(SignInError::Invalid))
        }
    }
}

/// A single-use authorization code for a signed-in user.
pub async fn issue_code(
    state: &AppState,
    client: &OAuthClient,
    user: &User,
    challenge: Option<String>,
) -> Result<String, ApiError> {
    let code = random_b64();
    state
        .meta
        .insert_auth_code(&AuthCode {
            hash: sha(&code),
            client_id: client.id.clone(),
            user_id: user.id.clone(),
            redirect_uri: client.redirect_uri.clone(),
            code_challenge: challenge,
            expires_ms: state.now_ms() + CODE_TTL_MS,
            epoch: user.epoch,
        })
        .await?;
    Ok(code)
}

/// An access and a refresh token in the credential generation `epoch` of the sign-in they
/// descend from.
async fn token_pair(
    state: &AppState,
    client_id: &str,
    user_id: &str,
    epoch: i64,
) -> Result<TokenResponse, ApiError> {
    let ttl = i64::try_from(state.config.access_token_ttl.as_millis()).unwrap_or(i64::MAX);
    let now = state.now_ms();
    let mint = |kind, expires_ms| tokens::Mint {
        user_id,
        kind,
        resource_id: client_id,
        perms: Perms::READ_WRITE,
        expires_ms,
        client: None,
        epoch,
        link: None,
    };
    let access = tokens::mint(state, mint(ResourceKind::OAuth, now.saturating_add(ttl))).await?;
    let refresh = tokens::mint(state, mint(ResourceKind::Refresh, now + REFRESH_TTL_MS)).await?;
    Ok(TokenResponse {
        access_token: access.expose().to_owned(),
        token_type: "bearer",
        expires_in: ttl / 1000,
        refresh_token: refresh.expose().to_owned(),
    })
}

/// The authorization_code grant.
pub async fn exchange_code(
    state: &AppState,
    code: &str,
    client_id: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
) -> Result<Result<TokenResponse, OAuthError>, ApiError> {
    let Some(c) = state.meta.take_auth_code(&sha(code)).await? else {
        return Ok(Err(OAuthError::new(
            "invalid_grant",
            "unknown, used or expired code",
        )));
    };
    if c.expires_ms <= state.now_ms() {
        return Ok(Err(OAuthError::new(
            "invalid_grant",
            "unknown, used or expired code",
        )));
    }
    if c.client_id != client_id {
        return Ok(Err(OAuthError::new(
            "invalid_grant",
            "code was issued to another client",
        )));
    }
    if redirect_uri != Some(c.redirect_uri.as_str()) {
        return Ok(Err(OAuthError::new(
            "invalid_grant",
            "redirect_uri does not match the authorization request",
        )));
    }
    match (&c.code_challenge, verifier) {
        (Some(ch), Some(v)) if pkce_matches(v, ch) => {}
        (Some(_), _) => {
            return Ok(Err(OAuthError::new(
                "invalid_grant",
                "PKCE code_verifier does not match",
            )));
        }
        (None, Some(_)) => {
            return Ok(Err(OAuthError::new(
                "invalid_request",
                "code_verifier without a code_challenge",
            )));
        }
        (None, None) => {}
    }
    Ok(Ok(token_pair(state, client_id, &c.user_id, c.epoch).await?))
}

/// The refresh_token grant: the old refresh token is revoked, a new pair issued.
pub async fn refresh(
    state: &AppState,
    refresh_token: &str,
    client_id: &str,
) -> Result<Result<TokenResponse, OAuthError>, ApiError> {
    let grant = match tokens::verify(state, refresh_token, ResourceKind::Refresh, client_id).await {
        Ok(g) => g,
        Err(_) => {
            return Ok(Err(OAuthError::new(
                "invalid_grant",
                "unknown, revoked or expired refresh token",
            )));
        }
    };
    tokens::revoke(state, refresh_token).await?;
    Ok(Ok(token_pair(
        state,
        client_id,
        &grant.user_id,
        grant.epoch,
    )
    .await?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn pkce_rfc7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(super::pkce_matches(
            verifier,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!super::pkce_matches(
            verifier,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"
        ));
        assert!(!super::pkce_matches("short", "x"));
    }
}
