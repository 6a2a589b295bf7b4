//! Web sign-in sessions in the store: a random value (the cookie) whose hash is stored with the
//! user, the session's CSRF token and the user's credential generation at sign-in. A new
//! password or `token revoke --user` ends it, on every node. The cookie itself is `web`'s.

use sha2::{Digest as _, Sha256};
use wopid_store::{SessionRecord, User};

use crate::error::ApiError;
use crate::state::AppState;

/// Sessions last this long.
pub const SESSION_TTL_MS: i64 = 12 * 3_600_000;

fn hash(v: &str) -> Vec<u8> {
    Sha256::digest(v.as_bytes()).to_vec()
}

/// A live session.
#[derive(Debug, Clone)]
pub struct Live {
    pub user: User,
    pub csrf: String,
    /// The credential generation at sign-in, which the tokens it mints inherit.
    pub epoch: i64,
}

/// Starts a session for `user`; returns its value (the cookie).
pub async fn start(state: &AppState, user: &User) -> Result<String, ApiError> {
    let value = super::tokens::random_token();
    state
        .meta
        .insert_session(&SessionRecord {
            hash: hash(&value),
            user_id: user.id.clone(),
            csrf: super::tokens::random_token(),
            expires_ms: state.now_ms() + SESSION_TTL_MS,
            // As read with the user before the password was checked: a password changed since
            // voids this session too.
            epoch: user.epoch,
        })
        .await?;
    Ok(value)
}

/// Ends the session with this value.
pub async fn end(state: &AppState, value: &str) -> Result<(), ApiError> {
    state.meta.delete_session(&hash(value)).await?;
    Ok(())
}

/// The live session with this value; an expired or revoked one is removed.
pub async fn live(state: &AppState, value: &str) -> Result<Option<Live>, ApiError> {
    let Some(s) = state.meta.session(&hash(value)).await? else {
        return Ok(None);
    };
    if s.expires_ms <= state.now_ms() {
        state.meta.delete_session(&s.hash).await?;
        return Ok(None);
    }
    let Some(user) = state.meta.user(&s.user_id).await? else {
        return Ok(None);
    };
    if s.epoch < user.revoked_below {
        state.meta.delete_session(&s.hash).await?;
        return Ok(None);
    }
    Ok(Some(Live {
        user,
        csrf: s.csrf,
        epoch: s.epoch,
    }))
}
