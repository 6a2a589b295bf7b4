//! The management REST API at `/api/v1`, for applications that embed wopid: API keys, users,
//! folders and files, shares, tokens and `open`, described by an OpenAPI 3.1 document generated
//! from this code (`/api/v1/openapi.json`). Every change goes through `ops` (and `auth` for keys
//! and tokens); every error is an RFC 9457 problem. It imports neither `http` nor `web`.

pub mod caller;
mod files;
mod keys;
pub mod model;
mod open;
pub mod problem;
mod shares;
mod users;

use axum::Router;
use axum::http::Method;
use axum::routing::{MethodRouter, on};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

use crate::state::AppState;
use problem::Problem;

/// The prefix of every route.
pub const PREFIX: &str = "/api/v1";

/// A handler's JSON answer, or a problem.
type Answer<T> = Result<axum::Json<T>, problem::Problem>;

/// Raw bytes (a file's content).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // only its schema is used
pub(crate) struct Binary(Vec<u8>);

/// The errors every operation may answer, as problem details.
#[derive(IntoResponses)]
#[allow(dead_code)] // only its responses are used
pub(crate) enum Problems {
    /// The request is refused: bad input (400, 413, 415, 422), no or a revoked key (401), a
    /// scope or origin that does not allow it (403), no such resource (404), a conflict (409).
    #[response(status = "4XX", content_type = "application/problem+json")]
    Client(Problem),
    /// The server or its storage failed (500, 503).
    #[response(status = "5XX", content_type = "application/problem+json")]
    Server(Problem),
}

struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key made by `wopid api-keys add`."))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "wopid management API", description = "Manage users, files, shares and tokens of a wopid WOPI host, and open files in an editor inside your application."),
    modifiers(&BearerKey),
    components(schemas(Problem)),
    security(("api_key" = [])),
    paths(
        keys::list_api_keys, keys::create_api_key, keys::get_api_key, keys::revoke_api_key,
        users::list_users, users::create_user, users::get_user, users::update_user,
        users::delete_user, users::disable_user, users::user_root, users::user_shares,
        users::revoke_user_tokens,
        files::get_container, files::update_container, files::delete_container,
        files::list_children, files::create_folder, files::create_file,
        files::get_file, files::update_file, files::delete_file, files::download, files::upload,
        files::list_versions, files::restore_version, files::revoke_resource_tokens,
        shares::list_shares, shares::put_share, shares::get_share, shares::delete_share,
        open::open_file,
    ),
    tags(
        (name = "api-keys", description = "The API's keys (admin scope)"),
        (name = "users", description = "Accounts"),
        (name = "files", description = "Folders, files, content and versions"),
        (name = "shares", description = "Sharing files and folders with users"),
        (name = "tokens", description = "Revoking access tokens"),
        (name = "embedding", description = "Opening a file in an editor inside your page"),
    )
)]
pub struct ApiDoc;

