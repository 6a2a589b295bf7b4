//! `/wopi/...`: the extractor (`wopi_call`) has parsed the operation and authorized the caller;
//! this hands the typed request to its family's dispatcher and labels the response.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use wopid_proto::{ProtoError, WopiRequest};

use super::wopi_call::{Ctx, WopiCall};
use crate::error::ApiError;
use crate::state::AppState;

/// Takes the request whole (after the extractor's look at its head) rather than a `HeaderMap`
/// and the body, which would copy the header map.
pub(super) async fn handle(
    State(state): State<AppState>,
    call: WopiCall,
    req: Request,
) -> Response {
    let label = call.label;
    let (parts, body) = req.into_parts();
    let mut resp = dispatch(&state, call, &parts.headers, body)
        .await
        .into_response();
    resp.extensions_mut().insert(label);
    resp
}

async fn dispatch(
    state: &AppState,
    call: WopiCall,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    match (call.ctx, call.req) {
        (
            Ctx::File {
                grant,
                file,
                user,
                folder,
                host,
            },
            WopiRequest::File { op, .. },
        ) => {
            let seen = super::files::Seen {
                file,
                user,
                folder,
                host,
            };
            super::files::dispatch(state, &grant, seen, op, headers, body).await
        }
        (Ctx::Container { grant, container }, WopiRequest::Container { op, .. }) => {
            super::containers::dispatch(state, &grant, container, op).await
        }
        (Ctx::Ecosystem { grant }, WopiRequest::Ecosystem(op)) => {
            super::containers::ecosystem_dispatch(state, &grant, op).await
        }
        // Both come from the same path; a mismatch cannot happen.
        _ => Err(ProtoError::NotFound.into()),
    }
}
