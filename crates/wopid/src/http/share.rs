//! Share links from GetShareUrl: `/share/TOKEN` downloads the file's current content.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use wopid_store::ResourceKind;

use crate::auth::tokens;
use crate::error::ApiError;
use crate::ops;
use crate::state::AppState;

pub(super) async fn download(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let grant = tokens::verify_kind(&state, &token, ResourceKind::ShareLink).await?;
    let file = ops::load(&state, &grant.resource_id).await?;
    let dl = ops::content::get_file(&state, &file.id, u64::MAX, None).await?;
    let disposition = format!("attachment; filename*=UTF-8''{}", percent(&file.name));
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_LENGTH, dl.size.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(dl.body),
    )
        .into_response())
}

/// RFC 5987 percent-encoding of a file name.
fn percent(name: &str) -> String {
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
