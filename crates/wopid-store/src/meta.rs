//! The metadata repository: users, containers, files, versions, tokens, activities.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::{Result, StoreError};
use crate::model::*;

/// The result of a compare-and-swap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cas {
    /// Applied; the file as it now stands.
    Applied(Box<FileRecord>),
    /// The file changed (or vanished) since the caller read it: read again and decide again.
    Stale,
    /// A rename or create would take a name that exists in the container.
    NameTaken,
}

/// A metadata engine. Every method is one atomic step; nothing here decides protocol policy.
#[async_trait]
pub trait MetaBackend:
    AccountStore
    + crate::grants::Grants
    + crate::trash::Trash
    + crate::transfer::Transfer
    + crate::deliveries::WebhookQueue
    + crate::api_store::ApiStore
    + crate::chunks::ChunkStore
{
    /// The user with this sign-in name, created with `display_name` when missing.
    async fn ensure_user(&self, login: &str, display_name: &str, now_ms: i64) -> Result<User>;
    async fn user(&self, id: &str) -> Result<Option<User>>;
    async fn user_by_login(&self, login: &str) -> Result<Option<User>>;
    async fn set_user_info(&self, user_id: &str, info: &str) -> Result<()>;

    /// Creates a user; `Ok(false)` when the sign-in name is taken.
    async fn create_user(&self, user: &NewUser, now_ms: i64) -> Result<bool>;
    async fn list_users(&self) -> Result<Vec<User>>;

    /// The user's root container, created when missing.
    async fn root_container(&self, user_id: &str, now_ms: i64) -> Result<Container>;
    async fn container(&self, id: &str) -> Result<Option<Container>>;
    /// Creates a child container; `None` when the parent has a child container of that name (or
    /// is not there, or is in the trash).
    async fn create_container(
        &self,
        id: &str,
        parent_id: &str,
        owner_id: &str,
        name: &str,
        now_ms: i64,
    ) -> Result<Option<Container>>;
    async fn child_containers(&self, parent_id: &str) -> Result<Vec<Container>>;
    async fn container_by_name(&self, parent_id: &str, name: &str) -> Result<Option<Container>>;
    /// Renames a container (a root too: its name is only displayed); `false` when the name is
    /// taken in its parent.
    async fn rename_container(&self, id: &str, name: &str) -> Result<bool>;
    /// Deletes a container only if it has no files and no child containers, atomically.
    async fn delete_container(&self, id: &str) -> Result<ContainerDeletion>;

    /// Creates a file and its first version; `NameTaken` when the container has that name,
    /// `Stale` when the container is not there (or is in the trash).
    async fn create_file(&self, file: NewFile) -> Result<Cas>;
    async fn file(&self, id: &str) -> Result<Option<FileRecord>>;
    async fn file_by_name(&self, container_id: &str, name: &str) -> Result<Option<FileRecord>>;
    /// Files of one container, or of all containers, ordered by name.
    async fn list_files(&self, container_id: Option<&str>) -> Result<Vec<FileRecord>>;
    /// Applies `update` if the file's revision is still `expected_rev`.
    async fn update_file(&self, id: &str, expected_rev: i64, update: FileUpdate) -> Result<Cas>;
    /// Deletes the file if its revision is still `expected_rev`; returns the blob keys it held.
    async fn delete_file(&self, id: &str, expected_rev: i64) -> Result<Option<Vec<String>>>;
    /// Every version of a file, oldest first.
    async fn versions(&self, file_id: &str) -> Result<Vec<VersionRecord>>;
    /// The newest version of a file's history.
    async fn last_version(&self, file_id: &str) -> Result<Option<VersionRecord>>;

    async fn add_activity(&self, activity: &ActivityRecord) -> Result<()>;
    async fn activities(&self, file_id: &str) -> Result<Vec<ActivityRecord>>;

    /// Checks the database answers and its schema is current.
    async fn ping(&self) -> Result<()>;
}

