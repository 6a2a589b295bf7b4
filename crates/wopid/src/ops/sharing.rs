//! Who may reach a file or folder and how, the changes its owner makes to that (shares and public
//! links), for the sharing pages and the CLI.

use std::time::Duration;

use base64::Engine as _;
use wopid_store::{Container, FileRecord, ResourceKind};

use crate::auth::issue::{Purpose, issue};
use crate::auth::{Grant, Perms, access};
use crate::error::ApiError;
use crate::state::AppState;
use crate::webhooks::Shared;

/// A file or a folder, as sharing sees it.
#[derive(Debug, Clone)]
pub enum Resource {
    File(FileRecord),
    Folder(Container),
}

impl Resource {
    pub fn id(&self) -> &str {
        match self {
            Self::File(f) => &f.id,
            Self::Folder(c) => &c.id,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Self::File(f) => &f.name,
            Self::Folder(c) => &c.name,
        }
    }

    /// The resource as the webhooks' share events name it.
    pub fn shared(&self) -> Shared<'_> {
        match self {
            Self::File(f) => Shared::File(f),
            Self::Folder(c) => Shared::Container(c),
        }
    }

    pub fn owner_id(&self) -> &str {
        match self {
            Self::File(f) => &f.owner_id,
            Self::Folder(c) => &c.owner_id,
        }
    }

    /// The folders above it, nearest first.
    async fn above(&self, state: &AppState) -> Result<Vec<Container>, ApiError> {
        Ok(match self {
            Self::File(f) => access::chain(state, &f.container_id).await?,
            Self::Folder(c) => {
                let mut chain = access::chain_of(state, c).await?;
                chain.remove(0);
                chain
            }
        })
    }
}

/// How a user reaches the resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum How {
    Owner,
    /// Owns a folder it is in.
    FolderOwner {
        folder: String,
    },
    Shared {
        can_write: bool,
    },
    /// Through a share of a folder it is in.
    Inherited {
        can_write: bool,
        folder: String,
    },
}

/// One line of "who has access".
#[derive(Debug, Clone)]
pub struct Holder {
    pub user_id: String,
    pub login: String,
    pub display_name: String,
    pub how: How,
}

async fn holder(state: &AppState, user_id: &str, how: How) -> Result<Holder, ApiError> {
    let user = state.meta.user(user_id).await?;
    Ok(Holder {
        user_id: user_id.to_owned(),
        login: user.as_ref().map_or_else(String::new, |u| u.login.clone()),
        display_name: user.map_or_else(|| user_id.to_owned(), |u| u.display_name),
        how,
    })
}

/// Everyone who may reach the resource: its owner, the owners of the folders it is in, its own
/// shares, then the shares of those folders (nearest first).
pub async fn holders(state: &AppState, r: &Resource) -> Result<Vec<Holder>, ApiError> {
    let above = r.above(state).await?;
    let mut out = vec![holder(state, r.owner_id(), How::Owner).await?];
    let seen = |out: &Vec<Holder>, id: &str| out.iter().any(|h| h.user_id == id);
    for c in &above {
        if !seen(&out, &c.owner_id) {
            let how = How::FolderOwner {
                folder: c.name.clone(),
            };
            out.push(holder(state, &c.owner_id, how).await?);
        }
    }
    for s in state.meta.shares_on(r.id()).await? {
        let how = How::Shared {
            can_write: s.can_write,
        };
        out.push(holder(state, &s.user_id, how).await?);
    }
    for c in &above {
        for s in state.meta.shares_on(&c.id).await? {
            let how = How::Inherited {
                can_write: s.can_write,
                folder: c.name.clone(),
            };
            out.push(holder(state, &s.user_id, how).await?);
        }
    }
    Ok(out)
}

/// Whether `user_id` manages the resource's shares and links: its owner, or the owner of a
/// folder it is in.
pub async fn manages(state: &AppState, user_id: &str, r: &Resource) -> Result<bool, ApiError> {
    if r.owner_id() == user_id {
        return Ok(true);
    }
    Ok(r.above(state).await?.iter().any(|c| c.owner_id == user_id))
}

/// What a change of sharing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Done,
    /// Only the owner changes or removes shares and other users' links.
    NotOwner,
    /// No such user, share or link.
    Missing,
}

/// Shares the resource with the user signed in as `login`, for `actor`; `Missing`: no such
/// user.
pub async fn share(
    state: &AppState,
    actor: Option<&str>,
    r: &Resource,
    login: &str,
    can_write: bool,
) -> Result<Change, ApiError> {
    let Some(other) = state.meta.user_by_login(login).await? else {
        return Ok(Change::Missing);
    };
    super::files::share(state, actor, r.shared(), &other.id, can_write).await?;
    Ok(Change::Done)
}

