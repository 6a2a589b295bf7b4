//! The OAuth 2.0 authorization server of the bootstrapper: authorization code grant (RFC 6749)
//! with PKCE S256 (RFC 7636) and rotating refresh tokens. HTTP lives in `http::oauth`; this is
//! the logic.

use base64::Engine as _;
use rand::RngCore as _;
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use std::net::IpAddr;
use subtle::ConstantTimeEq as _;

use wopid_store::{AuthCode, OAuthClient, ResourceKind, Rotation, TokenRecord, User};

use super::issue::Purpose;
use super::password;
use crate::error::ApiError;
use crate::state::AppState;

/// Authorization codes live this long.
pub const CODE_TTL_MS: i64 = 60_000;
/// Failed sign-ins of one name within the window before sign-in is refused for a while (for one
/// client address, `sign_in_max_failures_per_address`).
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

/// The throttling key of a client address: the address, or its /64 for IPv6 (one host usually
/// holds a whole /64).
pub(crate) fn address_key(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(a) => format!("addr:{a}"),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => format!("addr:{v4}"),
            None => {
                let s = a.segments();
                format!("addr:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// Checks a user name and password, refusing for a while after repeated failures of the name or
/// from the client's address. The attempt is counted as failed before the password is checked,
/// in one atomic step of the store, and taken back if it succeeds: parallel guesses cannot get
/// more than the limit checked, whichever node they reach.
pub async fn sign_in(
    state: &AppState,
    login: &str,
    pw: &str,
    addr: Option<IpAddr>,
) -> Result<Result<User, SignInError>, ApiError> {
    let now = state.now_ms();
    let since = now - FAILURE_WINDOW_MS;
    // Names are keyed by their hash: any length or content makes a short key.
    let name_key = format!("name:{}", hex::encode(sha(login)));
    let addr_key = addr.map(address_key);
    let mut keys = vec![(name_key.as_str(), MAX_FAILURES)];
    if let Some(a) = &addr_key {
        keys.push((a.as_str(), state.config.sign_in_max_failures_per_address));
    }
    if !state.meta.reserve_sign_in(&keys, now, since).await? {
        return Ok(Err(SignInError::RateLimited));
    }
    let user = state.meta.user_by_login(login).await?;
    let hash = match &user {
        Some(u) => state.meta.password_hash(&u.id).await?,
        None => None,
    };
    let ok = password::verify_off_workers(&state.hashing, pw, hash).await;
    match user {
        // A disabled user's right password still counts as a failure and opens nothing.
        Some(u) if ok && !u.disabled => {
            let names: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
            state.meta.release_sign_in(&names, now).await?;
            Ok(Ok(u))
        }
        _ => Ok(Err(SignInError::Invalid)),
    }
}

/// Whether a `code_challenge` can be an S256 challenge: BASE64URL of 32 bytes, 43 characters.
pub fn valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A single-use authorization code for a signed-in user. `redirect_uri` is the one the
/// authorization request named, if it named one (then the token request must name it too).
pub async fn issue_code(
    state: &AppState,
    client: &OAuthClient,
    user: &User,
    redirect_uri: Option<&str>,
    challenge: Option<String>,
) -> Result<String, ApiError> {
    let code = random_b64();
    state
        .meta
        .insert_auth_code(&AuthCode {
            hash: sha(&code),
            client_id: client.id.clone(),
            user_id: user.id.clone(),
            redirect_uri: redirect_uri.unwrap_or_default().to_owned(),
            code_challenge: challenge,
            expires_ms: state.now_ms() + CODE_TTL_MS,
            epoch: user.epoch,
        })
        .await?;
    Ok(code)
}

/// A fresh access and refresh token pair for `user_id`, not yet stored, in the credential
/// generation `epoch` of the sign-in they descend from.
fn token_pair(
    state: &AppState,
    client_id: &str,
    user_id: &str,
    epoch: i64,
) -> (TokenResponse, [TokenRecord; 2]) {
    let now = state.now_ms();
    let access = random_b64();
    let refresh = random_b64();
    // Their permissions and lifetimes are the issuing policy's; they are stored together with
    // the rotation that makes them (see `Meta::rotate_refresh_token`).
    let record = |secret: &str, purpose: Purpose<'_>| {
        let t = purpose.terms(now, &state.config);
        TokenRecord {
            hash: sha(secret),
            user_id: user_id.to_owned(),
            kind: t.kind,
            resource_id: t.id.to_owned(),
            perms: t.perms.bits(),
            expires_ms: t.expires_ms,
            revoked: false,
            client: t.client.map(str::to_owned),
            epoch,
            link: None,
        }
    };
    let client = client_id;
    let records = [
        record(&access, Purpose::OAuthAccess { client, epoch }),
        record(&refresh, Purpose::OAuthRefresh { client, epoch }),
    ];
    let response = TokenResponse {
        access_token: access,
        token_type: "bearer",
        expires_in: i64::try_from(state.config.access_token_ttl.as_secs()).unwrap_or(i64::MAX),
        refresh_token: refresh,
    };
    (response, records)
}

fn bad_code() -> OAuthError {
    OAuthError::new("invalid_grant", "unknown, used or expired code")
}

/// The authorization_code grant. A code presented again revokes every token issued from it
/// (RFC 6749 §4.1.2).
pub async fn exchange_code(
    state: &AppState,
    code: &str,
    client: &OAuthClient,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
) -> Result<Result<TokenResponse, OAuthError>, ApiError> {
    let family = sha(code);
    let Some(c) = state.meta.take_auth_code(&family).await? else {
        let revoked = state.meta.revoke_token_family(&family).await?;
        if revoked > 0 {
            tracing::warn!(
                client = %client.id,
                revoked,
                "an authorization code was used twice; its tokens are revoked"
            );
        }
        return Ok(Err(bad_code()));
    };
    if c.expires_ms <= state.now_ms() {
        return Ok(Err(bad_code()));
    }
    if c.client_id != client.id {
        return Ok(Err(OAuthError::new(
            "invalid_grant",
            "code was issued to another client",
        )));
    }
    // RFC 6749 §4.1.3: required if the authorization request included it, and then identical.
    let redirect_ok = if c.redirect_uri.is_empty() {
        redirect_uri.is_none_or(|r| r == client.redirect_uri)
    } else {
        redirect_uri == Some(c.redirect_uri.as_str())
    };
    if !redirect_ok {
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
    let (response, records) = token_pair(state, &client.id, &c.user_id, c.epoch);
    if !state.meta.insert_family_tokens(&family, &records).await? {
        // The code was presented again meanwhile: nothing is issued.
        return Ok(Err(bad_code()));
    }
    Ok(Ok(response))
}

/// The client a refresh token was issued to, for a public client that does not name itself.
pub async fn refresh_client(
    state: &AppState,
    refresh_token: &str,
) -> Result<Option<String>, ApiError> {
    if refresh_token.is_empty() || refresh_token.len() > 512 {
        return Ok(None);
    }
    Ok(state
        .meta
        .token(&sha(refresh_token))
        .await?
        .filter(|t| t.kind == ResourceKind::Refresh)
        .map(|t| t.resource_id))
}

/// The refresh_token grant: the old refresh token is revoked and a new pair issued, atomically;
/// a refresh token presented again revokes its whole family (RFC 6749 §10.4).
pub async fn refresh(
    state: &AppState,
    refresh_token: &str,
    client_id: &str,
) -> Result<Result<TokenResponse, OAuthError>, ApiError> {
    let invalid = OAuthError::new("invalid_grant", "unknown, revoked or expired refresh token");
    if refresh_token.is_empty() || refresh_token.len() > 512 {
        return Ok(Err(invalid));
    }
    let old = sha(refresh_token);
    let Some(rec) = state.meta.token(&old).await? else {
        return Ok(Err(invalid));
    };
    let same_client: bool = rec
        .resource_id
        .as_bytes()
        .ct_eq(client_id.as_bytes())
        .into();
    if rec.kind != ResourceKind::Refresh || !same_client {
        return Ok(Err(invalid));
    }
    // A refresh token of a generation that a revocation or a new password voided is dead.
    if rec.epoch
        < state
            .meta
            .token_floor(&rec.user_id, &rec.resource_id)
            .await?
    {
        return Ok(Err(invalid));
    }
    let (response, records) = token_pair(state, client_id, &rec.user_id, rec.epoch);
    match state
        .meta
        .rotate_refresh_token(&old, state.now_ms(), &records)
        .await?
    {
        Rotation::Rotated => Ok(Ok(response)),
        Rotation::Reused => {
            tracing::warn!(
                client = %client_id,
                "a refresh token was used twice; its family is revoked"
            );
            Ok(Err(invalid))
        }
        Rotation::Invalid => Ok(Err(invalid)),
    }
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
