//! Host pages: `/files/ID/view` and `/files/ID/edit` embed an editor. Each load mints a fresh
//! access token (the web session is the primary authentication) and POSTs it into the editor's
//! frame; the page is never cached, and its Content-Security-Policy frames only the editor.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use wopid_proto::action_url::{Params, expand, ui_llcc_from_accept_language};
use wopid_store::ResourceKind;

use super::pages::{grant_for, html, message};
use super::session::SignedIn;
use crate::auth::tokens;
use crate::error::ApiError;
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
    let ext = wopid_proto::names::split_ext(&file.name)
        .1
        .trim_start_matches('.')
        .to_lowercase();
    let Some(editor_name) = q.editor.clone().or_else(|| state.editors.default_for(&ext)) else {
        return Ok(message(
            StatusCode::NOT_FOUND,
            "No editor is configured for this type of file.",
        ));
    };
    let Some(editor) = state.editors.get(&editor_name) else {
        return Ok(message(StatusCode::NOT_FOUND, "No such editor."));
    };
    let Some(loaded) = editor.loaded() else {
        return Ok(message(
            StatusCode::SERVICE_UNAVAILABLE,
            "The editor's discovery document is not available yet.",
        ));
    };
    let can_write = grant.perms.can_write();
    // A new, empty file opens with `editnew` (the editor fills in its template), an edit with
    // `edit`, anything else with `view`.
    let wanted: &[&str] = match (want_edit && can_write, file.size == 0) {
        (true, true) => &["editnew", "edit", "view"],
        (true, false) => &["edit", "view"],
        (false, _) => &["view", "embedview"],
    };
    let Some(action) = wanted.iter().find_map(|a| loaded.discovery.action(&ext, a)) else {
        return Ok(message(
            StatusCode::NOT_FOUND,
            "This editor cannot open this type of file.",
        ));
    };
    let mut params = Params::new(state.wopi_src(&file.id));
    params.ui_llcc = Some(ui_llcc_from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    ));
    let action_url = expand(&action.action.urlsrc, &params);
    let Some(editor_origin) = super::super::editors::origin_of(&action_url) else {
        return Ok(message(
            StatusCode::BAD_GATEWAY,
            "The editor's action URL is not absolute.",
        ));
    };
    let perms = if action.action.name == "view" {
        crate::auth::Perms::READ_ONLY
    } else {
        grant.perms
    };
    let expires = crate::ops::ecosystem::fresh_expiry(&state);
    let token = tokens::mint(
        &state,
        tokens::Mint {
            user_id: &me.user.id,
            kind: ResourceKind::File,
            resource_id: &file.id,
            perms,
            expires_ms: expires,
            client: Some(&editor_name),
            epoch: me.epoch,
            link: None,
        },
    )
    .await?;
    let close_url = format!("{}/browse/{}", state.base, file.container_id);
    let edit_url = format!("{}?editor={editor_name}", state.host_page(&file.id, "edit"));
    let page = HostPage {
        title: &file.name,
        favicon: action.app.fav_icon_url.as_deref(),
        action_url: &action_url,
        access_token: token.expose(),
        access_token_ttl: expires,
        editor_origin: &editor_origin,
        close_url: &close_url,
        edit_url: &edit_url,
        versions_url: &state.host_page(&file.id, "versions"),
        sharing_url: &state.host_page(&file.id, "sharing"),
    };
    let mut resp = html(StatusCode::OK, page.render());
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
    Ok(resp)
}
