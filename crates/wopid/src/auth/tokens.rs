//! Access tokens: 32 random bytes, base64url (URL-safe, so the encoded and decoded forms are the
//! same bytes, which proof-key signatures need). Only their SHA-256 is stored; a token grants one
//! user one resource with a set of permissions until an absolute expiry, and can be revoked.
//!
//! Every token records the credential generation (`epoch`) of the authentication it descends
//! from: a primary authentication (a session, an OAuth code or refresh token, `token issue`)
//! gives its own, and a token traded from another inherits the other's. Revocation raises the
//! user's floor (for one resource or for all), so a token, however it was traded, is void once
//! its generation is below the floor. A token redeemed from a share link also names the link:
//! it is void with the link, and never grants more than the link and its creator's access now.

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

    /// A management API key in clear (see `auth::api_key`).
    pub(crate) fn from_key(key: String) -> Self {
        Self(key)
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
    /// The credential generation the token descends from; what it trades inherits it.
    pub epoch: i64,
    /// The share link the token was redeemed from, which bounds it.
    pub link: Option<LinkBound>,
    /// The reference of the stored token the grant comes from (see `reference`); empty for a
    /// grant of a web session.
    pub token_ref: String,
}

/// What a share link still grants: at most its own permissions and its creator's access now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkBound {
    pub creator: String,
    pub perms: Perms,
}

/// Everything a new token records.
#[derive(Debug, Clone)]
pub struct Mint<'a> {
    pub user_id: &'a str,
    pub kind: ResourceKind,
    pub resource_id: &'a str,
    pub perms: Perms,
    pub expires_ms: i64,
    pub client: Option<&'a str>,
    pub epoch: i64,
    /// The share link (in clear) a token is redeemed from.
    pub link: Option<&'a str>,
}

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Issues a token for `user_id` on one resource, valid until `expires_ms`, as a primary
/// authentication (`token issue`): in the user's current credential generation.
pub async fn issue(
    state: &AppState,
    user_id: &str,
    kind: ResourceKind,
    resource_id: &str,
    perms: Perms,
    expires_ms: i64,
) -> Result<Secret, ApiError> {
    let epoch = state.meta.user(user_id).await?.map_or(0, |u| u.epoch);
    mint(
        state,
        Mint {
            user_id,
            kind,
            resource_id,
            perms,
            expires_ms,
            client: None,
            epoch,
            link: None,
        },
    )
    .await
}

/// Stores a new token and returns it in clear.
pub async fn mint(state: &AppState, m: Mint<'_>) -> Result<Secret, ApiError> {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let record = TokenRecord {
        hash: hash(&token),
        user_id: m.user_id.to_owned(),
        kind: m.kind,
        resource_id: m.resource_id.to_owned(),
        perms: m.perms.bits(),
        expires_ms: m.expires_ms,
        revoked: false,
        client: m.client.map(str::to_owned),
        epoch: m.epoch,
        link: m.link.map(hash),
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
    verify_hash(state, &hash(token), kind).await
}

/// The reference of a token that a signed URL carries: its hash, base64url (never the token).
pub fn reference(token: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash(token))
}

fn reference_of(h: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(h)
}

/// Checks the token a signed URL's reference names, as `verify_kind` checks a token.
pub async fn verify_reference(
    state: &AppState,
    reference: &str,
    kind: ResourceKind,
) -> Result<Grant, ApiError> {
    let h = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(reference)
        .map_err(|_| ProtoError::Unauthorized)?;
    if h.len() != 32 {
        return Err(ProtoError::Unauthorized.into());
    }
    verify_hash(state, &h, kind).await
}

/// Whether a stored token is the one hashed to `h`, of `kind`, unrevoked, unexpired, and of a
/// credential generation at or above `floor` (the user's revocations have not voided it).
fn usable(state: &AppState, rec: &TokenRecord, h: &[u8], kind: ResourceKind, floor: i64) -> bool {
    let same_hash: bool = rec.hash.ct_eq(h).into();
    same_hash
        && rec.kind == kind
        && !rec.revoked
        && rec.expires_ms > state.now_ms()
        && rec.epoch >= floor
}

/// A stored token that is of `kind`, unrevoked, unexpired, and of a credential generation the
/// user's revocations have not voided; `None` otherwise.
async fn live(
    state: &AppState,
    h: &[u8],
    kind: ResourceKind,
) -> Result<Option<TokenRecord>, ApiError> {
    let Some(rec) = state.meta.token(h).await? else {
        return Ok(None);
    };
    // Checked before the floor is read: a refused token costs no second read.
    if !usable(state, &rec, h, kind, i64::MIN) {
        return Ok(None);
    }
    let floor = state
        .meta
        .token_floor(&rec.user_id, &rec.resource_id)
        .await?;
    Ok(usable(state, &rec, h, kind, floor).then_some(rec))
}

async fn verify_hash(state: &AppState, h: &[u8], kind: ResourceKind) -> Result<Grant, ApiError> {
    let Some(rec) = live(state, h, kind).await? else {
        return Err(ProtoError::Unauthorized.into());
    };
    grant_of(state, rec).await
}

/// The grant of a live token; a token redeemed from a share link is bounded by that link, which
/// must be live too.
async fn grant_of(state: &AppState, rec: TokenRecord) -> Result<Grant, ApiError> {
    // A token redeemed from a share link lives only as long as the link does.
    let link = match &rec.link {
        None => None,
        Some(lh) => {
            let Some(l) = live(state, lh, ResourceKind::ShareLink).await? else {
                return Err(ProtoError::Unauthorized.into());
            };
            if l.resource_id != rec.resource_id {
                return Err(ProtoError::Unauthorized.into());
            }
            Some(LinkBound {
                creator: l.user_id,
                perms: Perms::from_bits(l.perms),
            })
        }
    };
    Ok(Grant {
        user_id: rec.user_id,
        kind: rec.kind,
        resource_id: rec.resource_id,
        perms: Perms::from_bits(rec.perms),
        expires_ms: rec.expires_ms,
        client: rec.client,
        epoch: rec.epoch,
        link,
        token_ref: reference_of(&rec.hash),
    })
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
    /// The host pages an application gave when it opened the file through the management API
    /// (JSON of `ops::info::TokenHost`).
    pub host: Option<String>,
}

/// Checks a token issued for the file `file_id`, as `verify` does, and reads in the same store
/// call the file (with its lock), the user and the file's container. Any failure of the token
/// is 401.
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
    if !usable(state, &found.token, &h, ResourceKind::File, found.floor) {
        return Err(ProtoError::Unauthorized.into());
    }
    let same_resource: bool = found
        .token
        .resource_id
        .as_bytes()
        .ct_eq(file_id.as_bytes())
        .into();
    if !same_resource {
        return Err(ProtoError::Unauthorized.into());
    }
    Ok(FileRequest {
        grant: grant_of(state, found.token).await?,
        file: found.file,
        user: found.user,
        folder: found.folder,
        host: found.host,
    })
}

/// Keeps the host pages an application gave with the token it was handed (until it expires).
pub async fn attach_host(
    state: &AppState,
    token: &Secret,
    host: &str,
    expires_ms: i64,
) -> Result<(), ApiError> {
    state
        .meta
        .put_token_host(&hash(token.expose()), host, expires_ms)
        .await?;
    Ok(())
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
