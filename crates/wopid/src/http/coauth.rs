//! The co-authoring operations of `/wopi/files/ID…` (reached only when co-authoring is
//! configured: `wopi_call` answers 501 otherwise).

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use wopid_proto::request::CoauthOp;
use wopid_proto::{ProtoError, coauth, wopi_header};
use wopid_store::FileRecord;

use crate::auth::Grant;
use crate::error::ApiError;
use crate::ops;
use crate::ops::coauth::TableAnswer;
use crate::respond::{empty, json};
use crate::state::AppState;

/// Largest body of GetCoauthLock and RefreshCoauthLock (`{"CoauthLockMetadata": …}`, whose text
/// is at most 4 KiB).
const METADATA_BODY: usize = 64 * 1024;

pub(super) async fn dispatch(
    state: &AppState,
    grant: &Grant,
    file: FileRecord,
    user_name: &str,
    op: CoauthOp,
    body: Body,
) -> Result<Response, ApiError> {
    Ok(match op {
        CoauthOp::GetCoauthLock { .. }
        | CoauthOp::RefreshCoauthLock { .. }
        | CoauthOp::UnlockCoauthLock { .. } => {
            let body_metadata = match &op {
                CoauthOp::UnlockCoauthLock { .. } => None,
                _ => {
                    let bytes = axum::body::to_bytes(body, METADATA_BODY)
                        .await
                        .map_err(|_| ProtoError::BadRequest("body too large or unreadable"))?;
                    coauth::metadata_from_body(&bytes)?
                }
            };
            let req = op.lock_request(body_metadata).ok_or(ProtoError::NotFound)?;
            match ops::coauth::lock_op(state, grant, file, user_name, &req).await {
                Ok(answer) => table_response(answer),
                Err(refused) => {
                    // Every coauth lock answer carries the table's version, a refusal too.
                    let mut resp = refused.error.into_response();
                    if let Ok(v) = HeaderValue::from_str(&refused.version) {
                        resp.headers_mut()
                            .insert(wopi_header::COAUTH_TABLE_VERSION, v);
                    }
                    resp
                }
            }
        }
        CoauthOp::GetCoauthTable { known_version } => {
            table_response(ops::coauth::table(state, &file, known_version.as_deref()))
        }
        CoauthOp::GetSequenceNumber => empty(&[(
            wopi_header::SEQUENCE_NUMBER,
            ops::coauth::sequence(&file).to_string(),
        )]),
        CoauthOp::GetChunkedFile | CoauthOp::PutChunkedFile { .. } => {
            super::chunked::dispatch(state, grant, file, op, body).await?
        }
    })
}

/// 200 with the coauth table version (`wopi_header::COAUTH_TABLE_VERSION`) and the table as the body (none when the client holds
/// this version already).
fn table_response(answer: TableAnswer) -> Response {
    let version = (wopi_header::COAUTH_TABLE_VERSION, answer.version);
    match answer.table {
        Some(table) => json(StatusCode::OK, &[version], &table),
        None => empty(&[version]),
    }
}
