//! The JSON bodies of the management API, and pagination.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wopid_proto::Millis;
use wopid_store::{ApiKey, Container, FileRecord, Share, User, VersionRecord};

use super::problem::Problem;
use axum::http::StatusCode;

/// The default and the largest page.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

/// `limit` (1–1000, default 100) and the `cursor` of the previous page's `next_cursor`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many items at most (1–1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`; absent for the first page.
    pub cursor: Option<String>,
}

/// One page of `items`, ordered by `key` (unique per item): the items after the cursor, and the
/// cursor of the next page when there are more. Cursors are opaque to clients.
pub fn paginate<T>(
    mut items: Vec<T>,
    key: impl Fn(&T) -> String,
    q: &PageQuery,
) -> Result<(Vec<T>, Option<String>), Problem> {
    let limit = match q.limit {
        None => DEFAULT_LIMIT,
        Some(n) if (1..=MAX_LIMIT as u32).contains(&n) => n as usize,
        Some(_) => {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "limit is 1 to 1000",
            ));
        }
    };
    let after = match &q.cursor {
        None => None,
        Some(c) => Some(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    Problem::new(StatusCode::BAD_REQUEST, "not a cursor of this list")
                })?,
        ),
    };
    let mut keyed: Vec<(String, T)> = items.drain(..).map(|t| (key(&t), t)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let rest = keyed
        .into_iter()
        .filter(|(k, _)| after.as_ref().is_none_or(|a| k > a));
    let mut page: Vec<(String, T)> = rest.take(limit + 1).collect();
    let next = if page.len() > limit {
        page.truncate(limit);
        page.last()
            .map(|(k, _)| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(k))
    } else {
        None
    };
    Ok((page.into_iter().map(|(_, t)| t).collect(), next))
}

fn iso(ms: i64) -> String {
    Millis::from_ms(ms).to_iso8601()
}

macro_rules! page_of {
    ($name:ident, $item:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Serialize, ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// The `cursor` of the next page; absent on the last page.
            pub next_cursor: Option<String>,
        }
    };
}

page_of!(UserPage, UserOut, "A page of users.");
page_of!(
    ChildPage,
    ChildOut,
    "A page of a folder's children: folders first, then files."
);
page_of!(SharePage, ShareOut, "A page of shares.");
page_of!(
    VersionPage,
    VersionOut,
    "A page of a file's versions, oldest first."
);
page_of!(ApiKeyPage, ApiKeyOut, "A page of API keys.");

/// A user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    pub id: String,
    /// The sign-in name.
    pub login: String,
    pub display_name: String,
    pub email: Option<String>,
    /// A disabled user cannot sign in, and every credential of the user is void.
    pub disabled: bool,
    pub admin: bool,
}

impl From<User> for UserOut {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            login: u.login,
            display_name: u.display_name,
            email: u.email,
            disabled: u.disabled,
            admin: u.admin,
        }
    }
}

/// A user to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserIn {
    /// The sign-in name (unique).
    pub login: String,
    /// Defaults to the sign-in name.
    pub display_name: Option<String>,
    pub email: Option<String>,
    /// At least 8 characters; without one the user cannot sign in with a password.
    pub password: Option<String>,
    /// Administers wopid (the first user created always does).
    #[serde(default)]
    pub admin: bool,
}

/// Changes to a user; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub display_name: Option<String>,
    /// An empty string removes the address.
    pub email: Option<String>,
    /// A new password voids the user's sessions and tokens.
    pub password: Option<String>,
    /// `true` disables the user (and voids every credential); `false` enables the user again.
    pub disabled: Option<bool>,
    pub admin: Option<bool>,
}

/// A folder.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContainerOut {
    pub id: String,
    pub name: String,
    /// Absent for a user's root folder.
    pub parent_id: Option<String>,
    pub owner_id: String,
}

impl From<Container> for ContainerOut {
    fn from(c: Container) -> Self {
        Self {
            id: c.id,
            name: c.name,
            parent_id: c.parent_id,
            owner_id: c.owner_id,
        }
    }
}

/// A file's metadata.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileOut {
    pub id: String,
    pub name: String,
    pub container_id: String,
    pub owner_id: String,
    pub size: u64,
    /// Grows with every new content.
    pub version: i64,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    /// When the content last changed (ISO 8601, UTC).
    pub modified: String,
    /// An editor holds the file's lock now.
    pub locked: bool,
}

impl FileOut {
    pub fn new(f: FileRecord, now_ms: i64) -> Self {
        Self {
            locked: f.lock_id.is_some() && f.lock_expires_ms > now_ms,
            id: f.id,
            name: f.name,
            container_id: f.container_id,
            owner_id: f.owner_id,
            size: f.size,
            version: f.version,
            sha256: f.sha256,
            modified: iso(f.modified_ms),
        }
    }
}

/// What a folder holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChildKind {
    Folder,
    File,
}

/// One child of a folder.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChildOut {
    pub kind: ChildKind,
    pub id: String,
    pub name: String,
    /// Files only.
    pub size: Option<u64>,
    /// Files only.
    pub version: Option<i64>,
    /// Files only (ISO 8601, UTC).
    pub modified: Option<String>,
}

