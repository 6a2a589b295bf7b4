//! Accounts: creating, changing, disabling and deleting users, and revoking their tokens. The
//! CLI and the management API both come here.

use wopid_proto::ProtoError;
use wopid_store::{ContainerDeletion, NewUser, StorageTotals, User, UserChange};

use crate::auth::password;
use crate::error::ApiError;
use crate::state::AppState;

/// Passwords are at least this long.
pub const MIN_PASSWORD: usize = 8;

/// A user to create.
#[derive(Debug, Default)]
pub struct Account<'a> {
    pub login: &'a str,
    pub display_name: Option<&'a str>,
    pub email: Option<&'a str>,
    /// `None`: the user cannot sign in with a password (single sign-on, API-only use).
    pub password: Option<&'a str>,
    /// The first user created is an administrator whatever this says.
    pub admin: bool,
}

fn check_email(email: &str) -> Result<(), ApiError> {
    let ok = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(ApiError::Invalid("not an e-mail address"))
    }
}

fn check_password(pw: &str) -> Result<(), ApiError> {
    if pw.chars().count() < MIN_PASSWORD || pw.len() > 1024 {
        return Err(ApiError::Invalid("a password has 8 to 1024 characters"));
    }
    Ok(())
}

async fn hash(state: &AppState, pw: &str) -> Result<String, ApiError> {
    password::hash_off_workers(&state.hashing, pw)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            ApiError::Busy
        })
}

/// Creates a user with a root container; 409 when the sign-in name is taken.
pub async fn create(state: &AppState, a: Account<'_>) -> Result<User, ApiError> {
    if let Some(why) = wopid_proto::names::invalid_user_name_reason(a.login) {
        return Err(ApiError::Invalid(why));
    }
    if let Some(why) = a
        .display_name
        .and_then(wopid_proto::names::invalid_user_name_reason)
    {
        return Err(ApiError::Invalid(why));
    }
    if let Some(e) = a.email {
        check_email(e)?;
    }
    let password_hash = match a.password {
        Some(pw) => {
            check_password(pw)?;
            Some(hash(state, pw).await?)
        }
        None => None,
    };
    let new = NewUser {
        id: wopid_store::new_id(),
        login: a.login.to_owned(),
        display_name: a.display_name.unwrap_or(a.login).to_owned(),
        email: a.email.map(str::to_owned),
        password_hash,
    };
    if !state.meta.create_user(&new, state.now_ms()).await? {
        return Err(ProtoError::Conflict("a user with this sign-in name exists").into());
    }
    state.meta.root_container(&new.id, state.now_ms()).await?;
    if a.admin {
        let change = UserChange {
            admin: Some(true),
            ..Default::default()
        };
        state.meta.change_user(&new.id, &change).await?;
    }
    get(state, &new.id).await
}

/// A user, or 404.
pub async fn get(state: &AppState, id: &str) -> Result<User, ApiError> {
    state
        .meta
        .user(id)
        .await?
        .ok_or_else(|| ProtoError::NotFound.into())
}

/// A user by sign-in name, or 404.
pub async fn by_login(state: &AppState, login: &str) -> Result<User, ApiError> {
    state
        .meta
        .user_by_login(login)
        .await?
        .ok_or_else(|| ProtoError::NotFound.into())
}

/// Every user, by sign-in name.
pub async fn list(state: &AppState) -> Result<Vec<User>, ApiError> {
    Ok(state.meta.list_users().await?)
}

/// Changes a user's account. A new password voids the user's credentials (as `users passwd`);
/// disabling voids them too, and a disabled user cannot sign in.
pub async fn change(
    state: &AppState,
    id: &str,
    change: UserChange,
    password: Option<&str>,
) -> Result<User, ApiError> {
    if let Some(why) = change
        .display_name
        .as_deref()
        .and_then(wopid_proto::names::invalid_user_name_reason)
    {
        return Err(ApiError::Invalid(why));
    }
    if let Some(Some(e)) = &change.email {
        check_email(e)?;
    }
    let hashed = match password {
        Some(pw) => {
            check_password(pw)?;
            Some(hash(state, pw).await?)
        }
        None => None,
    };
    let Some(mut user) = state.meta.change_user(id, &change).await? else {
        return Err(ProtoError::NotFound.into());
    };
    if let Some(h) = hashed {
        state.meta.set_password_hash(id, &h).await?;
        user = get(state, id).await?;
    }
    Ok(user)
}

/// Disables a user: no sign-in, and every session and token void at once.
pub async fn disable(state: &AppState, id: &str) -> Result<User, ApiError> {
    let change = UserChange {
        disabled: Some(true),
        ..Default::default()
    };
    self::change(state, id, change, None).await
}

/// Deletes a user who owns nothing but an empty root folder (409 otherwise), emptying the
/// user's trash first.
pub async fn delete(state: &AppState, id: &str) -> Result<(), ApiError> {
    get(state, id).await?;
    // What the user deleted is theirs until the trash is emptied: empty it first (freeing its
    // content), so that only live files and folders keep the account.
    super::trash::empty(state, id).await?;
    match state.meta.delete_user(id).await? {
        ContainerDeletion::Deleted => Ok(()),
        ContainerDeletion::Missing => Err(ProtoError::NotFound.into()),
        ContainerDeletion::NotEmpty => {
            Err(ProtoError::Conflict("the user still owns files or folders").into())
        }
    }
}

/// Revokes a user's tokens: all of them (sessions too), or those of one resource. Returns how
/// many stored tokens were revoked.
pub async fn revoke_tokens(
    state: &AppState,
    user_id: &str,
    resource_id: Option<&str>,
) -> Result<u64, ApiError> {
    get(state, user_id).await?;
    Ok(state.meta.revoke_tokens(user_id, resource_id).await?)
}

/// Revokes every user's tokens of one resource, and what they would trade for it. Returns how
/// many stored tokens were revoked.
pub async fn revoke_resource_tokens(state: &AppState, resource_id: &str) -> Result<u64, ApiError> {
    Ok(state.meta.revoke_resource_tokens(resource_id).await?)
}

/// What the installation holds (the administrators' page).
pub async fn storage_totals(state: &AppState) -> Result<StorageTotals, ApiError> {
    Ok(state.meta.storage_totals().await?)
}
