//! `POST /api/v1/files/{id}/open`: what an application's page needs to embed an editor for one of
//! its users, with the policy of wopid's own host page (`ops::open::choose`, `auth::issue`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use wopid_store::ResourceKind;

use super::caller::Caller;
use super::model::*;
use super::problem::{Json, Path, Problem};
use super::{Answer, Problems};
use crate::auth::issue::{Issued, Purpose, issue};
use crate::auth::{Perms, access, api_key, tokens};
use crate::error::ApiError;
use crate::ops;
use crate::ops::info::TokenHost;
use crate::ops::open::{NoEditor, Want};
use crate::state::AppState;

/// An application's page URL: absolute http(s), at most 2048 bytes, nothing unprintable.
fn page_url(u: Option<String>) -> Result<Option<String>, Problem> {
    match u {
        None => Ok(None),
        Some(u)
            if u.len() <= 2048
                && (u.starts_with("https://") || u.starts_with("http://"))
                && !u.chars().any(|c| c.is_control() || c.is_whitespace()) =>
        {
            Ok(Some(u))
        }
        Some(_) => Err(ApiError::Invalid("page URLs are absolute http(s) URLs").into()),
    }
}

/// Open a file in an editor for a user: a fresh access token (read-only when the user may only
/// read, or for a view action) that remembers the application's origin and pages, which
/// CheckFileInfo then answers (`PostMessageOrigin`, `CloseUrl`, `HostViewUrl`, `HostEditUrl`,
/// `FileSharingUrl`, `FileVersionUrl`). The origin must be on the API key's allow-list.
#[utoipa::path(post, path = "/api/v1/files/{id}/open", tag = "embedding", request_body = OpenIn,
    params(("id" = String, Path, description = "file id")),
    responses((status = 200, body = OpenOut), Problems))]
pub(crate) async fn open_file(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<OpenIn>,
) -> Answer<OpenOut> {
    if let Some(why) = api_key::invalid_origin(&body.origin) {
        return Err(ApiError::Invalid(why).into());
    }
    if !caller.key.origins.contains(&body.origin) {
        return Err(Problem::forbidden(
            "the origin is not on this API key's allow-list",
        ));
    }
    let host = TokenHost {
        origin: body.origin,
        close_url: page_url(body.close_url)?,
        view_url: page_url(body.view_url)?,
        edit_url: page_url(body.edit_url)?,
        sharing_url: page_url(body.sharing_url)?,
        versions_url: page_url(body.versions_url)?,
    };
    let file = ops::load(&state, &id).await?;
    let user = ops::users::get(&state, &body.user_id).await?;
    if user.disabled {
        return Err(Problem::forbidden("the user is disabled"));
    }
    let Some(perms) = access::file_access(&state, &user.id, &file).await?.perms() else {
        return Err(Problem::forbidden("the user may not open this file"));
    };
    let want = match body.action {
        OpenAction::View => Want::View,
        OpenAction::Edit | OpenAction::Editnew if !perms.can_write() => Want::View,
        OpenAction::Edit => Want::Edit,
        OpenAction::Editnew => Want::EditNew,
    };
    let language = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let chosen = ops::open::choose(&state, &file, body.editor, want, language).map_err(|e| {
        let status = match e {
            NoEditor::NotLoaded | NoEditor::Unprovable => StatusCode::SERVICE_UNAVAILABLE,
            NoEditor::BadActionUrl => StatusCode::BAD_GATEWAY,
            NoEditor::Unknown | NoEditor::CannotOpen | NoEditor::NoneForType => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
        };
        Problem::new(status, e.text())
    })?;
    let perms = if chosen.view { Perms::READ_ONLY } else { perms };
    let fresh = Purpose::Fresh {
        client: Some(&chosen.editor),
        kind: ResourceKind::File,
        id: &file.id,
        perms,
        ttl: None,
        epoch: None,
    };
    let Issued { token, expires_ms } = issue(&state, &user.id, fresh).await?;
    tokens::attach_host(&state, &token, &host.to_json(), expires_ms).await?;
    let page = if perms.can_write() { "edit" } else { "view" };
    Ok(axum::Json(OpenOut {
        wopi_src: state.wopi_src(&file.id),
        access_token: token.expose().to_owned(),
        access_token_ttl: expires_ms,
        action_url: chosen.action_url,
        host_page_url: format!(
            "{}?editor={}",
            state.host_page(&file.id, page),
            chosen.editor
        ),
        editor: chosen.editor,
        action: chosen.action,
        read_only: !perms.can_write(),
    }))
}
