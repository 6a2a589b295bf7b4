//! Sign-in through an organisation's OpenID Connect provider (the `[[oidc]]` configuration):
//! the authorization code flow with PKCE S256 and a nonce, done by the `openidconnect` crate
//! (discovery, JWKS, ID-token validation: signature, issuer, audience, expiry, nonce). HTTP lives
//! in `web::oidc`; this is the logic.
//!
//! What a sign-in in progress needs to remember (provider, `state`, nonce, PKCE verifier, where
//! to go afterwards) travels in a cookie sealed with the server's URL signing key, so any node
//! can finish a sign-in another one started. People are found again by the provider's issuer and
//! `sub`, never by name; a first sign-in creates the user from the ID token's claims.

use std::collections::HashMap;
use std::net::IpAddr;

use base64::Engine as _;
use hmac::Mac as _;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse,
    StandardTokenResponse, TokenResponse as _,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use wopid_store::{NewUser, User};

use crate::config::OidcConfig;
use crate::error::ApiError;
use crate::state::AppState;

/// A sign-in must come back from the provider within this long.
pub const PENDING_TTL_MS: i64 = 10 * 60_000;
/// The cookie that carries a sign-in in progress.
pub const COOKIE: &str = "wopid_oidc";

/// The claims of an ID token beyond the standard ones (the groups claim among them).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ExtraClaims {
    #[serde(flatten)]
    pub rest: HashMap<String, serde_json::Value>,
}

impl AdditionalClaims for ExtraClaims {}

type IdFields = IdTokenFields<
    ExtraClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type OidcTokenResponse = StandardTokenResponse<IdFields, CoreTokenType>;
type OidcClient = openidconnect::Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    OidcTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Where a sign-in goes once the provider has vouched for the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "to", rename_all = "lowercase")]
pub enum Flow {
    /// The web UI: a session, then this path of the site.
    Web { next: String },
    /// The bootstrapper's OAuth 2.0 authorization request of a native client: wopid's own code.
    OAuth {
        client_id: String,
        redirect_uri: Option<String>,
        state: String,
        code_challenge: String,
        code_challenge_method: String,
    },
}

/// A sign-in in progress, sealed into the [`COOKIE`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub provider: String,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    pub expires_ms: i64,
    pub flow: Flow,
}

/// Why a sign-in through a provider failed; each has its own page.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("no such sign-in provider")]
    UnknownProvider,
    #[error("the sign-in expired or did not start here")]
    BadPending,
    #[error("the provider could not be reached or described itself wrongly: {0}")]
    Provider(String),
    #[error("the provider did not sign the user in: {0}")]
    Refused(String),
    #[error("the provider's ID token was not accepted: {0}")]
    BadIdToken(String),
    #[error("the user is in none of the allowed groups")]
    NotAllowed,
    #[error("the ID token names no usable user name")]
    NoUserName,
    #[error("too many failed sign-ins")]
    RateLimited,
    #[error(transparent)]
    Api(#[from] ApiError),
}

pub fn provider<'a>(state: &'a AppState, name: &str) -> Option<&'a OidcConfig> {
    state.config.oidc.iter().find(|p| p.name == name)
}

pub fn redirect_url(state: &AppState, p: &OidcConfig) -> String {
    format!("{}/oidc/{}/callback", state.base, p.name)
}

/// The HTTP client for the provider: no redirects followed (the OpenID Connect discovery and
/// token endpoints answer directly), bounded in time.
fn http_client() -> Result<reqwest::Client, OidcError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(15))
        .build()
        .map_err(|e| OidcError::Provider(e.to_string()))
}