/// The OpenAPI document, with wopid's version.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// Every route of the API: method, path (as the OpenAPI document writes it) and handler. The
/// router is built from this list, and a test checks it against the OpenAPI document.
pub fn table() -> Vec<(Method, &'static str, MethodRouter<AppState>)> {
    macro_rules! r {
        ($m:ident, $h:path) => {
            on(axum::routing::MethodFilter::$m, $h)
        };
    }
    vec![
        (
            Method::GET,
            "/api/v1/api-keys",
            r!(GET, keys::list_api_keys),
        ),
        (
            Method::POST,
            "/api/v1/api-keys",
            r!(POST, keys::create_api_key),
        ),
        (
            Method::GET,
            "/api/v1/api-keys/{id}",
            r!(GET, keys::get_api_key),
        ),
        (
            Method::DELETE,
            "/api/v1/api-keys/{id}",
            r!(DELETE, keys::revoke_api_key),
        ),
        (Method::GET, "/api/v1/users", r!(GET, users::list_users)),
        (Method::POST, "/api/v1/users", r!(POST, users::create_user)),
        (Method::GET, "/api/v1/users/{id}", r!(GET, users::get_user)),
        (
            Method::PATCH,
            "/api/v1/users/{id}",
            r!(PATCH, users::update_user),
        ),
        (
            Method::DELETE,
            "/api/v1/users/{id}",
            r!(DELETE, users::delete_user),
        ),
        (
            Method::POST,
            "/api/v1/users/{id}/disable",
            r!(POST, users::disable_user),
        ),
        (
            Method::GET,
            "/api/v1/users/{id}/root",
            r!(GET, users::user_root),
        ),
        (
            Method::GET,
            "/api/v1/users/{id}/shares",
            r!(GET, users::user_shares),
        ),
        (
            Method::POST,
            "/api/v1/users/{id}/tokens/revoke",
            r!(POST, users::revoke_user_tokens),
        ),
        (
            Method::GET,
            "/api/v1/containers/{id}",
            r!(GET, files::get_container),
        ),
        (
            Method::PATCH,
            "/api/v1/containers/{id}",
            r!(PATCH, files::update_container),
        ),
        (
            Method::DELETE,
            "/api/v1/containers/{id}",
            r!(DELETE, files::delete_container),
        ),
        (
            Method::GET,
            "/api/v1/containers/{id}/children",
            r!(GET, files::list_children),
        ),
        (
            Method::POST,
            "/api/v1/containers/{id}/folders",
            r!(POST, files::create_folder),
        ),
        (
            Method::POST,
            "/api/v1/containers/{id}/files",
            r!(POST, files::create_file),
        ),
        (Method::GET, "/api/v1/files/{id}", r!(GET, files::get_file)),
        (
            Method::PATCH,
            "/api/v1/files/{id}",
            r!(PATCH, files::update_file),
        ),
        (
            Method::DELETE,
            "/api/v1/files/{id}",
            r!(DELETE, files::delete_file),
        ),
        (
            Method::GET,
            "/api/v1/files/{id}/content",
            r!(GET, files::download),
        ),
        (
            Method::PUT,
            "/api/v1/files/{id}/content",
            r!(PUT, files::upload),
        ),
        (
            Method::GET,
            "/api/v1/files/{id}/versions",
            r!(GET, files::list_versions),
        ),
        (
            Method::POST,
            "/api/v1/files/{id}/versions/{version}/restore",
            r!(POST, files::restore_version),
        ),
        (
            Method::POST,
            "/api/v1/files/{id}/open",
            r!(POST, open::open_file),
        ),
        (
            Method::POST,
            "/api/v1/resources/{id}/tokens/revoke",
            r!(POST, files::revoke_resource_tokens),
        ),
        (
            Method::GET,
            "/api/v1/resources/{id}/shares",
            r!(GET, shares::list_shares),
        ),
        (
            Method::GET,
            "/api/v1/resources/{id}/shares/{user_id}",
            r!(GET, shares::get_share),
        ),
        (
            Method::PUT,
            "/api/v1/resources/{id}/shares/{user_id}",
            r!(PUT, shares::put_share),
        ),
        (
            Method::DELETE,
            "/api/v1/resources/{id}/shares/{user_id}",
            r!(DELETE, shares::delete_share),
        ),
    ]
}

async fn openapi_json() -> axum::response::Response {
    use axum::response::IntoResponse as _;
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        openapi().to_json().unwrap_or_default(),
    )
        .into_response()
}

/// The API's routes: the table, the OpenAPI document, and problem answers for unknown routes
/// and methods under `/api/v1`. Uploads are bounded by `max_upload_bytes` as they stream.
pub fn routes() -> Router<AppState> {
    let mut by_path: std::collections::BTreeMap<&str, MethodRouter<AppState>> = Default::default();
    for (_, path, handler) in table() {
        let merged = match by_path.remove(path) {
            Some(existing) => existing.merge(handler),
            None => handler,
        };
        by_path.insert(path, merged);
    }
    let mut router = Router::new();
    for (path, handler) in by_path {
        router = router.route(path, handler);
    }
    router
        .route("/api/v1/openapi.json", axum::routing::get(openapi_json))
        .method_not_allowed_fallback(problem::no_method)
        .route("/api/v1", axum::routing::any(problem::no_route))
        .route("/api/v1/{*rest}", axum::routing::any(problem::no_route))
}
