//! `/api/v1/users`: accounts, what is shared with a user, a user's root folder, and revoking a
//! user's tokens.

use axum::extract::State;
use axum::http::StatusCode;
use wopid_store::UserChange;

use super::caller::Caller;
use super::model::*;
use super::problem::{Json, Path, Problem, Query};
use super::{Answer, Problems};
use crate::ops;
use crate::state::AppState;

/// Every user, by sign-in name.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(PageQuery),
    responses((status = 200, body = UserPage), Problems))]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    _caller: Caller,
    Query(q): Query<PageQuery>,
) -> Answer<UserPage> {
    let users = ops::users::list(&state).await?;
    let (items, next_cursor) = super::model::paginate(users, |u| u.login.clone(), &q)?;
    Ok(axum::Json(UserPage {
        items: items.into_iter().map(UserOut::from).collect(),
        next_cursor,
    }))
}

/// Create a user (with or without a password), with an empty root folder.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserIn,
    responses((status = 201, body = UserOut), Problems))]
pub(crate) async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewUserIn>,
) -> Result<(StatusCode, axum::Json<UserOut>), Problem> {
    caller.may_set_admin(body.admin.then_some(true))?;
    let account = ops::users::Account {
        login: &body.login,
        display_name: body.display_name.as_deref(),
        email: body.email.as_deref(),
        password: body.password.as_deref(),
        admin: body.admin,
    };
    let user = ops::users::create(&state, account).await?;
    Ok((StatusCode::CREATED, axum::Json(user.into())))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = UserOut), Problems))]
pub(crate) async fn get_user(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Answer<UserOut> {
    Ok(axum::Json(ops::users::get(&state, &id).await?.into()))
}

/// Change a user's display name, e-mail address, password, administrator flag, or disable or
/// enable the user.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = UserPatch,
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = UserOut), Problems))]
pub(crate) async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<UserPatch>,
) -> Answer<UserOut> {
    caller.may_set_admin(body.admin)?;
    caller.may_manage(&ops::users::get(&state, &id).await?)?;
    let change = UserChange {
        display_name: body.display_name,
        email: body.email.map(|e| Some(e).filter(|e| !e.is_empty())),
        disabled: body.disabled,
        admin: body.admin,
    };
    let user = ops::users::change(&state, &id, change, body.password.as_deref()).await?;
    Ok(axum::Json(user.into()))
}

/// Disable a user: no sign-in, and every session and token of the user void at once.
#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "users",
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = UserOut), Problems))]
pub(crate) async fn disable_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Answer<UserOut> {
    caller.may_manage(&ops::users::get(&state, &id).await?)?;
    Ok(axum::Json(ops::users::disable(&state, &id).await?.into()))
}

/// Delete a user who owns nothing but an empty root folder once the trash is emptied (409 otherwise).
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "user id")),
    responses((status = 204, description = "deleted"), Problems))]
pub(crate) async fn delete_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    caller.may_manage(&ops::users::get(&state, &id).await?)?;
    ops::users::delete(&state, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The user's root folder (made on first use).
#[utoipa::path(get, path = "/api/v1/users/{id}/root", tag = "users",
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = ContainerOut), Problems))]
pub(crate) async fn user_root(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Answer<ContainerOut> {
    ops::users::get(&state, &id).await?;
    Ok(axum::Json(ops::browse::root(&state, &id).await?.into()))
}

/// What is shared with the user.
#[utoipa::path(get, path = "/api/v1/users/{id}/shares", tag = "shares",
    params(("id" = String, Path, description = "user id"), PageQuery),
    responses((status = 200, body = SharePage), Problems))]
pub(crate) async fn user_shares(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Answer<SharePage> {
    let shares = ops::shares::of(&state, &id).await?;
    let (items, next_cursor) = paginate(shares, |s| s.resource_id.clone(), &q)?;
    Ok(axum::Json(SharePage {
        items: items.into_iter().map(ShareOut::from).collect(),
        next_cursor,
    }))
}

/// Revoke the user's tokens: all of them with the user's sessions, or those of one file or
/// folder.
#[utoipa::path(post, path = "/api/v1/users/{id}/tokens/revoke", tag = "tokens",
    params(("id" = String, Path, description = "user id")), request_body = RevokeIn,
    responses((status = 200, body = Revoked), Problems))]
pub(crate) async fn revoke_user_tokens(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<RevokeIn>,
) -> Answer<Revoked> {
    caller.may_manage(&ops::users::get(&state, &id).await?)?;
    let revoked = ops::users::revoke_tokens(&state, &id, body.resource_id.as_deref()).await?;
    Ok(axum::Json(Revoked { revoked }))
}
