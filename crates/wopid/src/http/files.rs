//! `/wopi/files/ID…`: each operation is one use case and one response.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use futures_util::TryStreamExt as _;
use wopid_proto::body::{Renamed, ShareUrl};
use wopid_proto::containers::UrlBody;
use wopid_proto::request::{FileOp, PutFile};
use wopid_proto::{ProtoError, wopi_header};
use wopid_store::{BlobStream, Container, FileRecord, User};

use crate::auth::Grant;
use crate::error::ApiError;
use crate::ops;
use crate::respond::{empty, item_version, json};
use crate::state::AppState;

/// Largest JSON or text body read whole (PutUserInfo, AddActivities).
const SMALL_BODY: usize = 1 << 20;

fn body_stream(body: Body) -> BlobStream {
    Box::pin(body.into_data_stream().map_err(std::io::Error::other))
}

fn declared_len(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.parse().ok())
}

async fn small_body(body: Body) -> Result<bytes::Bytes, ApiError> {
    axum::body::to_bytes(body, SMALL_BODY)
        .await
        .map_err(|_| ProtoError::BadRequest("body too large or unreadable").into())
}

/// What the request read with its token: the file (with its lock), the token's user and the
/// file's container.
pub(super) struct Seen {
    pub file: FileRecord,
    pub user: Option<User>,
    pub folder: Option<Container>,
    /// The host pages the token was opened with (JSON), if an application gave them.
    pub host: Option<String>,
}

pub(super) async fn dispatch(
    state: &AppState,
    grant: &Grant,
    seen: Seen,
    op: FileOp,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Seen {
        file,
        user,
        folder,
        host,
    } = seen;
    let ok = StatusCode::OK;
    let lock_request = op.lock_request();
    Ok(match op {
        FileOp::CheckFileInfo => {
            // The folder is named only to a user who can reach it (not to a share's recipient).
            // Its owner does, without another read: the common case of an owner's editor.
            let folder = match folder {
                Some(c) if c.owner_id == grant.user_id || reaches(state, grant, &c.id).await? => {
                    Some(c)
                }
                _ => None,
            };
            let host = host.as_deref().and_then(ops::info::TokenHost::parse);
            let info = ops::info::check_file_info(
                state,
                grant,
                &file,
                user.as_ref(),
                folder.as_ref(),
                host.as_ref(),
            );
            // With co-authoring configured, the CSPP Plus properties too (all or none).
            match ops::coauth::cspp_plus(state, grant, &file).await? {
                None => json(ok, &[], &info),
                Some(plus) => json(
                    ok,
                    &[],
                    &wopid_proto::cspp::WithCsppPlus {
                        info: &info,
                        plus: Some(&plus),
                    },
                ),
            }
        }
        FileOp::GetFile {
            max_expected,
            range,
        } => {
            crate::respond::download(
                ops::content::get_file(state, &file, max_expected, range).await?,
            )
            .await
        }
        FileOp::PutFile(req) => put_file(state, grant, file, req, headers, body).await?,
        FileOp::Lock { .. }
        | FileOp::UnlockAndRelock { .. }
        | FileOp::RefreshLock { .. }
        | FileOp::Unlock { .. } => {
            let req = lock_request.ok_or(ProtoError::NotFound)?;
            // `LockUserVisible` asked: the holder's name is shown to those refused.
            let visible = wopid_proto::request::lock_user_visible(&super::headers::Hdrs(headers))
                .then(|| user.as_ref().map(|u| u.display_name.as_str()))
                .flatten();
            let version = ops::locks::lock_op(state, grant, file, &req, visible).await?;
            empty(&[item_version(version)])
        }
        FileOp::GetLock => {
            let (current, version) = ops::locks::get_lock(state, &file);
            empty(&[(wopi_header::LOCK, current), item_version(version)])
        }
        FileOp::PutRelativeFile { target, size: _ } => {
            let body = body_stream(body);
            let declared = declared_len(headers);
            let created =
                ops::relative::put_relative(state, grant, file, target, body, declared).await?;
            json(ok, &[], &created)
        }
        FileOp::RenameFile {
            lock,
            coauth_lock,
            requested,
        } => {
            let presented =
                wopid_proto::request::presented_lock(lock.as_ref(), coauth_lock.as_ref());
            let name = ops::relative::rename(state, grant, file, presented, requested).await?;
            json(ok, &[], &Renamed { name })
        }
        FileOp::DeleteFile => {
            ops::relative::delete(state, grant, file).await?;
            empty(&[])
        }
        FileOp::GetShareUrl { url_type } => {
            let share_url = ops::misc::share_url(state, grant, &file, url_type).await?;
            json(ok, &[], &ShareUrl { share_url })
        }
        FileOp::PutUserInfo => {
            ops::misc::put_user_info(state, grant, &small_body(body).await?).await?;
            empty(&[])
        }
        FileOp::AddActivities => {
            let body = small_body(body).await?;
            json(
                ok,
                &[],
                &ops::misc::add_activities(state, grant, &file, &body).await?,
            )
        }
        FileOp::EnumerateAncestors => {
            json(ok, &[], &ops::misc::ancestors(state, grant, &file).await?)
        }
        FileOp::GetEcosystem => {
            let url = ops::containers::ecosystem_pointer(state, grant).await?;
            json(ok, &[], &UrlBody { url })
        }
        FileOp::Coauth(op) => {
            let name = user.as_ref().map_or("", |u| u.display_name.as_str());
            super::coauth::dispatch(state, grant, file, name, op, body).await?
        }
    })
}

async fn put_file(
    state: &AppState,
    grant: &Grant,
    file: FileRecord,
    req: PutFile,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body = body_stream(body);
    let saved =
        ops::content::put_file(state, grant, file, req, body, declared_len(headers)).await?;
    let time = wopid_proto::Millis::from_ms(saved.modified_ms).to_iso8601();
    let body = serde_json::json!({ "LastModifiedTime": time });
    Ok(json(StatusCode::OK, &[item_version(saved.version)], &body))
}

/// Whether the token's user can reach folder `id` themselves.
async fn reaches(state: &AppState, grant: &Grant, id: &str) -> Result<bool, ApiError> {
    let acc = crate::auth::access::container_access(state, &grant.user_id, id).await?;
    Ok(acc != crate::auth::Access::None)
}
