//! Sign-in attempts and OAuth 2.0 token families: the steps that must stay atomic when several
//! wopid nodes share one database, each one transaction or one conditional statement.
//!
//! A family is everything issued from one authorization code: its first token pair and every pair
//! refreshed from it. Its id is the code's hash (or, for a refresh token issued before families
//! existed, that token's hash). Revoking a family revokes all of its tokens and issues none again.

use async_trait::async_trait;

use crate::error::Result;
use crate::model::{Rotation, TokenRecord};

#[async_trait]
pub trait Grants: Send + Sync {
    /// Counts a sign-in attempt as failed, in advance, under every key (a name, an address),
    /// unless a key already has its limit of failures since `since_ms`: then `false` and nothing
    /// is recorded. Failures older than `since_ms` are dropped. Atomic across nodes: of many
    /// parallel attempts, at most `limit` are let through per key.
    async fn reserve_sign_in(
        &self,
        keys: &[(&str, u64)],
        now_ms: i64,
        since_ms: i64,
    ) -> Result<bool>;
    /// Takes back the reservations made at `at_ms` under `keys` (the sign-in succeeded).
    async fn release_sign_in(&self, keys: &[&str], at_ms: i64) -> Result<()>;

    /// Issues `tokens` in `family`; `false`, and nothing issued, when the family is revoked.
    async fn insert_family_tokens(&self, family: &[u8], tokens: &[TokenRecord]) -> Result<bool>;
    /// Revokes the refresh token `old` and issues `new` in its family, if `old` is a refresh token
    /// that is neither revoked nor expired at `now_ms`. If it was already revoked (used), its
    /// family is revoked instead. Of parallel rotations of one token, at most one is `Rotated`.
    async fn rotate_refresh_token(
        &self,
        old: &[u8],
        now_ms: i64,
        new: &[TokenRecord],
    ) -> Result<Rotation>;
    /// Revokes a family and every token issued in it; returns how many tokens it held. A family
    /// that does not exist is left alone (0).
    async fn revoke_token_family(&self, family: &[u8]) -> Result<u64>;
}

// The statements both engines run alike, with SQLite's `?N` parameters (PostgreSQL's through
// `rows::numbered`).

/// The failures counted against the key `?1` since `?2`.
pub(crate) const COUNT_FAILURES: &str =
    "SELECT COUNT(*) FROM sign_in_failures WHERE login = ?1 AND at_ms >= ?2";
/// One failure of the key `?1` at `?2`.
pub(crate) const ADD_FAILURE: &str = "INSERT INTO sign_in_failures (login, at_ms) VALUES (?1, ?2)";
/// The token `?1` belongs to the family `?2`.
pub(crate) const ADD_FAMILY_TOKEN: &str =
    "INSERT INTO oauth_family_tokens (hash, family) VALUES (?1, ?2)";
/// The family of the token `?1`.
pub(crate) const FAMILY_OF: &str = "SELECT family FROM oauth_family_tokens WHERE hash = ?1";
/// Whether the refresh token `?1` is revoked (absent: not a refresh token).
pub(crate) const REFRESH_REVOKED: &str =
    "SELECT revoked FROM tokens WHERE hash = ?1 AND kind = 'refresh'";
