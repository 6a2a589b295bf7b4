//! The web side of wopid: sign-in, the file browser (folders, upload, download, new documents
//! and folders, rename, move, delete, versions and restore, sharing), the trash, the sharing
//! pages with public links and the host pages that
//! embed an editor. Server-rendered, autoescaping templates; assets embedded in the binary; no
//! JS build step; every form carries the session's CSRF token. Every change goes through `ops`.

mod admin;
mod browse;
mod bulk;
mod create;
mod files;
mod folders;
mod format;
pub mod host;
pub mod newdoc;
pub mod oidc;
mod reach;
pub mod session;
mod sharing;
mod signin;
mod trash;
mod versions;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::state::AppState;

/// The web pages. Uploads may be as large as `max_upload_bytes` plus room for the multipart
/// framing; other forms keep axum's default body limit.
pub fn routes(state: &AppState) -> Router<AppState> {
    let upload_limit = state
        .config
        .max_upload_bytes
        .saturating_add(create::MULTIPART_OVERHEAD);
    let upload_limit = usize::try_from(upload_limit).unwrap_or(usize::MAX);
    Router::new()
        .route("/", get(browse::home))
        .route("/login", get(signin::login_form).post(signin::login))
        .route("/logout", post(signin::logout))
        .route("/browse/{id}", get(browse::browse))
        .route(
            "/browse/{id}/upload",
            post(create::upload).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/browse/{id}/new", post(create::new_document))
        .route("/browse/{id}/bulk", post(bulk::bulk))
        .route("/browse/{id}/mkdir", post(create::mkdir))
        .route("/files/{id}/view", get(host::view))
        .route("/files/{id}/edit", get(host::edit))
        .route("/files/{id}/download", get(browse::download))
        .route("/files/{id}/versions", get(versions::versions))
        .route("/files/{id}/sharing", get(sharing::sharing))
        .route("/files/{id}/rename", post(files::rename))
        .route("/files/{id}/move", post(files::move_file))
        .route("/files/{id}/delete", post(files::delete))
        .route("/files/{id}/share", post(sharing::share))
        .route("/files/{id}/restore", post(versions::restore))
        .route("/files/{id}/shares/update", post(sharing::update_share))
        .route("/files/{id}/shares/remove", post(sharing::remove_share))
        .route("/files/{id}/links", post(sharing::create_link))
        .route("/files/{id}/links/revoke", post(sharing::revoke_link))
        .route("/folders/{id}/rename", post(folders::rename))
        .route("/folders/{id}/move", post(folders::move_folder))
        .route("/folders/{id}/delete", post(folders::delete))
        .route("/folders/{id}/sharing", get(sharing::folder_sharing))
        .route("/folders/{id}/share", post(sharing::folder_share))
        .route(
            "/folders/{id}/shares/update",
            post(sharing::folder_update_share),
        )
        .route(
            "/folders/{id}/shares/remove",
            post(sharing::folder_remove_share),
        )
        .route("/folders/{id}/links", post(sharing::folder_create_link))
        .route(
            "/folders/{id}/links/revoke",
            post(sharing::folder_revoke_link),
        )
        .route("/trash", get(trash::trash))
        .route("/trash/empty", post(trash::empty))
        .route("/trash/{kind}/{id}/restore", post(trash::restore))
        .route("/admin", get(admin::page))
        .route("/admin/users", post(admin::create_user))
        .route("/admin/users/{id}/password", post(admin::reset_password))
        .route("/admin/users/{id}/disable", post(admin::disable))
        .route("/admin/users/{id}/enable", post(admin::enable))
        .route("/assets/{name}", get(asset))
        .route(
            "/favicon.ico",
            get(|| asset(Path("favicon.svg".to_owned()))),
        )
        .route("/avatar/{user}", get(avatar))
        .merge(oidc::routes())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            signed_in_messages,
        ))
}

/// Message pages (refusals, errors, 404) keep the header of a signed-in user: their name and
/// Sign out.
async fn signed_in_messages(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let headers = req.headers().clone();
    let resp = next.run(req).await;
    if resp
        .extensions()
        .get::<crate::page::MessageParts>()
        .is_none()
    {
        return resp;
    }
    match session::current(&state, &headers).await {
        Ok(Some(me)) => crate::page::with_user(resp, &me.user.display_name, &me.csrf),
        _ => resp,
    }
}

/// Any other address: a page that says so, with the way back (the fallback is outside the
/// routes' layers, so it adds the signed-in header itself).
async fn not_found(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: axum::http::HeaderMap,
) -> Response {
    let page = crate::page::message(StatusCode::NOT_FOUND, "There is no page at this address.");
    match session::current(&state, &headers).await {
        Ok(Some(me)) => crate::page::with_user(page, &me.user.display_name, &me.csrf),
        _ => page,
    }
}

/// The embedded assets.
async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind): (&'static str, &str) = match name.as_str() {
        "wopid.css" => (
            include_str!("../../assets/wopid.css"),
            "text/css; charset=utf-8",
        ),
        "host.css" => (
            include_str!("../../assets/host.css"),
            "text/css; charset=utf-8",
        ),
        "files.js" => (
            include_str!("../../assets/files.js"),
            "text/javascript; charset=utf-8",
        ),
        "favicon.svg" => (include_str!("../../assets/favicon.svg"), "image/svg+xml"),
        "host.js" => (
            include_str!("../../assets/host.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct AvatarQuery {
    #[serde(default)]
    s: String,
}

/// A round avatar with the user's initial, for editors that show one (`UserExtraInfo`). It
/// answers a signed URL (`auth::signed::avatar_url`) or a signed-in web session; anything else gets 401,
/// whether the user exists or not, so user ids and display names cannot be probed.
async fn avatar(
    axum::extract::State(state): axum::extract::State<AppState>,
    Path(user): Path<String>,
    axum::extract::Query(q): axum::extract::Query<AvatarQuery>,
    headers: axum::http::HeaderMap,
) -> Response {
    let id = user.trim_end_matches(".svg");
    let signed = crate::auth::signed::avatar_verify(&state.url_key, id, &q.s);
    let allowed = signed || matches!(session::current(&state, &headers).await, Ok(Some(_)));
    if !allowed {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::CACHE_CONTROL, "no-store")],
            "sign in, or use the avatar URL from CheckFileInfo\n",
        )
            .into_response();
    }
    let name = match crate::ops::browse::user(&state, id).await {
        Ok(Some(u)) => u.display_name,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let initial: String = name
        .chars()
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    let initial = askama::filters::escape(&initial, askama::filters::Html)
        .map(|e| e.to_string())
        .unwrap_or_default();
    let hue = id
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 360;
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"64\" height=\"64\" viewBox=\"0 0 64 64\">\
         <circle cx=\"32\" cy=\"32\" r=\"32\" fill=\"hsl({hue},55%,45%)\"/>\
         <text x=\"32\" y=\"42\" font-family=\"sans-serif\" font-size=\"30\" fill=\"#fff\" text-anchor=\"middle\">{initial}</text></svg>"
    );
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; sandbox",
            ),
        ],
        svg,
    )
        .into_response()
}
