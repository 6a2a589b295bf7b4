//! Keys of the management API. A key is `wopid_<id>_<secret>`: the id is public (it names the
//! key in listings and revocations), the secret is 32 random bytes. Only the SHA-256 of the whole
//! key is stored, and a presented key is compared with it in constant time. Every request reads
//! the key again, so a revoked key is refused on its next request.

use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use wopid_store::ApiKey;

use super::tokens::Secret;
use crate::error::ApiError;
use crate::state::AppState;

const PREFIX: &str = "wopid_";

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everything, managing API keys included.
    Admin,
    /// Users, their files, folders, shares and tokens, and opening files; not API keys.
    Files,
}

impl Scope {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Self::Admin),
            "files" => Some(Self::Files),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Files => "files",
        }
    }
}

/// Why an origin cannot be on a key's allow-list.
pub fn invalid_origin(origin: &str) -> Option<&'static str> {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return Some("an origin is scheme://host[:port]");
    };
    if scheme != "https" && scheme != "http" {
        return Some("an origin's scheme is https or http");
    }
    if rest.is_empty()
        || rest.contains(['/', '?', '#', '@', ' '])
        || !rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
    {
        return Some("an origin is scheme://host[:port], with nothing after the host");
    }
    None
}

/// A new key: the record to store and the key in clear, shown once.
pub fn generate(
    name: &str,
    scope: Scope,
    origins: Vec<String>,
    now_ms: i64,
) -> Result<(ApiKey, Secret), &'static str> {
    if name.trim().is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
        return Err("a key's name is 1 to 200 printable characters");
    }
    if let Some(why) = origins.iter().find_map(|o| invalid_origin(o)) {
        return Err(why);
    }
    let id = wopid_store::new_id();
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let key = format!(
        "{PREFIX}{id}_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    );
    let record = ApiKey {
        id,
        name: name.to_owned(),
        hash: Sha256::digest(key.as_bytes()).to_vec(),
        scope: scope.as_str().to_owned(),
        origins,
        created_ms: now_ms,
        revoked: false,
    };
    Ok((record, Secret::from_key(key)))
}

/// Stores a new key and returns it, with the key in clear.
pub async fn create(
    state: &AppState,
    name: &str,
    scope: Scope,
    origins: Vec<String>,
) -> Result<Result<(ApiKey, Secret), &'static str>, ApiError> {
    let (record, key) = match generate(name, scope, origins, state.now_ms()) {
        Ok(k) => k,
        Err(why) => return Ok(Err(why)),
    };
    state.meta.insert_api_key(&record).await?;
    Ok(Ok((record, key)))
}

/// Every key, oldest first.
pub async fn list(state: &AppState) -> Result<Vec<ApiKey>, ApiError> {
    Ok(state.meta.api_keys().await?)
}

/// One key by id.
pub async fn get(state: &AppState, id: &str) -> Result<Option<ApiKey>, ApiError> {
    Ok(state.meta.api_key(id).await?)
}

/// Revokes a key; `false` when there is no such key.
pub async fn revoke(state: &AppState, id: &str) -> Result<bool, ApiError> {
    Ok(state.meta.revoke_api_key(id).await?)
}

/// The live key a request presents, with its scope; `None` for anything else (unknown, revoked,
/// malformed, or a scope this build does not know).
pub async fn verify(
    state: &AppState,
    presented: &str,
) -> Result<Option<(ApiKey, Scope)>, ApiError> {
    let Some(rest) = presented.strip_prefix(PREFIX) else {
        return Ok(None);
    };
    let Some((id, _)) = rest.split_once('_') else {
        return Ok(None);
    };
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Ok(None);
    }
    let Some(key) = state.meta.api_key(id).await? else {
        return Ok(None);
    };
    let hash = Sha256::digest(presented.as_bytes());
    let same: bool = key.hash.as_slice().ct_eq(hash.as_slice()).into();
    if !same || key.revoked {
        return Ok(None);
    }
    Ok(Scope::parse(&key.scope).map(|s| (key, s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_and_hashed() {
        let (a, ka) = generate("app", Scope::Files, vec![], 1).expect("key");
        let (b, kb) = generate("app", Scope::Files, vec![], 1).expect("key");
        assert_ne!(ka.expose(), kb.expose());
        assert_ne!(a.id, b.id);
        assert!(ka.expose().starts_with(&format!("wopid_{}_", a.id)));
        assert_eq!(a.hash, Sha256::digest(ka.expose().as_bytes()).to_vec());
        assert!(ka.expose().len() > 60);
    }

    #[test]
    fn origins_are_checked() {
        assert_eq!(invalid_origin("https://app.example"), None);
        assert_eq!(invalid_origin("http://127.0.0.1:8080"), None);
        for bad in [
            "app.example",
            "https://app.example/",
            "https://app.example/path",
            "ftp://app.example",
            "https://",
            "https://a@b",
        ] {
            assert!(invalid_origin(bad).is_some(), "{bad}");
        }
        assert!(generate("", Scope::Admin, vec![], 1).is_err());
        assert!(generate("x", Scope::Admin, vec!["nope".into()], 1).is_err());
    }
}
