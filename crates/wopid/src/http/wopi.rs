//! `/wopi/...`: resolve endpoint, operation and token grant, then dispatch on the operation.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method as HttpMethod, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt as _;
use wopid_proto::body::ShareUrlType;
use wopid_proto::containers::UrlBody;
use wopid_proto::names::relative_target;
use wopid_proto::{Endpoint, LockId, LockRequest, Method, Operation, ProtoError};
use wopid_store::{BlobStream, ResourceKind};

use crate::auth::{Grant, access, tokens};
use crate::error::ApiError;
use crate::ops;
use crate::state::AppState;

/// Largest JSON or text body read whole (PutUserInfo, AddActivities).
const SMALL_BODY: usize = 1 << 20;

/// The access token: the `access_token` query parameter, else `Authorization: Bearer`.
pub(super) fn access_token(query: Option<&str>, headers: &HeaderMap) -> Option<String> {
    if let Some((_, v)) =
        query.and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "access_token"))
    {
        return Some(v.into_owned());
    }
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let rest = auth
        .strip_prefix("Bearer")
        .or_else(|| auth.strip_prefix("bearer"))?;
    let t = rest.trim_start_matches(':').trim();
    (!t.is_empty()).then(|| t.to_owned())
}

pub(super) fn h<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a [u8]> {
    headers.get(name).map(HeaderValue::as_bytes)
}

/// An optional lock header: absent or empty means no lock id.
fn opt_lock(headers: &HeaderMap, name: &str) -> Result<Option<LockId>, ProtoError> {
    match h(headers, name) {
        None | Some(b"") => Ok(None),
        Some(v) => LockId::parse(v).map(Some),
    }
}

/// A required lock header: absent or empty is 400.
fn req_lock(headers: &HeaderMap, name: &str) -> Result<LockId, ProtoError> {
    LockId::parse(h(headers, name).unwrap_or_default())
}

fn body_stream(body: Body) -> BlobStream {
    Box::pin(body.into_data_stream().map_err(std::io::Error::other))
}

fn declared_len(headers: &HeaderMap) -> Option<u64> {
    h(headers, "content-length")
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|s| s.parse().ok())
}

async fn small_body(body: Body) -> Result<bytes::Bytes, ApiError> {
    axum::body::to_bytes(body, SMALL_BODY)
        .await
        .map_err(|_| ProtoError::BadRequest("body too large or unreadable").into())
}