/// Credentials and grants: tokens, shares, sign-in data, OAuth clients and codes, sessions and
/// server settings. Every metadata engine implements it beside `MetaBackend`.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// The stored password hash of a user, if any.
    async fn password_hash(&self, user_id: &str) -> Result<Option<String>>;
    /// Sets a new password and, in the same step, voids every credential the user holds
    /// (as `revoke_tokens(user_id, None)` does).
    async fn set_password_hash(&self, user_id: &str, hash: &str) -> Result<()>;

    /// The id of the user linked to an OpenID Connect identity (the provider's issuer and the
    /// `sub` it gave), if any.
    async fn oidc_user(&self, issuer: &str, subject: &str) -> Result<Option<String>>;
    /// Creates `user` and links it to the identity (issuer, subject), in one step. `Ok(false)`
    /// when nothing was created: the sign-in name is taken or the identity is already linked.
    async fn create_oidc_user(
        &self,
        issuer: &str,
        subject: &str,
        user: &NewUser,
        now_ms: i64,
    ) -> Result<bool>;

    /// Grants (or changes) a share of a file or container.
    async fn put_share(&self, share: &Share) -> Result<()>;
    /// Every share granted to a user.
    async fn shares_of(&self, user_id: &str) -> Result<Vec<Share>>;
    /// The shares of `user_id` on any of `resource_ids`.
    async fn shares(&self, user_id: &str, resource_ids: &[String]) -> Result<Vec<Share>>;

    async fn add_oauth_client(&self, client: &OAuthClient) -> Result<()>;
    async fn oauth_client(&self, id: &str) -> Result<Option<OAuthClient>>;
    async fn insert_auth_code(&self, code: &AuthCode) -> Result<()>;
    /// Removes and returns a code: a code can be taken once.
    async fn take_auth_code(&self, hash: &[u8]) -> Result<Option<AuthCode>>;

    async fn insert_token(&self, token: &TokenRecord) -> Result<()>;
    async fn token(&self, hash: &[u8]) -> Result<Option<TokenRecord>>;
    /// The token with this hash together with the file `file_id`, the token's user and the
    /// file's container, read at once (one statement); `None` when there is no such token.
    /// Nothing is cached: a revocation or a lock change made anywhere is seen by the next call.
    async fn token_file(&self, hash: &[u8], file_id: &str) -> Result<Option<TokenFile>>;
    async fn revoke_token(&self, hash: &[u8]) -> Result<()>;
    /// Revokes every token of a user on a resource; returns how many. In the same step it raises
    /// the user's credential generation, so that credentials issued before (a token traded later
    /// from an older one included) no longer count: with `resource_id`, for that resource only
    /// (see `token_floor`); without, for everything, and the user's sessions and authorization
    /// codes are deleted.
    async fn revoke_tokens(&self, user_id: &str, resource_id: Option<&str>) -> Result<u64>;
    /// The oldest credential generation still valid for `user_id` on `resource_id`.
    async fn token_floor(&self, user_id: &str, resource_id: &str) -> Result<i64>;
    /// Deletes the tokens, authorization codes and sessions that expired before `now_ms`;
    /// returns how many rows went.
    async fn purge_expired(&self, now_ms: i64) -> Result<u64>;

    /// A server-wide secret value, created with `init` on first use (the same on every node).
    async fn setting_or_init(&self, key: &str, init: &str) -> Result<String>;
    async fn setting(&self, key: &str) -> Result<Option<String>>;
    async fn put_setting(&self, key: &str, value: &str) -> Result<()>;

    async fn insert_session(&self, session: &SessionRecord) -> Result<()>;
    async fn session(&self, hash: &[u8]) -> Result<Option<SessionRecord>>;
    async fn delete_session(&self, hash: &[u8]) -> Result<()>;

    /// Every share granted on a resource, by user id.
    async fn shares_on(&self, resource_id: &str) -> Result<Vec<Share>>;
    /// Removes the share of `user_id` on a resource; `false` when there was none.
    async fn remove_share(&self, resource_id: &str, user_id: &str) -> Result<bool>;
    /// The share links (`share`, `cshare`) of a resource neither revoked nor expired at
    /// `now_ms`, soonest to expire first.
    async fn links_on(&self, resource_id: &str, now_ms: i64) -> Result<Vec<TokenRecord>>;
}

/// The metadata repository wopid uses, whatever the engine.
#[derive(Clone)]
pub struct Meta(Arc<dyn MetaBackend>);

impl Meta {
    /// Opens a metadata engine by URL: `sqlite://PATH` (created when missing) or
    /// `postgres://…` / `postgresql://…`. Missing migrations are applied.
    pub async fn open(url: &str) -> Result<Self> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            let db = crate::sqlite::SqliteMeta::open(std::path::Path::new(path)).await?;
            return Ok(Self(Arc::new(db)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let db = crate::postgres::PgMeta::open(url).await?;
            return Ok(Self(Arc::new(db)));
        }
        Err(StoreError::BadUrl(redact_url(url)))
    }

    pub fn from_backend(b: Arc<dyn MetaBackend>) -> Self {
        Self(b)
    }
}

impl std::ops::Deref for Meta {
    type Target = dyn MetaBackend;
    fn deref(&self) -> &Self::Target {
        self.0.as_ref()
    }
}

/// A URL with any password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}
