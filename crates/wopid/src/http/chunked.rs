//! GetChunkedFile and PutChunkedFile: frames in, frames out (docs/coauth.md §8–§9).

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::Response;
use futures_util::TryStreamExt as _;
use wopid_proto::request::CoauthOp;
use wopid_proto::{ProtoError, frame, wopi_header};
use wopid_store::FileRecord;

use crate::auth::Grant;
use crate::error::ApiError;
use crate::ops;
use crate::ops::chunked::PutChunked;
use crate::respond::{empty, item_version};
use crate::state::AppState;

/// Largest GetChunkedFile body: one MessageJSON frame and EndFrame.
const GET_BODY: usize = frame::MAX_MESSAGE_JSON as usize + 2 * frame::HEADER_LEN;

pub(super) async fn dispatch(
    state: &AppState,
    grant: &Grant,
    file: FileRecord,
    op: CoauthOp,
    body: Body,
) -> Result<Response, ApiError> {
    match op {
        CoauthOp::GetChunkedFile => {
            let bytes = axum::body::to_bytes(body, GET_BODY)
                .await
                .map_err(|_| ProtoError::BadRequest("body too large or unreadable"))?;
            let dl = ops::chunked::get_chunked_file(state, &file, &bytes).await?;
            let (name, value) = item_version(dl.version);
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/octet-stream")
                .header(wopi_header::SEQUENCE_NUMBER, dl.sequence.to_string())
                .header(name, value)
                .body(Body::from_stream(dl.body))
                .map_err(|_| ProtoError::BadRequest("response headers").into())
        }
        CoauthOp::PutChunkedFile {
            sequence_number,
            lock,
            editors,
        } => {
            let args = PutChunked {
                sequence_number,
                lock,
                editors,
            };
            let body = Box::pin(body.into_data_stream().map_err(std::io::Error::other));
            let saved = ops::chunked::put_chunked_file(state, grant, file, args, body).await?;
            Ok(empty(&[
                (wopi_header::SEQUENCE_NUMBER, saved.sequence.to_string()),
                item_version(saved.version),
            ]))
        }
        other => Err(ProtoError::NotImplemented(format!(
            "{} is not implemented",
            other.operation().name()
        ))
        .into()),
    }
}
