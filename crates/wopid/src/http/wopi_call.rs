//! The extractor of `/wopi/...` requests: the operation, then token → proof → access once per
//! endpoint family, then the operation's typed arguments. Handlers receive a [`WopiCall`] and
//! never read a WOPI header themselves.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use wopid_proto::{ProtoError, Route, Target, WopiRequest};
use wopid_store::{Container, FileRecord, ResourceKind, User};

use super::headers::{Hdrs, method};
use crate::auth::{Grant, access, tokens};
use crate::error::ApiError;
use crate::metrics::OpLabel;
use crate::ops;
use crate::state::AppState;

/// A WOPI request whose caller is authorized, with the resource it addresses already loaded.
pub(super) struct WopiCall {
    pub ctx: Ctx,
    pub req: WopiRequest,
    pub label: OpLabel,
}

/// The caller's grant (limited by their access to the resource now) and the resource.
#[allow(clippy::large_enum_variant)] // one per request, moved once into its dispatcher
pub(super) enum Ctx {
    /// With the token's user and the file's container, read with the token.
    File {
        grant: Grant,
        file: FileRecord,
        user: Option<User>,
        folder: Option<Container>,
        /// The host pages of an application that opened the file (JSON), if it did.
        host: Option<String>,
    },
    Container {
        grant: Grant,
        container: Container,
    },
    Ecosystem {
        grant: Grant,
    },
}

/// A refusal, labelled with the operation when it was known (for the metrics).
pub(super) struct Rejection(Response);

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        self.0
    }
}

fn labelled(err: impl Into<ApiError>, label: Option<OpLabel>) -> Rejection {
    let mut resp = err.into().into_response();
    if let Some(l) = label {
        resp.extensions_mut().insert(l);
    }
    Rejection(resp)
}

impl FromRequestParts<AppState> for WopiCall {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Rejection> {
        let Path(rest) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| Rejection(e.into_response()))?;
        let hdrs = Hdrs(&parts.headers);
        let route = match Route::parse(method(&parts.method), &rest, &hdrs) {
            Ok(route) => route,
            Err(e) => {
                // A path that names no endpoint is not logged with an operation; an unknown
                // operation is, as `Unknown`.
                if matches!(e, ProtoError::NotImplemented(_)) {
                    tracing::Span::current().record("op", "Unknown");
                }
                return Err(labelled(e, None));
            }
        };
        tracing::Span::current().record("op", route.operation.name());
        let label = OpLabel::of(&route.operation);
        // A flat file space (`containers = false`) does not implement the folder operations,
        // whoever asks: like an unknown operation, refused before the token is read.
        if !state.config.containers && route.operation.needs_containers() {
            return Err(labelled(
                ProtoError::NotImplemented(format!(
                    "{} is not offered: containers are switched off on this host",
                    route.operation.name()
                )),
                Some(label),
            ));
        }
        // Co-authoring operations exist only where co-authoring is configured.
        if route.operation.is_coauth() && !crate::ops::coauth::enabled(state) {
            use wopid_proto::Headers as _;
            let asked = hdrs
                .get(wopid_proto::wopi_header::OVERRIDE)
                .map(|o| String::from_utf8_lossy(o).trim().to_ascii_uppercase())
                .unwrap_or_default();
            return Err(labelled(
                ProtoError::NotImplemented(format!(
                    "{} ({asked}) is not offered: co-authoring is not configured on this host",
                    route.operation.name()
                )),
                Some(label),
            ));
        }
        let token = access_token(parts.uri.query(), &parts.headers)
            .ok_or_else(|| labelled(ProtoError::Unauthorized, Some(label)))?;
        let pq = parts.uri.path_and_query().map_or("", |p| p.as_str());
        let ctx = authorize(state, &route.target, &token, &parts.headers, pq)
            .await
            .map_err(|e| labelled(e, Some(label)))?;
        let req = route
            .into_request(&hdrs)
            .map_err(|e| labelled(e, Some(label)))?;
        Ok(Self { ctx, req, label })
    }
}

/// Token, then proof, then the caller's access to the resource as it is now (a revoked share
/// takes effect at once).
async fn authorize(
    state: &AppState,
    target: &Target,
    token: &str,
    headers: &HeaderMap,
    path_and_query: &str,
) -> Result<Ctx, ApiError> {
    match target {
        Target::File(id) => {
            // The token, the file with its lock, the user and the folder: one store call.
            let read = tokens::verify_file(state, token, id.as_str()).await?;
            let grant = read.grant;
            super::proof::check(state, &grant, token, headers, path_and_query).await?;
            let file = read.file.ok_or(ProtoError::NotFound)?;
            let perms = access::grant_file_access(state, &grant, &file)
                .await?
                .ok_or(ProtoError::Unauthorized)?;
            Ok(Ctx::File {
                grant: Grant { perms, ..grant },
                file,
                user: read.user,
                folder: read.folder,
                host: read.host,
            })
        }
        Target::Ecosystem => {
            let grant = tokens::verify_kind(state, token, ResourceKind::Ecosystem).await?;
            super::proof::check(state, &grant, token, headers, path_and_query).await?;
            Ok(Ctx::Ecosystem { grant })
        }
        Target::Container(id) => {
            let grant = tokens::verify(state, token, ResourceKind::Container, id.as_str()).await?;
            super::proof::check(state, &grant, token, headers, path_and_query).await?;
            let container = ops::containers::load(state, id.as_str()).await?;
            let perms = access::grant_container_access(state, &grant, &container)
                .await?
                .ok_or(ProtoError::Unauthorized)?;
            Ok(Ctx::Container {
                grant: Grant { perms, ..grant },
                container,
            })
        }
    }
}

/// The access token: the `access_token` query parameter, else `Authorization: Bearer`.
fn access_token(query: Option<&str>, headers: &HeaderMap) -> Option<String> {
    if let Some((_, v)) =
        query.and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "access_token"))
    {
        return Some(v.into_owned());
    }
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let rest = auth
        .strip_prefix("Bearer")
        .or_else(|| auth.strip_prefix("bearer"))?;
    let t = rest.trim_start_matches(':').trim();
    (!t.is_empty()).then(|| t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn token_sources() {
        let mut hm = HeaderMap::new();
        assert_eq!(
            access_token(Some("access_token=abc&x=1"), &hm).as_deref(),
            Some("abc")
        );
        assert_eq!(access_token(Some("x=1"), &hm), None);
        hm.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer tok"),
        );
        assert_eq!(access_token(None, &hm).as_deref(), Some("tok"));
        hm.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer: tok2"),
        );
        assert_eq!(access_token(None, &hm).as_deref(), Some("tok2"));
        assert_eq!(
            access_token(Some("access_token=q"), &hm).as_deref(),
            Some("q")
        );
    }
}