async fn client(
    state: &AppState,
    p: &OidcConfig,
    http: &reqwest::Client,
) -> Result<OidcClient, OidcError> {
    let issuer =
        IssuerUrl::new(p.issuer.clone()).map_err(|e| OidcError::Provider(e.to_string()))?;
    // Discovery checks that the document names this very issuer.
    let meta = CoreProviderMetadata::discover_async(issuer, http)
        .await
        .map_err(|e| OidcError::Provider(error_chain(&e)))?;
    let redirect =
        RedirectUrl::new(redirect_url(state, p)).map_err(|e| OidcError::Provider(e.to_string()))?;
    Ok(OidcClient::from_provider_metadata(
        meta,
        ClientId::new(p.client_id.clone()),
        p.client_secret
            .as_ref()
            .map(|s| ClientSecret::new(s.expose().to_owned())),
    )
    .set_redirect_uri(redirect))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

fn mac(state: &AppState, payload: &[u8]) -> hmac::Hmac<Sha256> {
    let mut m = state.url_key.mac();
    // A domain of its own: never mistaken for a download or avatar signature.
    m.update(b"oidc-pending\n");
    m.update(payload);
    m
}

/// Seals a sign-in in progress into a cookie value: BASE64URL(JSON) "." BASE64URL(HMAC).
pub fn seal(state: &AppState, p: &Pending) -> Result<String, OidcError> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let json = serde_json::to_vec(p).map_err(|e| OidcError::Provider(e.to_string()))?;
    let m = mac(state, &json);
    Ok(format!(
        "{}.{}",
        b64.encode(&json),
        b64.encode(m.finalize().into_bytes())
    ))
}

/// Opens a sealed cookie value: `None` if it was not sealed here, is damaged or expired.
pub fn open(state: &AppState, value: &str) -> Option<Pending> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (body, sig) = value.split_once('.')?;
    let json = b64.decode(body).ok()?;
    let sig = b64.decode(sig).ok()?;
    mac(state, &json).verify_slice(&sig).ok()?;
    let p: Pending = serde_json::from_slice(&json).ok()?;
    (p.expires_ms > state.now_ms()).then_some(p)
}

/// Starts a sign-in: the provider's authorization URL to send the browser to, and the sealed
/// sign-in to keep in the cookie meanwhile.
pub async fn start(
    state: &AppState,
    p: &OidcConfig,
    flow: Flow,
) -> Result<(String, String), OidcError> {
    let http = http_client()?;
    let client = client(state, p, &http).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut req = client.authorize_url(
        CoreAuthenticationFlow::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    for s in p.scopes.iter().filter(|s| s.as_str() != "openid") {
        req = req.add_scope(Scope::new(s.clone()));
    }
    let (url, csrf, nonce) = req.set_pkce_challenge(challenge).url();
    let pending = Pending {
        provider: p.name.clone(),
        state: csrf.secret().clone(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
        expires_ms: state.now_ms() + PENDING_TTL_MS,
        flow,
    };
    Ok((url.to_string(), seal(state, &pending)?))
}

/// What the provider vouched for.
#[derive(Debug, Clone)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub user_name: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub groups: Vec<String>,
}

/// Exchanges the provider's code (with the PKCE verifier) and validates the ID token it brings:
/// signature against the provider's JWKS, issuer, audience, expiry and the nonce of this sign-in.
async fn identity(
    state: &AppState,
    p: &OidcConfig,
    pending: &Pending,
    code: &str,
) -> Result<Identity, OidcError> {
    let http = http_client()?;
    let client = client(state, p, &http).await?;
    let token = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|e| OidcError::Provider(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
        .request_async(&http)
        .await
        .map_err(|e| OidcError::Refused(error_chain(&e)))?;
    let id_token = token
        .id_token()
        .ok_or_else(|| OidcError::BadIdToken("the token response has no ID token".into()))?;
    // Expiry is judged by wopid's clock, like every other lifetime here.
    let now_ms = state.now_ms();
    let verifier = client.id_token_verifier().set_time_fn(move || {
        chrono::DateTime::<chrono::Utc>::from_timestamp_millis(now_ms).unwrap_or_default()
    });
    let claims = id_token
        .claims(&verifier, &Nonce::new(pending.nonce.clone()))
        .map_err(|e| OidcError::BadIdToken(error_chain(&e)))?;
    let extra = &claims.additional_claims().rest;
    let user_name = match p.username_claim.as_str() {
        "preferred_username" => claims.preferred_username().map(|u| u.to_string()),
        "email" => claims.email().map(|e| e.to_string()),
        "sub" => Some(claims.subject().to_string()),
        other => extra.get(other).and_then(|v| v.as_str()).map(str::to_owned),
    };
    let groups = match extra.get(&p.groups_claim) {
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|g| g.as_str().map(str::to_owned))
            .collect(),
        Some(serde_json::Value::String(g)) => vec![g.clone()],
        _ => Vec::new(),
    };
    Ok(Identity {
        issuer: claims.issuer().to_string(),
        subject: claims.subject().to_string(),
        user_name,
        display_name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string()),
        email: claims.email().map(|e| e.to_string()),
        groups,
    })
}

