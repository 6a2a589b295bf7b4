//! The web side of wopid: sign-in, the file browser and the host pages that embed an editor.
//! Server-rendered, autoescaping templates; assets embedded in the binary; no JS build step.

pub mod host;
pub mod newdoc;
pub mod oidc;
pub mod pages;
pub mod session;

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/browse/{id}", get(pages::browse))
        .route("/browse/{id}/upload", post(pages::upload))
        .route("/browse/{id}/new", post(pages::new_document))
        .route("/browse/{id}/mkdir", post(pages::mkdir))
        .route("/files/{id}/view", get(host::view))
        .route("/files/{id}/edit", get(host::edit))
        .route("/files/{id}/download", get(pages::download))
        .route("/files/{id}/versions", get(pages::versions))
        .route("/files/{id}/sharing", get(pages::sharing))
        .route("/files/{id}/rename", post(pages::rename))
        .route("/files/{id}/move", post(pages::move_file))
        .route("/files/{id}/delete", post(pages::delete))
        .route("/files/{id}/share", post(pages::share))
        .route("/files/{id}/restore", post(pages::restore))
        .route("/assets/{name}", get(asset))
        .route("/avatar/{user}", get(avatar))
        .merge(oidc::routes())
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

/// The signature of a user's avatar URL: HMAC-SHA256 of the user id under the URL signing key,
/// in a domain of its own so it can never pass for a download signature.
fn avatar_mac(state: &AppState, user_id: &str) -> Option<hmac::Hmac<sha2::Sha256>> {
    use hmac::Mac as _;
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(&state.url_key).ok()?;
    m.update(format!("avatar\n{user_id}").as_bytes());
    Some(m)
}

/// The avatar URL handed to editors in `UserExtraInfo`: signed, since the editor's page fetches
/// it from another site, without wopid's session cookie.
pub fn avatar_url(state: &AppState, user_id: &str) -> String {
    use base64::Engine as _;
    use hmac::Mac as _;
    let sig = avatar_mac(state, user_id)
        .map(|m| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(m.finalize().into_bytes()))
        .unwrap_or_default();
    format!("{}/avatar/{user_id}.svg?s={sig}", state.base)
}

#[derive(serde::Deserialize)]
struct AvatarQuery {
    #[serde(default)]
    s: String,
}

/// A round avatar with the user's initial, for editors that show one (`UserExtraInfo`). It
/// answers a signed URL from [`avatar_url`] or a signed-in web session; anything else gets 401,
/// whether the user exists or not, so user ids and display names cannot be probed.
async fn avatar(
    axum::extract::State(state): axum::extract::State<AppState>,
    Path(user): Path<String>,
    axum::extract::Query(q): axum::extract::Query<AvatarQuery>,
    headers: axum::http::HeaderMap,
) -> Response {
    use base64::Engine as _;
    use hmac::Mac as _;
    let id = user.trim_end_matches(".svg");
    let signed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(q.s.as_bytes())
        .ok()
        .zip(avatar_mac(&state, id))
        .is_some_and(|(sig, m)| m.verify_slice(&sig).is_ok());
    let allowed = signed || matches!(session::current(&state, &headers).await, Ok(Some(_)));
    if !allowed {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::CACHE_CONTROL, "no-store")],
            "sign in, or use the avatar URL from CheckFileInfo\n",
        )
            .into_response();
    }
    let name = match state.meta.user(id).await {
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
