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

/// A share link named by GetFileWopiSrc: the link in clear and what it grants now.
struct Redeemed<'a> {
    token: &'a str,
    grant: Grant,
}

/// The file a host-specific identifier names: a file id, a WopiSrc or any URL under
/// `/wopi/files/ID`, a host page `/files/ID/...`, or a share link `/share/TOKEN`. Returns the
/// file and, for a share link, the link.
async fn resolve<'a>(
    state: &AppState,
    ident: &'a str,
) -> Result<Option<(FileRecord, Option<Redeemed<'a>>)>, ApiError> {
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
                Ok(grant) => (grant.resource_id.clone(), Some(Redeemed { token, grant })),
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

/// GetFileWopiSrc: a WopiSrc with a token for a file the user may open; 404 for anything else,
/// so nobody learns whether a file exists. The token is traded from `caller` (its permissions,
/// generation and expiry at most). Redeeming a share link of a file the user cannot open as well
/// by their own access gives a token bound to the link: never more than the link says or its
/// creator has at each request, never past the link's expiry or revocation; no share is written.
pub async fn file_wopi_src(
    state: &AppState,
    caller: &Grant,
    ident: &str,
) -> Result<String, ApiError> {
    let Some((file, link)) = resolve(state, ident).await? else {
        return Err(ProtoError::NotFound.into());
    };
    // A caller whose credential is older than a revocation of this file mints nothing for it.
    if caller.epoch < state.meta.token_floor(&caller.user_id, &file.id).await? {
        return Err(ProtoError::NotFound.into());
    }
    let own = access::file_access(state, &caller.user_id, &file).await?;
    let Issued { token, expires_ms } = match link {
        Some(link) => {
            let creator = access::file_access(state, &link.grant.user_id, &file).await?;
            let by_link = if link.grant.perms.can_write() {
                creator
            } else {
                creator.min(Access::Read)
            };
            if by_link > own {
                // Bound to the link, which never lets anyone create files beside this one.
                let perms = by_link
                    .limit(Perms::new(caller.perms.can_write(), false))
                    .ok_or(ProtoError::NotFound)?;
                let redeemed = Purpose::Redeemed {
                    from: caller,
                    id: &file.id,
                    perms,
                    link: link.token,
                    link_expires_ms: link.grant.expires_ms,
                };
                issue(state, &caller.user_id, redeemed).await?
            } else {
                own_token(state, caller, &file, own).await?
            }
        }
        None => own_token(state, caller, &file, own).await?,
    };
    Ok(format!(
        "{}?access_token={}&access_token_ttl={expires_ms}",
        state.wopi_src(&file.id),
        token.expose()
    ))
}

async fn own_token(
    state: &AppState,
    caller: &Grant,
    file: &FileRecord,
    own: Access,
) -> Result<Issued, ApiError> {
    let traded = Purpose::Traded {
        from: caller,
        kind: ResourceKind::File,
        id: &file.id,
        perms: own.limit(caller.perms).ok_or(ProtoError::NotFound)?,
    };
    issue(state, &caller.user_id, traded).await
}

/// The `Bootstrap` object: an ecosystem URL with a token of `primary`, the ecosystem grant an
/// OAuth access token stands for (primary authentication: a fresh lifetime, its generation).
pub async fn bootstrap(
    state: &AppState,
    user: &User,
    primary: &Grant,
) -> Result<Bootstrap, ApiError> {
    let traded = Purpose::Traded {
        from: primary,
        kind: ResourceKind::Ecosystem,
        id: &user.id,
        perms: Perms::READ_WRITE,
    };
    let token = issue(state, &user.id, traded).await?.token;
    Ok(Bootstrap {
        ecosystem_url: format!(
            "{}/wopi/ecosystem?access_token={}",
            state.base,
            token.expose()
        ),
        user_id: user.id.clone(),
        sign_in_name: user.login.clone(),
        user_friendly_name: user.display_name.clone(),
    })
}

/// GetNewAccessToken: a fresh token for the file or container a WopiSrc names, in the
/// credential generation of `primary` (the bootstrapper's OAuth grant).
pub async fn new_access_token(
    state: &AppState,
    primary: &Grant,
    wopi_src: &str,
) -> Result<(String, i64), ApiError> {
    let user_id = primary.user_id.as_str();
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
    let traded = Purpose::Traded {
        from: primary,
        kind,
        id: &id,
        perms,
    };
    let issued = issue(state, user_id, traded).await?;
    Ok((issued.token.expose().to_owned(), issued.expires_ms))
}