/// A sign-in name from a claim: trimmed, without control characters, at most 64 characters.
fn usable_name(raw: &str) -> Option<String> {
    let name: String = raw
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect();
    (!name.is_empty()).then_some(name)
}

/// The user linked to this identity, created (and linked) on the first sign-in. A sign-in name
/// already taken by someone else gets a suffix derived from the identity: an identity is never
/// joined to an existing account by name.
async fn user_for(state: &AppState, id: &Identity) -> Result<User, OidcError> {
    for _ in 0..3 {
        if let Some(uid) = state
            .meta
            .oidc_user(&id.issuer, &id.subject)
            .await
            .map_err(ApiError::from)?
        {
            // Users are never deleted, so a link always leads to one.
            return state
                .meta
                .user(&uid)
                .await
                .map_err(ApiError::from)?
                .ok_or(OidcError::Api(ApiError::Busy));
        }
        let base = id
            .user_name
            .as_deref()
            .and_then(usable_name)
            .ok_or(OidcError::NoUserName)?;
        let tag =
            hex::encode(&Sha256::digest(format!("{}\n{}", id.issuer, id.subject).as_bytes())[..4]);
        for login in [base.clone(), format!("{base}-{tag}")] {
            let new = NewUser {
                id: wopid_store::new_id(),
                login: login.clone(),
                display_name: id
                    .display_name
                    .as_deref()
                    .and_then(usable_name)
                    .unwrap_or_else(|| base.clone()),
                email: id.email.clone(),
                password_hash: None,
            };
            let created = state
                .meta
                .create_oidc_user(&id.issuer, &id.subject, &new, state.now_ms())
                .await
                .map_err(ApiError::from)?;
            if created {
                tracing::info!(user = %new.id, login = %login, issuer = %id.issuer, "user created by OpenID Connect sign-in");
                return state
                    .meta
                    .user(&new.id)
                    .await
                    .map_err(ApiError::from)?
                    .ok_or(OidcError::Api(ApiError::Busy));
            }
            // Taken name, or another node linked this identity meanwhile: look again.
            if state
                .meta
                .oidc_user(&id.issuer, &id.subject)
                .await
                .map_err(ApiError::from)?
                .is_some()
            {
                break;
            }
        }
    }
    Err(OidcError::Api(ApiError::Busy))
}

/// Finishes a sign-in: checks the provider's answer against the sign-in in progress, validates
/// it and returns the wopid user it stands for. Throttled like password sign-in: every attempt
/// counts as failed against the client's address in advance and is taken back if it succeeds.
pub async fn finish(
    state: &AppState,
    p: &OidcConfig,
    pending: &Pending,
    returned_state: &str,
    code: &str,
    addr: Option<IpAddr>,
) -> Result<User, OidcError> {
    if pending.provider != p.name || !crate::auth::tokens::same(&pending.state, returned_state) {
        return Err(OidcError::BadPending);
    }
    let now = state.now_ms();
    let key = addr.map(super::oauth::address_key);
    let keys: Vec<(&str, u64)> = key
        .iter()
        .map(|k| (k.as_str(), state.config.sign_in_max_failures_per_address))
        .collect();
    if !keys.is_empty()
        && !state
            .meta
            .reserve_sign_in(&keys, now, now - super::oauth::FAILURE_WINDOW_MS)
            .await
            .map_err(ApiError::from)?
    {
        return Err(OidcError::RateLimited);
    }
    let id = identity(state, p, pending, code).await?;
    if !p.allowed_groups.is_empty() && !id.groups.iter().any(|g| p.allowed_groups.contains(g)) {
        return Err(OidcError::NotAllowed);
    }
    let user = user_for(state, &id).await?;
    if user.disabled {
        return Err(OidcError::NotAllowed);
    }
    if !keys.is_empty() {
        let names: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
        state
            .meta
            .release_sign_in(&names, now)
            .await
            .map_err(ApiError::from)?;
    }
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_claims() {
        assert_eq!(usable_name("  alice \n").as_deref(), Some("alice"));
        assert_eq!(usable_name(" \t "), None);
        assert_eq!(usable_name(&"x".repeat(100)).map(|n| n.len()), Some(64));
    }
}