impl ChildOut {
    pub fn folder(c: Container) -> Self {
        Self {
            kind: ChildKind::Folder,
            id: c.id,
            name: c.name,
            size: None,
            version: None,
            modified: None,
        }
    }

    pub fn file(f: FileRecord) -> Self {
        Self {
            kind: ChildKind::File,
            id: f.id,
            name: f.name,
            size: Some(f.size),
            version: Some(f.version),
            modified: Some(iso(f.modified_ms)),
        }
    }
}

/// A new folder.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFolderIn {
    pub name: String,
}

/// Rename and/or move a folder.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FolderPatch {
    /// The new name (409 when taken in its parent).
    pub name: Option<String>,
    /// The folder to move it into (not itself nor one inside it; its owner must be able to write
    /// there).
    pub parent_id: Option<String>,
}

/// Rename and/or move a file.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilePatch {
    /// The new name, exactly (409 when taken in the folder).
    pub name: Option<String>,
    /// The folder to move the file into (its owner must be able to write there).
    pub container_id: Option<String>,
}

/// The name of a file to create.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NewFileQuery {
    /// The file's name with its extension; a taken name gets the first free numbered variant.
    pub name: String,
}

/// One version of a file.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionOut {
    pub version: i64,
    pub size: u64,
    pub sha256: String,
    /// ISO 8601, UTC.
    pub modified: String,
    pub author_id: String,
}

impl From<VersionRecord> for VersionOut {
    fn from(v: VersionRecord) -> Self {
        Self {
            version: v.version,
            size: v.size,
            sha256: v.sha256,
            modified: iso(v.modified_ms),
            author_id: v.author_id,
        }
    }
}

/// A share of a file or folder with a user.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareOut {
    pub resource_id: String,
    pub user_id: String,
    /// The user may edit (else only view).
    pub can_write: bool,
}

impl From<Share> for ShareOut {
    fn from(s: Share) -> Self {
        Self {
            resource_id: s.resource_id,
            user_id: s.user_id,
            can_write: s.can_write,
        }
    }
}

/// A share's permission.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareIn {
    pub can_write: bool,
}

/// Which tokens to revoke.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeIn {
    /// Only the user's tokens for this file or folder; absent: all of the user's tokens and
    /// sessions.
    pub resource_id: Option<String>,
}

/// How many stored tokens were revoked.
#[derive(Debug, Serialize, ToSchema)]
pub struct Revoked {
    pub revoked: u64,
}

/// What to open a file for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OpenAction {
    View,
    Edit,
    Editnew,
}

/// Open a file in an editor for a user, inside the calling application's page.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenIn {
    /// The user the editor acts for.
    pub user_id: String,
    pub action: OpenAction,
    /// A configured editor's name; absent: the default editor for the file's type.
    pub editor: Option<String>,
    /// The origin of the page that embeds the editor (on the API key's allow-list); CheckFileInfo
    /// answers it as `PostMessageOrigin`.
    pub origin: String,
    /// CheckFileInfo's `CloseUrl`.
    pub close_url: Option<String>,
    /// CheckFileInfo's `HostViewUrl`.
    pub view_url: Option<String>,
    /// CheckFileInfo's `HostEditUrl`.
    pub edit_url: Option<String>,
    /// CheckFileInfo's `FileSharingUrl`.
    pub sharing_url: Option<String>,
    /// CheckFileInfo's `FileVersionUrl`.
    pub versions_url: Option<String>,
}

/// What the application's page needs to embed the editor: POST `access_token` and
/// `access_token_ttl` as a form into a frame loading `action_url`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpenOut {
    pub wopi_src: String,
    pub access_token: String,
    /// When the token expires, in milliseconds since the Unix epoch (WOPI's `access_token_ttl`).
    pub access_token_ttl: i64,
    /// The editor's action URL, placeholders filled.
    pub action_url: String,
    pub editor: String,
    /// The editor's action (`view`, `edit`, `editnew`, `embedview`).
    pub action: String,
    /// The token only reads (the user may only read, or a view action).
    pub read_only: bool,
    /// wopid's own host page for the file (for a signed-in wopid user).
    pub host_page_url: String,
}

/// An API key (never the key itself, which is shown once when created).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyOut {
    pub id: String,
    pub name: String,
    /// `admin` or `files`.
    pub scope: String,
    /// Page origins the key may open files for.
    pub origins: Vec<String>,
    /// ISO 8601, UTC.
    pub created: String,
    pub revoked: bool,
}

impl From<ApiKey> for ApiKeyOut {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            name: k.name,
            scope: k.scope,
            origins: k.origins,
            created: iso(k.created_ms),
            revoked: k.revoked,
        }
    }
}

/// A new API key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKeyIn {
    pub name: String,
    /// `admin` or `files` (the default).
    pub scope: Option<String>,
    #[serde(default)]
    pub origins: Vec<String>,
}

/// A created API key, with the key in clear: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewApiKeyOut {
    pub key: String,
    #[serde(flatten)]
    pub info: ApiKeyOut,
}