/// Changes the permission of an existing share, for the owner `by`.
pub async fn set_share(
    state: &AppState,
    by: &str,
    r: &Resource,
    user_id: &str,
    can_write: bool,
) -> Result<Change, ApiError> {
    if !manages(state, by, r).await? {
        return Ok(Change::NotOwner);
    }
    let shares = state.meta.shares(user_id, &[r.id().to_owned()]).await?;
    if shares.is_empty() {
        return Ok(Change::Missing);
    }
    super::files::share(state, Some(by), r.shared(), user_id, can_write).await?;
    Ok(Change::Done)
}

/// Removes a share, for the owner `by`: the user loses what it gave at once.
pub async fn remove_share(
    state: &AppState,
    by: &str,
    r: &Resource,
    user_id: &str,
) -> Result<Change, ApiError> {
    if !manages(state, by, r).await? {
        return Ok(Change::NotOwner);
    }
    Ok(
        if super::files::unshare(state, Some(by), r.shared(), user_id).await? {
            Change::Done
        } else {
            Change::Missing
        },
    )
}

/// A public link as the sharing page lists it.
#[derive(Debug, Clone)]
pub struct Link {
    /// What names the link in a revocation (the base64 of its hash, never its secret).
    pub id: String,
    pub can_write: bool,
    /// `None`: it does not expire.
    pub expires_ms: Option<i64>,
    pub creator: String,
    pub creator_id: String,
}

/// What "never expires" is stored as.
const NEVER: i64 = i64::MAX;

fn link_id(hash: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash)
}

/// The resource's live public links (share links, the ones GetShareUrl handed out included).
pub async fn links(state: &AppState, r: &Resource) -> Result<Vec<Link>, ApiError> {
    let mut out = Vec::new();
    for t in state.meta.links_on(r.id(), state.now_ms()).await? {
        let creator = state
            .meta
            .user(&t.user_id)
            .await?
            .map_or_else(|| t.user_id.clone(), |u| u.display_name);
        out.push(Link {
            id: link_id(&t.hash),
            can_write: Perms::from_bits(t.perms).can_write(),
            expires_ms: (t.expires_ms != NEVER).then_some(t.expires_ms),
            creator,
            creator_id: t.user_id,
        });
    }
    Ok(out)
}

/// A new public link to the resource for `grant`'s user: the URL (shown once: only its hash is
/// stored) and when it expires. A folder's link only lists and downloads its files, so it is
/// always view-only.
pub async fn create_link(
    state: &AppState,
    grant: &Grant,
    r: &Resource,
    can_write: bool,
    ttl: Option<Duration>,
) -> Result<(String, Option<i64>), ApiError> {
    let (kind, perms) = match r {
        Resource::File(_) if can_write && grant.perms.can_write() => {
            (ResourceKind::ShareLink, Perms::READ_WRITE)
        }
        Resource::File(_) => (ResourceKind::ShareLink, Perms::READ_ONLY),
        Resource::Folder(_) => (ResourceKind::ContainerShareLink, Perms::READ_ONLY),
    };
    let purpose = Purpose::PublicLink {
        from: grant,
        kind,
        id: r.id(),
        perms,
        ttl,
    };
    let issued = issue(state, &grant.user_id, purpose).await?;
    let url = format!("{}/share/{}", state.base, issued.token.expose());
    Ok((
        url,
        (issued.expires_ms != NEVER).then_some(issued.expires_ms),
    ))
}

/// Revokes a link of the resource: its owner may revoke any, other users their own.
pub async fn revoke_link(
    state: &AppState,
    by: &str,
    r: &Resource,
    id: &str,
) -> Result<Change, ApiError> {
    let Ok(hash) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(id) else {
        return Ok(Change::Missing);
    };
    let Some(t) = state.meta.token(&hash).await? else {
        return Ok(Change::Missing);
    };
    let is_link = matches!(
        t.kind,
        ResourceKind::ShareLink | ResourceKind::ContainerShareLink
    );
    if !is_link || t.resource_id != r.id() || t.revoked {
        return Ok(Change::Missing);
    }
    if t.user_id != by && !manages(state, by, r).await? {
        return Ok(Change::NotOwner);
    }
    state.meta.revoke_token(&hash).await?;
    Ok(Change::Done)
}

/// Link lifetimes the web UI offers: (form value, label, duration; `None` never expires).
pub const LINK_TTLS: &[(&str, &str, Option<Duration>)] = &[
    ("1d", "1 day", Some(Duration::from_secs(24 * 3600))),
    ("7d", "7 days", Some(Duration::from_secs(7 * 24 * 3600))),
    ("30d", "30 days", Some(Duration::from_secs(30 * 24 * 3600))),
    ("never", "never expires", None),
];
