//! The column lists of the records wopid reads and the mapping of a row to a record, defined once
//! for both SQL engines. Each engine's row type implements [`Get`] (read a column by position);
//! the mappers here read the columns in the order of the matching `*_cols!()` list (a macro, so that statements
//! are built with `concat!` at compile time), so adding a
//! column to a record touches its list and its mapper, whatever the engine.

use crate::error::{Result, StoreError};
use crate::model::*;

/// Reads one column of a row by position.
pub(crate) trait Get {
    fn int(&self, i: usize) -> Result<i64>;
    fn text(&self, i: usize) -> Result<String>;
    fn opt_text(&self, i: usize) -> Result<Option<String>>;
    fn flag(&self, i: usize) -> Result<bool>;
    fn bytes(&self, i: usize) -> Result<Vec<u8>>;
    fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>>;
    fn opt_int(&self, i: usize) -> Result<Option<i64>>;
}

impl Get for rusqlite::Row<'_> {
    fn int(&self, i: usize) -> Result<i64> {
        Ok(self.get(i)?)
    }
    fn text(&self, i: usize) -> Result<String> {
        Ok(self.get(i)?)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>> {
        Ok(self.get(i)?)
    }
    fn flag(&self, i: usize) -> Result<bool> {
        Ok(self.get(i)?)
    }
    fn bytes(&self, i: usize) -> Result<Vec<u8>> {
        Ok(self.get(i)?)
    }
    fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>> {
        Ok(self.get(i)?)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        Ok(self.get(i)?)
    }
}

impl Get for sqlx::postgres::PgRow {
    fn int(&self, i: usize) -> Result<i64> {
        Ok(sqlx::Row::try_get(self, i)?)
    }
    fn text(&self, i: usize) -> Result<String> {
        Ok(sqlx::Row::try_get(self, i)?)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>> {
        Ok(sqlx::Row::try_get(self, i)?)
    }
    fn flag(&self, i: usize) -> Result<bool> {
        Ok(sqlx::Row::try_get(self, i)?)
    }
    fn bytes(&self, i: usize) -> Result<Vec<u8>> {
        Ok(sqlx::Row::try_get(self, i)?)
    }
    fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>> {
        Ok(sqlx::Row::try_get(self, i)?)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        Ok(sqlx::Row::try_get(self, i)?)
    }
}

fn size(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A size as the engines store it.
pub(crate) fn size_i64(size: u64) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX)
}

macro_rules! file_cols {
    () => {
        "id, container_id, owner_id, name, size, sha256, blob_key, version, modified_ms, lock_id, lock_expires_ms, rev, lock_user, coauth_locks, sequence_number"
    };
}
pub(crate) use file_cols;
/// The same columns, of the table aliased `f`.
macro_rules! file_cols_f {
    () => {
        "f.id, f.container_id, f.owner_id, f.name, f.size, f.sha256, f.blob_key, f.version, f.modified_ms, f.lock_id, f.lock_expires_ms, f.rev, f.lock_user, f.coauth_locks, f.sequence_number"
    };
}
const FILE_WIDTH: usize = 15;

/// A file from the `FILE_COLS` starting at column `at`.
pub(crate) fn file_at(r: &impl Get, at: usize) -> Result<FileRecord> {
    Ok(FileRecord {
        id: r.text(at)?,
        container_id: r.text(at + 1)?,
        owner_id: r.text(at + 2)?,
        name: r.text(at + 3)?,
        size: size(r.int(at + 4)?),
        sha256: r.text(at + 5)?,
        blob_key: r.text(at + 6)?,
        version: r.int(at + 7)?,
        modified_ms: r.int(at + 8)?,
        lock_id: r.opt_text(at + 9)?,
        lock_expires_ms: r.int(at + 10)?,
        rev: r.int(at + 11)?,
        lock_user: r.opt_text(at + 12)?,
        coauth_locks: coauth_locks_from_json(&r.text(at + 13)?)?,
        sequence: r.int(at + 14)?,
    })
}

