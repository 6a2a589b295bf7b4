//! `/api/v1/api-keys`: managing the API's own keys (the `admin` scope only).

use axum::extract::State;
use axum::http::StatusCode;

use super::caller::Caller;
use super::model::*;
use super::problem::{Json, Path, Problem, Query};
use super::{Answer, Problems};
use crate::auth::api_key::{self, Scope};
use crate::error::ApiError;
use crate::state::AppState;

/// Every API key, oldest first.
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api-keys", params(PageQuery),
    responses((status = 200, body = ApiKeyPage), Problems))]
pub(crate) async fn list_api_keys(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PageQuery>,
) -> Answer<ApiKeyPage> {
    caller.require_admin()?;
    let keys = api_key::list(&state).await?;
    let (items, next_cursor) =
        paginate(keys, |k| format!("{:020}\u{0}{}", k.created_ms, k.id), &q)?;
    Ok(axum::Json(ApiKeyPage {
        items: items.into_iter().map(ApiKeyOut::from).collect(),
        next_cursor,
    }))
}

/// Create an API key; the answer holds the key, shown this once.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api-keys", request_body = NewApiKeyIn,
    responses((status = 201, body = NewApiKeyOut), Problems))]
pub(crate) async fn create_api_key(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewApiKeyIn>,
) -> Result<(StatusCode, axum::Json<NewApiKeyOut>), Problem> {
    caller.require_admin()?;
    let scope = match body.scope.as_deref() {
        None => Scope::Files,
        Some(s) => Scope::parse(s).ok_or(ApiError::Invalid("scope is admin or files"))?,
    };
    let (record, key) = api_key::create(&state, &body.name, scope, body.origins)
        .await?
        .map_err(ApiError::Invalid)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(NewApiKeyOut {
            key: key.expose().to_owned(),
            info: record.into(),
        }),
    ))
}

/// One API key.
#[utoipa::path(get, path = "/api/v1/api-keys/{id}", tag = "api-keys",
    params(("id" = String, Path, description = "key id")),
    responses((status = 200, body = ApiKeyOut), Problems))]
pub(crate) async fn get_api_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Answer<ApiKeyOut> {
    caller.require_admin()?;
    let key = api_key::get(&state, &id)
        .await?
        .ok_or_else(Problem::not_found)?;
    Ok(axum::Json(key.into()))
}

/// Revoke an API key: its next request is refused.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api-keys",
    params(("id" = String, Path, description = "key id")),
    responses((status = 204, description = "revoked"), Problems))]
pub(crate) async fn revoke_api_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    caller.require_admin()?;
    if api_key::revoke(&state, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found())
    }
}
