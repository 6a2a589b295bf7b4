//! `/api/v1/resources/{id}/shares`: sharing a file or folder with users.

use axum::extract::State;
use axum::http::StatusCode;

use super::caller::Caller;
use super::model::*;
use super::problem::{Json, Path, Problem, Query};
use super::{Answer, Problems};
use crate::ops;
use crate::state::AppState;

/// The users a file or folder is shared with.
#[utoipa::path(get, path = "/api/v1/resources/{id}/shares", tag = "shares",
    params(("id" = String, Path, description = "file or folder id"), PageQuery),
    responses((status = 200, body = SharePage), Problems))]
pub(crate) async fn list_shares(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Answer<SharePage> {
    let shares = ops::shares::on(&state, &id).await?;
    let (items, next_cursor) = paginate(shares, |s| s.user_id.clone(), &q)?;
    Ok(axum::Json(SharePage {
        items: items.into_iter().map(ShareOut::from).collect(),
        next_cursor,
    }))
}

/// Share a file or folder with a user, or change the share's permission.
#[utoipa::path(put, path = "/api/v1/resources/{id}/shares/{user_id}", tag = "shares",
    request_body = ShareIn,
    params(("id" = String, Path, description = "file or folder id"),
        ("user_id" = String, Path, description = "user id")),
    responses((status = 200, body = ShareOut), Problems))]
pub(crate) async fn put_share(
    State(state): State<AppState>,
    _caller: Caller,
    Path((id, user_id)): Path<(String, String)>,
    Json(body): Json<ShareIn>,
) -> Answer<ShareOut> {
    let share = ops::shares::put(&state, &id, &user_id, body.can_write).await?;
    Ok(axum::Json(share.into()))
}

/// One share.
#[utoipa::path(get, path = "/api/v1/resources/{id}/shares/{user_id}", tag = "shares",
    params(("id" = String, Path, description = "file or folder id"),
        ("user_id" = String, Path, description = "user id")),
    responses((status = 200, body = ShareOut), Problems))]
pub(crate) async fn get_share(
    State(state): State<AppState>,
    _caller: Caller,
    Path((id, user_id)): Path<(String, String)>,
) -> Answer<ShareOut> {
    Ok(axum::Json(
        ops::shares::get(&state, &id, &user_id).await?.into(),
    ))
}

/// Stop sharing a file or folder with a user; the user's access ends at once.
#[utoipa::path(delete, path = "/api/v1/resources/{id}/shares/{user_id}", tag = "shares",
    params(("id" = String, Path, description = "file or folder id"),
        ("user_id" = String, Path, description = "user id")),
    responses((status = 204, description = "removed"), Problems))]
pub(crate) async fn delete_share(
    State(state): State<AppState>,
    _caller: Caller,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    ops::shares::remove(&state, &id, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