/// The `coauth_locks` column: a JSON array of the coauth locks.
pub(crate) fn coauth_locks_json(locks: &[CoauthLockRecord]) -> String {
    serde_json::Value::Array(
        locks
            .iter()
            .map(|l| {
                serde_json::json!({
                    "id": l.id,
                    "type": l.kind,
                    "metadata": l.metadata,
                    "user": l.user_name,
                    "locked_ms": l.locked_ms,
                    "expires_ms": l.expires_ms,
                })
            })
            .collect(),
    )
    .to_string()
}

/// The latest expiry of `locks` (0 without any): the `coauth_expires_ms` column, which lets a
/// statement tell whether a file holds a live coauth lock without reading the JSON.
pub(crate) fn coauth_expires_ms(locks: &[CoauthLockRecord]) -> i64 {
    locks.iter().map(|l| l.expires_ms).max().unwrap_or(0)
}

/// Reads the `coauth_locks` column back.
pub(crate) fn coauth_locks_from_json(text: &str) -> Result<Vec<CoauthLockRecord>> {
    const BAD: StoreError = StoreError::Invalid("malformed coauth_locks column");
    if text.is_empty() || text == "[]" {
        return Ok(Vec::new());
    }
    let v: serde_json::Value = serde_json::from_str(text).map_err(|_| BAD)?;
    let str_of =
        |o: &serde_json::Value, k: &str| o.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    let int_of = |o: &serde_json::Value, k: &str| o.get(k).and_then(serde_json::Value::as_i64);
    v.as_array()
        .ok_or(BAD)?
        .iter()
        .map(|o| {
            let lock = || {
                Some(CoauthLockRecord {
                    id: str_of(o, "id")?,
                    kind: str_of(o, "type")?,
                    metadata: str_of(o, "metadata")?,
                    user_name: str_of(o, "user")?,
                    locked_ms: int_of(o, "locked_ms")?,
                    expires_ms: int_of(o, "expires_ms")?,
                })
            };
            lock().ok_or(BAD)
        })
        .collect()
}

pub(crate) fn file(r: &impl Get) -> Result<FileRecord> {
    file_at(r, 0)
}

macro_rules! user_cols {
    () => {
        "id, login, display_name, user_info, epoch, revoked_below, email, disabled, admin"
    };
}
pub(crate) use user_cols;
macro_rules! user_cols_u {
    () => {
        "u.id, u.login, u.display_name, u.user_info, u.epoch, u.revoked_below, u.email, u.disabled, u.admin"
    };
}
const USER_WIDTH: usize = 9;

pub(crate) fn user_at(r: &impl Get, at: usize) -> Result<User> {
    Ok(User {
        id: r.text(at)?,
        login: r.text(at + 1)?,
        display_name: r.text(at + 2)?,
        user_info: r.opt_text(at + 3)?,
        epoch: r.int(at + 4)?,
        revoked_below: r.int(at + 5)?,
        email: r.opt_text(at + 6)?,
        disabled: r.flag(at + 7)?,
        admin: r.flag(at + 8)?,
    })
}

pub(crate) fn user(r: &impl Get) -> Result<User> {
    user_at(r, 0)
}

macro_rules! container_cols {
    () => {
        "id, parent_id, owner_id, name"
    };
}
pub(crate) use container_cols;

pub(crate) fn container(r: &impl Get) -> Result<Container> {
    Ok(Container {
        id: r.text(0)?,
        parent_id: r.opt_text(1)?,
        owner_id: r.text(2)?,
        name: r.text(3)?,
    })
}

macro_rules! version_cols {
    () => {
        "file_id, version, blob_key, size, sha256, modified_ms, author_id, editors, autosave, exit_save, modified_by_user, session"
    };
}
pub(crate) use version_cols;

