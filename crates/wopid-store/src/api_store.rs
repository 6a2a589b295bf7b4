//! What the management API stores beside the rest: its keys, account changes, the host pages
//! an application gave for a token, and shares seen from their resource.

use async_trait::async_trait;

use crate::error::Result;
use crate::model::{ApiKey, ContainerDeletion, StorageTotals, User, UserChange};

#[async_trait]
pub trait ApiStore: Send + Sync {
    async fn insert_api_key(&self, key: &ApiKey) -> Result<()>;
    /// The key with this id, revoked or not.
    async fn api_key(&self, id: &str) -> Result<Option<ApiKey>>;
    /// Every key, oldest first.
    async fn api_keys(&self) -> Result<Vec<ApiKey>>;
    /// Marks a key revoked; `false` when there is no such key.
    async fn revoke_api_key(&self, id: &str) -> Result<bool>;

    /// Applies `change` to a user in one step and returns the user as it now stands (`None`: no
    /// such user). Disabling a user that was enabled also voids every credential of the user, as
    /// `revoke_tokens(user, None)` does, in the same transaction.
    async fn change_user(&self, user_id: &str, change: &UserChange) -> Result<Option<User>>;
    /// Deletes a user who owns no files and no folders but an empty root, with the root, shares,
    /// tokens, sessions and sign-in links: `NotEmpty` when the user still owns something.
    async fn delete_user(&self, user_id: &str) -> Result<ContainerDeletion>;

    /// Records the host pages (`host`, JSON) an application gave for the token `hash`; they go
    /// with the token (`token_file` reads them) and are purged with it at `expires_ms`.
    async fn put_token_host(&self, hash: &[u8], host: &str, expires_ms: i64) -> Result<()>;

    /// Revokes every user's tokens of one resource and raises, for each user who held one, the
    /// floor of that resource (as `revoke_tokens(user, Some(resource))`), in one transaction.
    /// Returns how many tokens were revoked.
    async fn revoke_resource_tokens(&self, resource_id: &str) -> Result<u64>;

    /// How much the installation holds, for the administrators' page.
    async fn storage_totals(&self) -> Result<StorageTotals>;
}

/// The counts of [`StorageTotals`], in its order, on both engines (PostgreSQL's `SUM` of a
/// `BIGINT` is a `NUMERIC`, hence the cast).
pub(crate) const STORAGE_TOTALS: &str = "SELECT (SELECT COUNT(*) FROM users), \
     (SELECT COUNT(*) FROM users WHERE disabled), (SELECT COUNT(*) FROM containers), \
     (SELECT COUNT(*) FROM files), (SELECT COUNT(*) FROM versions), \
     (SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM files), \
     (SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM versions)";

/// A row of [`STORAGE_TOTALS`].
pub(crate) fn storage_totals(r: &impl crate::rows::Get) -> Result<StorageTotals> {
    let n = |i: usize| -> Result<u64> { Ok(u64::try_from(r.int(i)?).unwrap_or(0)) };
    Ok(StorageTotals {
        users: n(0)?,
        disabled_users: n(1)?,
        folders: n(2)?,
        files: n(3)?,
        versions: n(4)?,
        current_bytes: n(5)?,
        version_bytes: n(6)?,
    })
}

// The statements of `delete_user` both engines run alike, with SQLite's `?N` parameters
// (PostgreSQL's through `rows::numbered`).

/// What the user `?1` owns beyond an empty root: files anywhere, containers below a root, and
/// anything in their root (a file or container someone else owns in it).
pub(crate) const USER_OWNS: &str = "SELECT (SELECT COUNT(*) FROM files WHERE owner_id = ?1) + \
     (SELECT COUNT(*) FROM containers WHERE owner_id = ?1 AND parent_id IS NOT NULL) + \
     (SELECT COUNT(*) FROM files f JOIN containers r ON f.container_id = r.id \
      WHERE r.owner_id = ?1) + \
     (SELECT COUNT(*) FROM containers k JOIN containers r ON k.parent_id = r.id \
      WHERE r.owner_id = ?1)";

/// Everything of the user `?1`, referencing rows first, the user last.
pub(crate) const DELETE_USER: [&str; 8] = [
    "DELETE FROM shares WHERE user_id = ?1 \
     OR resource_id IN (SELECT id FROM containers WHERE owner_id = ?1)",
    "DELETE FROM containers WHERE owner_id = ?1",
    "DELETE FROM tokens WHERE user_id = ?1",
    "DELETE FROM token_revocations WHERE user_id = ?1",
    "DELETE FROM sessions WHERE user_id = ?1",
    "DELETE FROM oauth_codes WHERE user_id = ?1",
    "DELETE FROM oidc_links WHERE user_id = ?1",
    "DELETE FROM users WHERE id = ?1",
];