pub(super) fn json<T: serde::Serialize>(
    status: StatusCode,
    extra: &[(&'static str, String)],
    body: &T,
) -> Response {
    let mut resp = (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        serde_json::to_vec(body).unwrap_or_default(),
    )
        .into_response();
    add_headers(&mut resp, extra);
    resp
}

pub(super) fn empty(extra: &[(&'static str, String)]) -> Response {
    let mut resp = StatusCode::OK.into_response();
    add_headers(&mut resp, extra);
    resp
}

fn add_headers(resp: &mut Response, extra: &[(&'static str, String)]) {
    for (name, value) in extra {
        if let Ok(v) = HeaderValue::from_str(value) {
            resp.headers_mut().insert(*name, v);
        }
    }
}

fn item_version(v: i64) -> (&'static str, String) {
    ("x-wopi-itemversion", v.to_string())
}

/// Operations that parse but that wopid does not implement; answered 501 before anything else.
fn unimplemented(op: &Operation) -> Option<String> {
    match op {
        Operation::Unknown(what) => Some(format!("unsupported operation: {what}")),
        _ => None,
    }
}

pub(super) async fn handle(
    State(state): State<AppState>,
    Path(rest): Path<String>,
    method: HttpMethod,
    uri: axum::http::Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let endpoint = Endpoint::parse(&rest).ok_or(ProtoError::NotFound)?;
    let path_and_query = uri.path_and_query().map_or("", |p| p.as_str());
    let m = match method {
        HttpMethod::GET => Method::Get,
        HttpMethod::POST => Method::Post,
        _ => Method::Other,
    };
    let op = Operation::parse(
        m,
        &endpoint,
        h(&headers, "x-wopi-override"),
        headers.contains_key("x-wopi-oldlock"),
    );
    tracing::Span::current().record("op", op.name());
    if let Some(why) = unimplemented(&op) {
        return Err(ProtoError::NotImplemented(why).into());
    }
    let token = access_token(query.as_deref(), &headers).ok_or(ProtoError::Unauthorized)?;
    let id = endpoint.id().unwrap_or_default();
    match endpoint {
        Endpoint::File(_)
        | Endpoint::FileContents(_)
        | Endpoint::FileAncestry(_)
        | Endpoint::FileEcosystem(_) => {
            // The token, the file with its lock, the user and the folder: one store call.
            let req = tokens::verify_file(&state, &token, id).await?;
            let grant = req.grant;
            super::proof::check(&state, &grant, &token, &headers, path_and_query).await?;
            // Permissions are checked again on every request: a revoked share takes effect at once.
            let file = req.file.ok_or(ProtoError::NotFound)?;
            let perms = access::grant_file_access(&state, &grant, &file)
                .await?
                .ok_or(ProtoError::Unauthorized)?;
            let seen = Seen {
                file,
                user: req.user,
                folder: req.folder,
            };
            file_op(&state, &Grant { perms, ..grant }, seen, op, &headers, body).await
        }
        Endpoint::Ecosystem | Endpoint::EcosystemRootContainer => {
            let grant = tokens::verify_kind(&state, &token, ResourceKind::Ecosystem).await?;
            super::proof::check(&state, &grant, &token, &headers, path_and_query).await?;
            super::containers::ecosystem_op(&state, &grant, op, &headers).await
        }
        _ => {
            let grant = tokens::verify(&state, &token, ResourceKind::Container, id).await?;
            super::proof::check(&state, &grant, &token, &headers, path_and_query).await?;
            ops::containers::load(&state, id).await?;
            let perms = access::grant_container_access(&state, &grant, id)
                .await?
                .ok_or(ProtoError::Unauthorized)?;
            super::containers::container_op(&state, &Grant { perms, ..grant }, id, op, &headers)
                .await
        }
    }
}

/// What the request read with its token: the file (with its lock), the user and the file's
/// container.
struct Seen {
    file: wopid_store::FileRecord,
    user: Option<wopid_store::User>,
    folder: Option<wopid_store::Container>,
}

async fn file_op(
    state: &AppState,
    grant: &Grant,
    seen: Seen,
    op: Operation,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    use Operation as O;
    let Seen { file, user, folder } = seen;
    let id = file.id.clone();
    let id = id.as_str();
    let resp = match op {
        O::CheckFileInfo => json(
            StatusCode::OK,
            &[],
            &ops::info::check_file_info(state, grant, &file, user.as_ref(), folder.as_ref()),
        ),
        O::GetFile => {
            let max =
                wopid_proto::headers::max_expected_size(h(headers, "x-wopi-maxexpectedsize"))?;
            let dl = ops::content::get_file_of(state, &file, max, h(headers, "range")).await?;
            let mut b = Response::builder()
                .header(header::CONTENT_TYPE, "application/octet-stream")
                .header(header::ACCEPT_RANGES, "bytes")
                .header("x-wopi-itemversion", dl.version.to_string());
            b = match dl.range {
                Some(r) => b
                    .status(StatusCode::PARTIAL_CONTENT)
                    .header(
                        header::CONTENT_RANGE,
                        format!("bytes {}-{}/{}", r.start, r.end, dl.size),
                    )
                    .header(header::CONTENT_LENGTH, r.len()),
                None => b
                    .status(StatusCode::OK)
                    .header(header::CONTENT_LENGTH, dl.size),
            };
            b.body(Body::from_stream(dl.body))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
        O::PutFile => {
            let req = save_request(headers)?;
            let saved = ops::content::put_file(
                state,
                grant,
                file,
                req,
                body_stream(body),
                declared_len(headers),
            )
            .await?;
            let body =
                serde_json::json!({ "LastModifiedTime": crate::clock::iso8601(saved.modified_ms) });
            json(StatusCode::OK, &[item_version(saved.version)], &body)
        }
        O::Lock | O::UnlockAndRelock | O::RefreshLock | O::Unlock => {
            let new = req_lock(headers, "x-wopi-lock")?;
            let req = match op {
                O::Lock => LockRequest::Lock(new),
                O::UnlockAndRelock => LockRequest::UnlockAndRelock {
                    old: req_lock(headers, "x-wopi-oldlock")?,
                    new,
                },
                O::RefreshLock => LockRequest::Refresh(new),
                _ => LockRequest::Unlock(new),
            };
            let version = ops::locks::lock_op(state, grant, file, &req).await?;
            empty(&[item_version(version)])
        }
        O::GetLock => {
            let (current, version) = ops::locks::get_lock(state, &file);
            empty(&[("x-wopi-lock", current), item_version(version)])
        }
        O::PutRelativeFile => {
            if !grant.perms.can_write_relative() {
                return Err(ProtoError::NotImplemented(
                    "PutRelativeFile is not available to this user".into(),
                )
                .into());
            }
            let target = relative_target(
                h(headers, "x-wopi-suggestedtarget"),
                h(headers, "x-wopi-relativetarget"),
                h(headers, "x-wopi-overwriterelativetarget"),
                &file.name,
            )?;
            let created = ops::relative::put_relative(
                state,
                grant,
                id,
                target,
                body_stream(body),
                declared_len(headers),
            )
            .await?;
            json(StatusCode::OK, &[], &created)
        }
        O::RenameFile => {
            let lock = opt_lock(headers, "x-wopi-lock")?;
            let name =
                ops::relative::rename(state, grant, id, lock, h(headers, "x-wopi-requestedname"))
                    .await?;
            json(StatusCode::OK, &[], &wopid_proto::body::Renamed { name })
        }
        O::DeleteFile => {
            ops::relative::delete(state, grant, id).await?;
            empty(&[])
        }
        O::GetShareUrl => {
            let kind = ShareUrlType::parse(h(headers, "x-wopi-urltype")).ok_or_else(|| {
                ProtoError::NotImplemented(
                    "X-WOPI-UrlType is missing or not ReadOnly/ReadWrite".into(),
                )
            })?;
            let url = ops::misc::share_url(state, grant, id, kind).await?;
            json(
                StatusCode::OK,
                &[],
                &wopid_proto::body::ShareUrl { share_url: url },
            )
        }
        O::PutUserInfo => {
            ops::misc::put_user_info(state, grant, &small_body(body).await?).await?;
            empty(&[])
        }
        O::AddActivities => {
            let out = ops::misc::add_activities(state, grant, id, &small_body(body).await?).await?;
            json(StatusCode::OK, &[], &out)
        }
        O::EnumerateAncestors => json(
            StatusCode::OK,
            &[],
            &ops::misc::ancestors(state, grant, id).await?,
        ),
        O::GetEcosystem => {
            let url = ops::containers::ecosystem_pointer(state, grant).await?;
            json(StatusCode::OK, &[], &UrlBody { url })
        }
        other => {
            return Err(
                ProtoError::NotImplemented(format!("{} is not implemented", other.name())).into(),
            );
        }
    };
    Ok(resp)
}

/// An editor's save header, `X-COOL-WOPI-NAME` or the older `X-LOOL-WOPI-NAME`.
fn editor_header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a [u8]> {
    h(headers, &format!("x-cool-wopi-{name}"))
        .or_else(|| h(headers, &format!("x-lool-wopi-{name}")))
}

fn editor_flag(headers: &HeaderMap, name: &str) -> Option<bool> {
    editor_header(headers, name).and_then(wopid_proto::names::parse_bool)
}

/// The PutFile headers: the lock, the editors' save flags, `X-WOPI-Editors`, and the
/// modification time the editor last saw.
fn save_request(headers: &HeaderMap) -> Result<ops::content::SaveRequest, ProtoError> {
    let text = |v: &[u8]| {
        String::from_utf8_lossy(v)
            .chars()
            .take(1024)
            .collect::<String>()
    };
    let autosave = editor_flag(headers, "isautosave");
    Ok(ops::content::SaveRequest {
        lock_id: opt_lock(headers, "x-wopi-lock")?,
        info: wopid_store::SaveInfo {
            editors: h(headers, "x-wopi-editors").map(text),
            // Without the flag (Office for the web) every save of a lock session is automatic;
            // the session ends with its lock.
            autosave: autosave.unwrap_or(true),
            exit_save: editor_flag(headers, "isexitsave").unwrap_or(false),
            modified_by_user: editor_flag(headers, "ismodifiedbyuser").unwrap_or(true),
            session: None,
        },
        seen_modified: editor_header(headers, "timestamp").map(text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_sources() {
        let mut hm = HeaderMap::new();
        assert_eq!(
            access_token(Some("access_token=abc&x=1"), &hm).as_deref(),
            Some("abc")
        );
        assert_eq!(access_token(Some("x=1"), &hm), None);
        hm.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer tok"),
        );
        assert_eq!(access_token(None, &hm).as_deref(), Some("tok"));
        hm.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer: tok2"),
        );
        assert_eq!(access_token(None, &hm).as_deref(), Some("tok2"));
        assert_eq!(
            access_token(Some("access_token=q"), &hm).as_deref(),
            Some("q")
        );
    }
}