pub(crate) fn version(r: &impl Get) -> Result<VersionRecord> {
    Ok(VersionRecord {
        file_id: r.text(0)?,
        version: r.int(1)?,
        blob_key: r.text(2)?,
        size: size(r.int(3)?),
        sha256: r.text(4)?,
        modified_ms: r.int(5)?,
        author_id: r.text(6)?,
        info: SaveInfo {
            editors: r.opt_text(7)?,
            autosave: r.flag(8)?,
            exit_save: r.flag(9)?,
            modified_by_user: r.flag(10)?,
            session: r.opt_text(11)?,
        },
    })
}

macro_rules! token_cols {
    () => {
        "hash, user_id, kind, resource_id, perms, expires_ms, revoked, client, epoch, link"
    };
}
pub(crate) use token_cols;
macro_rules! token_cols_t {
    () => {
        "t.hash, t.user_id, t.kind, t.resource_id, t.perms, t.expires_ms, t.revoked, t.client, t.epoch, t.link"
    };
}
const TOKEN_WIDTH: usize = 10;

pub(crate) fn token_at(r: &impl Get, at: usize) -> Result<TokenRecord> {
    let kind = r.text(at + 2)?;
    Ok(TokenRecord {
        hash: r.bytes(at)?,
        user_id: r.text(at + 1)?,
        kind: ResourceKind::parse(&kind).ok_or(StoreError::Invalid("unknown token kind"))?,
        resource_id: r.text(at + 3)?,
        perms: r.int(at + 4)?,
        expires_ms: r.int(at + 5)?,
        revoked: r.flag(at + 6)?,
        client: r.opt_text(at + 7)?,
        epoch: r.int(at + 8)?,
        link: r.opt_bytes(at + 9)?,
    })
}

pub(crate) fn token(r: &impl Get) -> Result<TokenRecord> {
    token_at(r, 0)
}

macro_rules! share_cols {
    () => {
        "resource_id, user_id, can_write"
    };
}
pub(crate) use share_cols;

pub(crate) fn share(r: &impl Get) -> Result<Share> {
    Ok(Share {
        resource_id: r.text(0)?,
        user_id: r.text(1)?,
        can_write: r.flag(2)?,
    })
}

macro_rules! activity_cols {
    () => {
        "file_id, activity_id, kind, user_id, body, received_ms"
    };
}
pub(crate) use activity_cols;

pub(crate) fn activity(r: &impl Get) -> Result<ActivityRecord> {
    Ok(ActivityRecord {
        file_id: r.text(0)?,
        activity_id: r.text(1)?,
        kind: r.text(2)?,
        user_id: r.text(3)?,
        body: r.text(4)?,
        received_ms: r.int(5)?,
    })
}

macro_rules! oauth_client_cols {
    () => {
        "id, name, redirect_uri, require_pkce"
    };
}
pub(crate) use oauth_client_cols;

pub(crate) fn oauth_client(r: &impl Get) -> Result<OAuthClient> {
    Ok(OAuthClient {
        id: r.text(0)?,
        name: r.text(1)?,
        redirect_uri: r.text(2)?,
        require_pkce: r.flag(3)?,
    })
}

macro_rules! auth_code_cols {
    () => {
        "hash, client_id, user_id, redirect_uri, code_challenge, expires_ms, epoch"
    };
}
pub(crate) use auth_code_cols;

pub(crate) fn auth_code(r: &impl Get) -> Result<AuthCode> {
    Ok(AuthCode {
        hash: r.bytes(0)?,
        client_id: r.text(1)?,
        user_id: r.text(2)?,
        redirect_uri: r.text(3)?,
        code_challenge: r.opt_text(4)?,
        expires_ms: r.int(5)?,
        epoch: r.int(6)?,
    })
}

macro_rules! session_cols {
    () => {
        "hash, user_id, csrf, expires_ms, epoch"
    };
}
pub(crate) use session_cols;

pub(crate) fn session(r: &impl Get) -> Result<SessionRecord> {
    Ok(SessionRecord {
        hash: r.bytes(0)?,
        user_id: r.text(1)?,
        csrf: r.text(2)?,
        expires_ms: r.int(3)?,
        epoch: r.int(4)?,
    })
}

