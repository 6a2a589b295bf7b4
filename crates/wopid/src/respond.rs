//! Response builders shared by the WOPI endpoints (`http`) and the web pages (`web`): JSON and
//! empty answers with extra headers, and a file's content as a WOPI download or an attachment.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use wopid_proto::wopi_header;

use crate::error::ApiError;
use crate::ops;
use crate::ops::content::Download;
use crate::state::AppState;

/// An extra response header.
pub type Extra = (&'static str, String);

pub fn json<T: serde::Serialize>(status: StatusCode, extra: &[Extra], body: &T) -> Response {
    let mut resp = (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        serde_json::to_vec(body).unwrap_or_default(),
    )
        .into_response();
    add_headers(&mut resp, extra);
    resp
}

/// 200 with no body.
pub fn empty(extra: &[Extra]) -> Response {
    let mut resp = StatusCode::OK.into_response();
    add_headers(&mut resp, extra);
    resp
}

fn add_headers(resp: &mut Response, extra: &[Extra]) {
    for (name, value) in extra {
        if let Ok(v) = HeaderValue::from_str(value) {
            resp.headers_mut().insert(*name, v);
        }
    }
}

/// The item version header.
pub fn item_version(v: i64) -> Extra {
    (wopi_header::ITEM_VERSION, v.to_string())
}

/// GetFile's answer: the whole content (200) or a range (206), with its version.
pub fn download(dl: Download) -> Response {
    let mut b = Response::builder()
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::ACCEPT_RANGES, "bytes")
        .header(wopi_header::ITEM_VERSION, dl.version.to_string());
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

/// The file's current content as an attachment.
pub async fn send_file(
    state: &AppState,
    file: &wopid_store::FileRecord,
) -> Result<Response, ApiError> {
    let dl = ops::content::get_file(state, file, u64::MAX, None).await?;
    let disposition = format!("attachment; filename*=UTF-8''{}", percent(&file.name));
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_LENGTH, dl.size.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (
                HeaderName::from_static(wopi_header::ITEM_VERSION),
                dl.version.to_string(),
            ),
        ],
        Body::from_stream(dl.body),
    )
        .into_response())
}

/// RFC 5987 percent-encoding of a file name.
pub(crate) fn percent(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
