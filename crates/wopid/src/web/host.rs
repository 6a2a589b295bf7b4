//! Host pages: `/files/ID/view` and `/files/ID/edit` embed an editor. Each load mints a fresh
//! access token (the web session is the primary authentication) and POSTs it into the editor's
//! frame; the page is never cached, and its Content-Security-Policy frames only the editor.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use wopid_store::{FileRecord, ResourceKind};

use super::reach::file_grant as grant_for;
use super::session::SignedIn;
use crate::auth::issue::{Issued, Purpose, issue};
use crate::error::ApiError;
use crate::ops;
use crate::ops::open::{Chosen, NoEditor, Want};
use crate::page::{html, message};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "host.html")]
struct HostPage<'a> {
    title: &'a str,
    favicon: Option<&'a str>,
    action_url: &'a str,
    access_token: &'a str,
    access_token_ttl: i64,
    editor_origin: &'a str,
    close_url: &'a str,
    edit_url: &'a str,
    versions_url: &'a str,
    sharing_url: &'a str,
}

#[derive(Deserialize, Default)]
pub(crate) struct Choice {
    editor: Option<String>,
}

pub(crate) async fn view(
    state: State<AppState>,
    me: SignedIn,
    id: Path<String>,
    q: Query<Choice>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    page(state, me, id, q, headers, false).await
}

pub(crate) async fn edit(
    state: State<AppState>,
    me: SignedIn,
    id: Path<String>,
    q: Query<Choice>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    page(state, me, id, q, headers, true).await
}

async fn page(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<Choice>,
    headers: HeaderMap,
    want_edit: bool,
) -> Result<Response, ApiError> {
    let (file, grant) = match grant_for(&state, &me, &id, false).await {
        Ok(g) => g,
        Err(r) => return Ok(r),
    };
    let language = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let edit = want_edit && grant.perms.can_write();
    let chosen = match choose(&state, &file, q.editor.clone(), edit, language) {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    let perms = if chosen.view {
        crate::auth::Perms::READ_ONLY
    } else {
        grant.perms
    };
    let fresh = Purpose::Fresh {
        client: Some(&chosen.editor),
        kind: ResourceKind::File,
        id: &file.id,
        perms,
        ttl: None,
        epoch: Some(me.epoch),
    };
    let Issued { token, expires_ms } = issue(&state, &me.user.id, fresh).await?;
    let back = super::reach::back_path(&state, &me, &file.container_id).await?;
    let close_url = format!("{}{back}", state.base);
    let edit_url = format!(
        "{}?editor={}",
        state.host_page(&file.id, "edit"),
        chosen.editor
    );
    let page = HostPage {
        title: &file.name,
        favicon: chosen.favicon.as_deref(),
        action_url: &chosen.action_url,
        access_token: token.expose(),
        access_token_ttl: expires_ms,
        editor_origin: &chosen.origin,
        close_url: &close_url,
        edit_url: &edit_url,
        versions_url: &state.host_page(&file.id, "versions"),
        sharing_url: &state.host_page(&file.id, "sharing"),
    };
    Ok(framed(html(StatusCode::OK, page.render()), &chosen.origin))
}

/// The editor and action of `ops::open::choose`, or the page to answer.
#[allow(clippy::result_large_err)] // the refusal page is the response, built once per request
fn choose(
    state: &AppState,
    file: &FileRecord,
    asked: Option<String>,
    edit: bool,
    language: Option<&str>,
) -> Result<Chosen, Response> {
    let want = if edit { Want::Edit } else { Want::View };
    ops::open::choose(state, file, asked, want, language).map_err(|e| {
        let status = match e {
            NoEditor::NotLoaded | NoEditor::Unprovable => StatusCode::SERVICE_UNAVAILABLE,
            NoEditor::BadActionUrl => StatusCode::BAD_GATEWAY,
            _ => StatusCode::NOT_FOUND,
        };
        message(status, e.text())
    })
}

/// A host page's headers: never cached, framing only the editor's origin.
fn framed(mut resp: Response, editor_origin: &str) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    h.insert(header::EXPIRES, HeaderValue::from_static("-1"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.remove("x-frame-options");
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' {origin}; frame-src {origin}; \
         form-action {origin}; frame-ancestors 'self'; base-uri 'none'",
        origin = editor_origin
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    resp
}