/// The token a request carries, with the file it names (its lock included), the token's user, the
/// file's container and the token's revocation floor on its resource, in one statement. `?1` is the token's hash, `?2` the file id; PostgreSQL
/// numbers them `$1`, `$2` (see [`numbered`]).
pub(crate) const TOKEN_FILE: &str = concat!(
    "SELECT ",
    token_cols_t!(),
    ", ",
    file_cols_f!(),
    ", ",
    user_cols_u!(),
    ", c.id, c.parent_id, c.owner_id, c.name, \
     (SELECT r.epoch FROM token_revocations r WHERE r.user_id = t.user_id AND r.resource_id = t.resource_id), \
     (SELECT h.host FROM token_hosts h WHERE h.hash = t.hash) \
     FROM tokens t \
     LEFT JOIN files f ON f.id = ?2 AND f.trashed_ms IS NULL \
     LEFT JOIN users u ON u.id = t.user_id \
     LEFT JOIN containers c ON c.id = f.container_id \
     WHERE t.hash = ?1"
);

/// A row of [`TOKEN_FILE`].
pub(crate) fn token_file(r: &impl Get) -> Result<TokenFile> {
    let file_at = TOKEN_WIDTH;
    let user_at = file_at + FILE_WIDTH;
    let folder_at = user_at + USER_WIDTH;
    let file = match r.opt_text(file_at)? {
        Some(_) => Some(self::file_at(r, file_at)?),
        None => None,
    };
    let user = match r.opt_text(user_at)? {
        Some(_) => Some(self::user_at(r, user_at)?),
        None => None,
    };
    let folder = match r.opt_text(folder_at)? {
        Some(id) => Some(Container {
            id,
            parent_id: r.opt_text(folder_at + 1)?,
            owner_id: r.text(folder_at + 2)?,
            name: r.text(folder_at + 3)?,
        }),
        None => None,
    };
    // The oldest credential generation still valid: the user's, or the resource's if higher.
    let floor = user
        .as_ref()
        .map_or(0, |u| u.revoked_below)
        .max(r.opt_int(folder_at + 4)?.unwrap_or(0));
    Ok(TokenFile {
        token: token_at(r, 0)?,
        file,
        user,
        folder,
        floor,
        host: r.opt_text(folder_at + 5)?,
    })
}

/// A statement written with SQLite's `?N` parameters, in PostgreSQL's `$N` form.
pub(crate) fn numbered(sql: &str) -> String {
    sql.replace('?', "$")
}

macro_rules! api_key_cols {
    () => {
        "id, name, hash, scope, origins, created_ms, revoked"
    };
}
pub(crate) use api_key_cols;

pub(crate) fn api_key(r: &impl Get) -> Result<ApiKey> {
    Ok(ApiKey {
        id: r.text(0)?,
        name: r.text(1)?,
        hash: r.bytes(2)?,
        scope: r.text(3)?,
        origins: r
            .text(4)?
            .split('\n')
            .filter(|o| !o.is_empty())
            .map(str::to_owned)
            .collect(),
        created_ms: r.int(5)?,
        revoked: r.flag(6)?,
    })
}

macro_rules! delivery_cols {
    () => {
        "id, seq, url, event, payload, created_ms, attempts, next_attempt_ms, claim, last_error"
    };
}
pub(crate) use delivery_cols;

pub(crate) fn delivery(r: &impl Get) -> Result<crate::deliveries::Delivery> {
    Ok(crate::deliveries::Delivery {
        id: r.text(0)?,
        seq: r.int(1)?,
        url: r.text(2)?,
        event: r.text(3)?,
        payload: r.text(4)?,
        created_ms: r.int(5)?,
        attempts: r.int(6)?,
        next_attempt_ms: r.int(7)?,
        claim: r.opt_text(8)?,
        last_error: r.opt_text(9)?,
    })
}
