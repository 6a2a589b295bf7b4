//! Access tokens: 32 random bytes, base64url (URL-safe, so the encoded and decoded forms are the
//! same bytes, which proof-key signatures need). Only their SHA-256 is stored; a token grants one
//! user one resource with a set of permissions until an absolute expiry, and can be revoked.

use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use wopid_proto::ProtoError;
use wopid_store::{Container, FileRecord, ResourceKind, TokenRecord, User};

use crate::error::ApiError;
use crate::state::AppState;

/// Permission bits of a token. Reading is implied by any valid token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Perms(i64);

impl Perms {
    const WRITE: i64 = 1;
    const NO_WRITE_RELATIVE: i64 = 2;

    pub const READ_ONLY: Perms = Perms(0);
    pub const READ_WRITE: Perms = Perms(Self::WRITE);

    pub fn new(write: bool, write_relative: bool) -> Self {
        let mut bits = 0;
        if write {
            bits |= Self::WRITE;
        }
        if !write_relative {
            bits |= Self::NO_WRITE_RELATIVE;
        }
        Self(bits)
    }

    pub fn can_write(self) -> bool {
        self.0 & Self::WRITE != 0
    }

    /// May create files next to this one (PutRelativeFile).
    pub fn can_write_relative(self) -> bool {
        self.can_write() && self.0 & Self::NO_WRITE_RELATIVE == 0
    }

    pub fn bits(self) -> i64 {
        self.0
    }

    pub fn from_bits(bits: i64) -> Self {
        Self(bits)
    }
}

/// A token in clear, as handed to a client. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// What a verified token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub user_id: String,
    pub kind: ResourceKind,
    pub resource_id: String,
    pub perms: Perms,
    pub expires_ms: i64,
    /// The editor the token was minted for, if any.
    pub client: Option<String>,
}

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Issues a token for `user_id` on one resource, valid until `expires_ms`.
pub async fn issue(
    state: &AppState,
    user_id: &str,
    kind: ResourceKind,
    resource_id: &str,
    perms: Perms,
    expires_ms: i64,
) -> Result<Secret, ApiError> {
    issue_for(state, None, user_id, kind, resource_id, perms, expires_ms).await
}

/// Issues a token minted for an editor (`client`), whose proof-key policy then applies to it.
pub async fn issue_for(
    state: &AppState,
    client: Option<&str>,
    user_id: &str,
    kind: ResourceKind,
    resource_id: &str,
    perms: Perms,
    expires_ms: i64,
) -> Result<Secret, ApiError> {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let record = TokenRecord {
        hash: hash(&token),
        user_id: user_id.to_owned(),
        kind,
        resource_id: resource_id.to_owned(),
        perms: perms.bits(),
        expires_ms,
        revoked: false,
        client: client.map(str::to_owned),
    };
    state.meta.insert_token(&record).await?;
    Ok(Secret(token))
}

/// Checks a token and that it was issued for exactly this resource. Any failure is 401.
pub async fn verify(
    state: &AppState,
    token: &str,
    kind: ResourceKind,
    resource_id: &str,
) -> Result<Grant, ApiError> {
    let grant = verify_kind(state, token, kind).await?;
    let same_resource: bool = grant
        .resource_id
        .as_bytes()
        .ct_eq(resource_id.as_bytes())
        .into();
    if !same_resource {
        return Err(ProtoError::Unauthorized.into());
    }
    Ok(grant)
}

/// Checks a token of `kind` whatever its resource (share links carry no resource in their URL).
pub async fn verify_kind(
    state: &AppState,
    token: &str,
    kind: ResourceKind,
) -> Result<Grant, ApiError> {
    if token.is_empty() || token.len() > 512 {
        return Err(ProtoError::Unauthorized.into());
    }
    let h = hash(token);
    let rec = state.meta.token(&h).await?;
    grant_of(state, rec, &h, kind)
}

/// What a request on a file starts from, read with its token in one store call.
#[derive(Debug)]
pub struct FileRequest {
    pub grant: Grant,
    /// The file, or `None` when it does not exist.
    pub file: Option<FileRecord>,
    /// The token's user.
    pub user: Option<User>,
    /// The file's container.
    pub folder: Option<Container>,
}

/// Checks a token issued for the file `file_id` and reads, in the same store call, the file (with
/// its lock), the user and the file's container. Any failure of the token is 401.
pub async fn verify_file(
    state: &AppState,
    token: &str,
    file_id: &str,
) -> Result<FileRequest, ApiError> {
    if token.is_empty() || token.len() > 512 {
        return Err(ProtoError::Unauthorized.into());
    }
    let h = hash(token);
    let Some(found) = state.meta.token_file(&h, file_id).await? else {
        return Err(ProtoError::Unauthorized.into());
    };
    let grant = grant_of(state, Some(found.token), &h, ResourceKind::File)?;
    let same_resource: bool = grant
        .resource_id
        .as_bytes()
        .ct_eq(file_id.as_bytes())
        .into();
    if !same_resource {
        return Err(ProtoError::Unauthorized.into());
    }
    Ok(FileRequest {
        grant,
        file: found.file,
        user: found.user,
        folder: found.folder,
    })
}

/// The grant of a stored token, if it is the token hashed to `h`, of `kind`, live and unrevoked.
fn grant_of(
    state: &AppState,
    rec: Option<TokenRecord>,
    h: &[u8],
    kind: ResourceKind,
) -> Result<Grant, ApiError> {
    let Some(rec) = rec else {
        return Err(ProtoError::Unauthorized.into());
    };
    let same_hash: bool = rec.hash.ct_eq(h).into();
    if !same_hash || rec.kind != kind || rec.revoked || rec.expires_ms <= state.now_ms() {
        return Err(ProtoError::Unauthorized.into());
    }
    Ok(Grant {
        user_id: rec.user_id,
        kind: rec.kind,
        resource_id: rec.resource_id,
        perms: Perms::from_bits(rec.perms),
        expires_ms: rec.expires_ms,
        client: rec.client,
    })
}

/// Revokes one token.
pub async fn revoke(state: &AppState, token: &str) -> Result<(), ApiError> {
    state.meta.revoke_token(&hash(token)).await?;
    Ok(())
}

/// A random URL-safe value (CSRF tokens and the like).
pub fn random_token() -> String {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// Constant-time equality of two secrets.
pub fn same(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perms() {
        assert!(Perms::new(true, true).can_write_relative());
        assert!(!Perms::new(true, false).can_write_relative());
        assert!(Perms::new(true, false).can_write());
        assert!(!Perms::new(false, true).can_write_relative());
        assert!(!Perms::READ_ONLY.can_write());
    }

    #[test]
    fn secret_debug_is_redacted() {
        assert_eq!(format!("{:?}", Secret("abc".into())), "Secret(***)");
    }
}
