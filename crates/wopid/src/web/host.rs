//! Host pages: `/files/ID/view` and `/files/ID/edit` embed an editor. Each load mints a fresh
//! access token (the web session is the primary authentication) and POSTs it into the editor's
//! frame; the page is never cached, and its Content-Security-Policy frames only the editor.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use wopid_proto::action_url::{Params, expand, ui_llcc_from_accept_language};
use wopid_store::{FileRecord, ResourceKind};

use super::reach::file_grant as grant_for;
use super::session::SignedIn;
use crate::auth::issue::{Issued, Purpose, issue};
use crate::error::ApiError;
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

/// The editor and action a host page opens.
struct Chosen {
    editor: String,
    action_url: String,
    /// The editor's origin, the only one the page frames.
    origin: String,
    favicon: Option<String>,
    /// The action only views the file (its token is read-only).
    view: bool,
}

/// The editor (asked for, else the default for the type) and its action: a new, empty file
/// opens with `editnew` (the editor fills in its template), an edit with `edit`, anything else
/// with `view`. Or the page to answer.
#[allow(clippy::result_large_err)] // the refusal page is the response, built once per request
fn choose(
    state: &AppState,
    file: &FileRecord,
    asked: Option<String>,
    edit: bool,
    language: Option<&str>,
) -> Result<Chosen, Response> {
    let ext = wopid_proto::names::split_ext(&file.name)
        .1
        .trim_start_matches('.')
        .to_lowercase();
    let not_found = |text| message(StatusCode::NOT_FOUND, text);
    let Some(editor_name) = asked.or_else(|| state.editors.default_for(&ext)) else {
        return Err(not_found("No editor is configured for this type of file."));
    };
    let Some(editor) = state.editors.get(&editor_name) else {
        return Err(not_found("No such editor."));
    };
    let Some(loaded) = editor.loaded() else {
        return Err(message(
            StatusCode::SERVICE_UNAVAILABLE,
            "The editor's discovery document is not available yet.",
        ));
    };
    if editor.unprovable() {
        return Err(message(
            StatusCode::SERVICE_UNAVAILABLE,
            "This editor cannot be used: it is configured to require proof keys, but its \
             discovery document publishes none. Ask the administrator to set its proof policy \
             to optional.",
        ));
    }
    let wanted: &[&str] = match (edit, file.size == 0) {
        (true, true) => &["editnew", "edit", "view"],
        (true, false) => &["edit", "view"],
        (false, _) => &["view", "embedview"],
    };
    let Some(action) = wanted.iter().find_map(|a| loaded.discovery.action(&ext, a)) else {
        return Err(not_found("This editor cannot open this type of file."));
    };
    let mut params = Params::new(state.wopi_src(&file.id));
    params.ui_llcc = Some(ui_llcc_from_accept_language(language));
    let action_url = expand(&action.action.urlsrc, &params);
    let Some(origin) = crate::editors::origin_of(&action_url) else {
        return Err(message(
            StatusCode::BAD_GATEWAY,
            "The editor's action URL is not absolute.",
        ));
    };
    Ok(Chosen {
        editor: editor_name,
        action_url,
        origin,
        favicon: action.app.fav_icon_url.clone(),
        view: action.action.name == "view",
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
