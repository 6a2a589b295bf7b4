//! The Ecosystem endpoint, GetFileWopiSrc and the bootstrapper's objects.

use wopid_proto::ProtoError;
use wopid_proto::containers::{Bootstrap, ContainerWithInfo};
use wopid_store::{FileRecord, ResourceKind, User};

use crate::auth::issue::{Issued, Purpose, issue};
use crate::auth::{Access, Grant, Perms, access, tokens};
use crate::error::ApiError;
use crate::state::AppState;

/// The user's root container as a pointer with a traded token.
pub async fn root_container(
    state: &AppState,
    grant: &Grant,
) -> Result<ContainerWithInfo, ApiError> {
    let root = state
        .meta
        .root_container(&grant.user_id, state.now_ms())
        .await?;
    super::containers::pointer(state, grant, &root).await
}

/// The file a host-specific identifier names: a file id, a WopiSrc or any URL under
/// `/wopi/files/ID`, a host page `/files/ID/...`, or a share link `/share/TOKEN`. Returns the
/// file and, for a share link, the permissions the link itself grants.
async fn resolve(
    state: &AppState,
    ident: &str,
) -> Result<Option<(FileRecord, Option<Perms>)>, ApiError> {
    let ident = ident.trim();
    let path = match ident.find("://") {
        // Only URLs of this host are accepted.
        Some(_) if !ident.starts_with(&format!("{}/", state.base)) => return Ok(None),
        Some(_) => &ident[state.base.len()..],
        None => ident,
    };
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (file_id, link) = match segments.as_slice() {
        [id] => ((*id).to_owned(), None),
        ["wopi", "files", id, ..] | ["files", id, ..] => ((*id).to_owned(), None),
        ["share", token] => {
            match tokens::verify_kind(state, token, ResourceKind::ShareLink).await {
                Ok(g) => (g.resource_id, Some(g.perms)),
                Err(_) => return Ok(None),
            }
        }
        _ => return Ok(None),
    };
    if file_id.len() > 128 {
        return Ok(None);
    }
    Ok(state.meta.file(&file_id).await?.map(|f| (f, link)))
}

/// GetFileWopiSrc: a WopiSrc with a fresh file token for a file the user may open; 404 for
/// anything else, so nobody learns whether a file exists. The token expires at `expires_ms`.
pub async fn file_wopi_src(
    state: &AppState,
    user_id: &str,
    ident: &str,
    perms: Perms,
    expires_ms: i64,
) -> Result<String, ApiError> {
    let Some((file, link)) = resolve(state, ident).await? else {
        return Err(ProtoError::NotFound.into());
    };
    let by_link = match link {
        Some(p) if p.can_write() => Access::Write,
        Some(_) => Access::Read,
        None => Access::None,
    };
    let own = access::file_access(state, user_id, &file).await?;
    let effective = own.max(by_link);
    let perms = effective.limit(perms).ok_or(ProtoError::NotFound)?;
    if by_link > own {
        // Redeeming a share link shares the file with the user, so the access re-checked on
        // every later request holds.
        let share = wopid_store::Share {
            resource_id: file.id.clone(),
            user_id: user_id.to_owned(),
            can_write: by_link == Access::Write,
        };
        state.meta.put_share(&share).await?;
    }

    let derived = Purpose::Derived {
        kind: ResourceKind::File,
        id: &file.id,
        perms,
        expires_ms,
    };
    let issued = issue(state, user_id, derived).await?;
    Ok(format!(
        "{}?access_token={}&access_token_ttl={}",
        state.wopi_src(&file.id),
        issued.token.expose(),
        issued.expires_ms
    ))
}

/// The `Bootstrap` object: an ecosystem URL with a fresh token (OAuth is primary authentication).
pub async fn bootstrap(state: &AppState, user: &User) -> Result<(Bootstrap, i64), ApiError> {
    let fresh = Purpose::Fresh {
        client: None,
        kind: ResourceKind::Ecosystem,
        id: &user.id,
        perms: Perms::READ_WRITE,
        ttl: None,
    };
    let Issued {
        token,
        expires_ms: expires,
    } = issue(state, &user.id, fresh).await?;
    Ok((
        Bootstrap {
            ecosystem_url: format!(
                "{}/wopi/ecosystem?access_token={}",
                state.base,
                token.expose()
            ),
            user_id: user.id.clone(),
            sign_in_name: user.login.clone(),
            user_friendly_name: user.display_name.clone(),
        },
        expires,
    ))
}

/// GetNewAccessToken: a fresh token for the file or container a WopiSrc names.
pub async fn new_access_token(
    state: &AppState,
    user_id: &str,
    wopi_src: &str,
) -> Result<(String, i64), ApiError> {
    let rest = wopi_src
        .strip_prefix(&format!("{}/wopi/", state.base))
        .ok_or(ProtoError::NotFound)?;
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let endpoint = wopid_proto::Endpoint::parse(rest).ok_or(ProtoError::NotFound)?;
    let (kind, id, a) = match endpoint {
        wopid_proto::Endpoint::File(id) => {
            let f = state.meta.file(&id).await?.ok_or(ProtoError::NotFound)?;
            (
                ResourceKind::File,
                id,
                access::file_access(state, user_id, &f).await?,
            )
        }
        wopid_proto::Endpoint::Container(id) => {
            let a = access::container_access(state, user_id, &id).await?;
            (ResourceKind::Container, id, a)
        }
        _ => return Err(ProtoError::NotFound.into()),
    };
    let perms = a.perms().ok_or(ProtoError::NotFound)?;
    let fresh = Purpose::Fresh {
        client: None,
        kind,
        id: &id,
        perms,
        ttl: None,
    };
    let issued = issue(state, user_id, fresh).await?;
    Ok((issued.token.expose().to_owned(), issued.expires_ms))
}
