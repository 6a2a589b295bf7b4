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

/// The first size of a JSON body's buffer: CheckFileInfo's body (about 2 KB) fits without being
/// grown and copied, and a smaller body keeps its buffer only until it is sent.
const JSON_BUFFER: usize = 4096;

pub fn json<T: serde::Serialize>(status: StatusCode, extra: &[Extra], body: &T) -> Response {
    let mut buf = Vec::with_capacity(JSON_BUFFER);
    if serde_json::to_writer(&mut buf, body).is_err() {
        buf.clear();
    }
    let mut resp = Response::new(Body::from(bytes::Bytes::from(buf)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
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

/// Bodies up to this size are sent as one buffer: the disk engine reads a blob this small whole
/// (see `wopid_store`'s disk engine), and hyper then writes the head and the whole body at once
/// with a known length, instead of polling a stream for its end.
const WHOLE_BODY: u64 = 256 * 1024;

/// A download's body: a small one gathered into one buffer (without a copy when it comes as one
/// chunk, as a small disk blob does), a larger one streamed.
async fn download_body(mut body: wopid_store::BlobStream, len: u64) -> Body {
    use futures_util::StreamExt as _;
    if len > WHOLE_BODY {
        return Body::from_stream(body);
    }
    // The answer's head promises `len` bytes; an error, or more bytes than that, cuts the
    // connection, as a failing stream does.
    let cut = |e: std::io::Error| {
        Body::from_stream(futures_util::stream::once(async {
            Err::<bytes::Bytes, _>(e)
        }))
    };
    let mut whole: Option<bytes::Bytes> = None;
    let mut gathered: Option<bytes::BytesMut> = None;
    let mut total = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => return cut(e),
        };
        total += chunk.len() as u64;
        if total > len {
            return cut(std::io::Error::other("the blob is longer than its record"));
        }
        match (&mut gathered, whole.take()) {
            (Some(g), _) => g.extend_from_slice(&chunk),
            (None, None) => whole = Some(chunk),
            (None, Some(first)) => {
                let mut g = bytes::BytesMut::with_capacity(usize::try_from(len).unwrap_or(0));
                g.extend_from_slice(&first);
                g.extend_from_slice(&chunk);
                gathered = Some(g);
            }
        }
    }
    match (gathered, whole) {
        (Some(g), _) => Body::from(g.freeze()),
        (None, Some(w)) => Body::from(w),
        (None, None) => Body::empty(),
    }
}

/// GetFile's answer: the whole content (200) or a range (206), with its version.
pub async fn download(dl: Download) -> Response {
    let len = dl.range.map_or(dl.size, |r| r.len());
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
    b.body(download_body(dl.body, len).await)
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
