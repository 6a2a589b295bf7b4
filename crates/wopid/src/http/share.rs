//! Share links from GetShareUrl (`/share/TOKEN` downloads the file, or lists a shared container)
//! and the signed download URLs of CheckFileInfo.

use askama::Template as _;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use wopid_store::ResourceKind;

use crate::auth::{Access, access, tokens};
use crate::error::ApiError;
use crate::ops;
use crate::respond::send_file;
use crate::state::AppState;

pub(super) async fn download(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    if let Ok(grant) = tokens::verify_kind(&state, &token, ResourceKind::ShareLink).await {
        let file = ops::load(&state, &grant.resource_id).await?;
        // A link gives no more than its creator has now.
        if access::file_access(&state, &grant.user_id, &file).await? == Access::None {
            return Err(wopid_proto::ProtoError::Unauthorized.into());
        }
        return send_file(&state, &file).await;
    }
    let grant = tokens::verify_kind(&state, &token, ResourceKind::ContainerShareLink).await?;
    let container = ops::containers::load(&state, &grant.resource_id).await?;
    if access::container_access(&state, &grant.user_id, &container.id).await? == Access::None {
        return Err(wopid_proto::ProtoError::Unauthorized.into());
    }
    let files: Vec<(String, String, u64)> = state
        .meta
        .list_files(Some(&container.id))
        .await?
        .into_iter()
        .map(|f| {
            (
                format!("{}/share/{token}/{}", state.base, f.id),
                f.name,
                f.size,
            )
        })
        .collect();
    let html = SharedFolder {
        name: &container.name,
        files: &files,
    }
    .render()
    .map_err(|_| wopid_proto::ProtoError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            // Never framed (clickjacking), nothing but its own inline style, and the token in
            // its URL is not sent on as a referrer.
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
            ),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        html,
    )
        .into_response())
}

#[derive(askama::Template)]
#[template(path = "shared_folder.html")]
struct SharedFolder<'a> {
    name: &'a str,
    files: &'a [(String, String, u64)],
}

/// `/share/TOKEN/FILE`: a file of a shared container.
pub(super) async fn download_in_folder(
    State(state): State<AppState>,
    Path((token, file_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let grant = tokens::verify_kind(&state, &token, ResourceKind::ContainerShareLink).await?;
    let file = ops::load(&state, &file_id).await?;
    if file.container_id != grant.resource_id {
        return Err(wopid_proto::ProtoError::NotFound.into());
    }
    if access::container_access(&state, &grant.user_id, &grant.resource_id).await? == Access::None {
        return Err(wopid_proto::ProtoError::Unauthorized.into());
    }
    send_file(&state, &file).await
}

#[derive(serde::Deserialize)]
pub(super) struct Signed {
    #[serde(default)]
    u: String,
    #[serde(default)]
    e: i64,
    #[serde(default)]
    t: String,
    #[serde(default)]
    s: String,
}

/// `/download/ID?u=&e=&t=&s=`: the signed `FileUrl`/`DownloadUrl` of CheckFileInfo. It works
/// only while the token that asked for it does (revocation included), and access is checked
/// again as for that token's requests, so a revoked share stops it at once.
pub(super) async fn signed_download(
    State(state): State<AppState>,
    Path(file_id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<Signed>,
) -> Result<Response, ApiError> {
    let valid = crate::auth::signed::verify(&state.url_key, &file_id, &q.u, q.e, &q.t, &q.s)
        && q.e > state.now_ms();
    if !valid {
        return Err(wopid_proto::ProtoError::Unauthorized.into());
    }
    let grant = tokens::verify_reference(&state, &q.t, ResourceKind::File).await?;
    if grant.resource_id != file_id || grant.user_id != q.u {
        return Err(wopid_proto::ProtoError::Unauthorized.into());
    }
    let file = ops::load(&state, &file_id).await?;
    if crate::auth::access::grant_file_access(&state, &grant, &file)
        .await?
        .is_none()
    {
        return Err(wopid_proto::ProtoError::Unauthorized.into());
    }
    send_file(&state, &file).await
}
