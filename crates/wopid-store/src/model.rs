//! The records wopid stores.

/// A user. `login` is the sign-in name; `id` is what WOPI calls the UserId.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub login: String,
    pub display_name: String,
    pub user_info: Option<String>,
    /// The user's credential generation: every credential (session, token, code) records the
    /// generation it was issued in, and revocation raises it.
    pub epoch: i64,
    /// Credentials of an older generation than this are void (`token revoke --user`, a new
    /// password).
    pub revoked_below: i64,
    pub email: Option<String>,
    /// A disabled user cannot sign in; disabling also voids every credential.
    pub disabled: bool,
    /// Administers wopid (the first user created is one).
    pub admin: bool,
}

/// A container (folder). Every user has a root container (no parent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub id: String,
    pub parent_id: Option<String>,
    pub owner_id: String,
    pub name: String,
}

/// A file's current state. `rev` changes on every change of the row and is what compare-and-swap
/// compares; `version` changes only with the content and never repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    pub id: String,
    pub container_id: String,
    pub owner_id: String,
    pub name: String,
    pub size: u64,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    pub blob_key: String,
    pub version: i64,
    pub modified_ms: i64,
    pub lock_id: Option<String>,
    pub lock_expires_ms: i64,
    pub rev: i64,
    /// The WOPI lock holder's name, when the lock was taken with `X-WOPI-LockUserVisible: true`.
    pub lock_user: Option<String>,
    /// The coauth locks, as last stored (expired ones included until the next change drops them).
    pub coauth_locks: Vec<CoauthLockRecord>,
    /// The content's sequence number: 1 for a new file, raised by every content change.
    pub sequence: i64,
}

/// One coauth lock of a file, stored with the file's row (its WOPI lock's compare-and-swap
/// covers it too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoauthLockRecord {
    pub id: String,
    /// `Coauth` or `CoauthExclusive`; the server decides what they mean.
    pub kind: String,
    pub metadata: String,
    /// The holder's name shown to other co-authors.
    pub user_name: String,
    pub locked_ms: i64,
    pub expires_ms: i64,
}

/// One stored version of a file's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRecord {
    pub file_id: String,
    pub version: i64,
    pub blob_key: String,
    pub size: u64,
    pub sha256: String,
    pub modified_ms: i64,
    pub author_id: String,
    pub info: SaveInfo,
}

/// What an editor said about a save (Collabora's and ONLYOFFICE's save headers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaveInfo {
    /// `X-WOPI-Editors`: the users whose changes are in this save.
    pub editors: Option<String>,
    pub autosave: bool,
    pub exit_save: bool,
    pub modified_by_user: bool,
    /// The editing session (the lock id) the save belongs to.
    pub session: Option<String>,
}

/// A web sign-in session, stored by the hash of its cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub hash: Vec<u8>,
    pub user_id: String,
    /// The CSRF token of the session's forms.
    pub csrf: String,
    pub expires_ms: i64,
    /// The user's credential generation at sign-in.
    pub epoch: i64,
}

/// New content for a file: a blob that is already durable, and who wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub blob_key: String,
    pub size: u64,
    pub sha256: String,
    pub author_id: String,
    pub modified_ms: i64,
}

/// A file to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    pub id: String,
    pub container_id: String,
    pub owner_id: String,
    pub name: String,
    pub content: Content,
}

/// One change to a file, applied only if the file's `rev` is still the one the caller read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileUpdate {
    /// Set or clear the lock; `user` is the holder's name shown to others who conflict with it
    /// (`X-WOPI-LockUserVisible`), `None` when it is not to be shown.
    Lock {
        id: Option<String>,
        expires_ms: i64,
        user: Option<String>,
    },
    /// New content: version + 1, and a version record.
    Content(Content),
    /// New content from an editor's save. With `replaces`, the history row of that version is
    /// replaced by this one (consecutive autosaves coalesced); the file's version still grows.
    Save {
        content: Content,
        info: SaveInfo,
        replaces: Option<i64>,
    },

    /// A new name in the same container.
    Rename(String),
    /// Another container, same name.
    Move { container_id: String },
    /// Replace the coauth locks (the WOPI lock and the content stay).
    Coauth(Vec<CoauthLockRecord>),
}

/// What a resource an access token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    File,
    Container,
    Ecosystem,
    /// A share link handed out by GetShareUrl; never accepted as a WOPI access token.
    ShareLink,
    /// A container share link handed out by GetShareUrl on a container.
    ContainerShareLink,
    /// An OAuth 2.0 access token of the bootstrapper; `resource_id` is the client id.
    OAuth,
    /// An OAuth 2.0 refresh token; `resource_id` is the client id.
    Refresh,
}

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Container => "container",
            Self::Ecosystem => "ecosystem",
            Self::ShareLink => "share",
            Self::ContainerShareLink => "cshare",
            Self::OAuth => "oauth",
            Self::Refresh => "refresh",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "file" => Some(Self::File),
            "container" => Some(Self::Container),
            "ecosystem" => Some(Self::Ecosystem),
            "share" => Some(Self::ShareLink),
            "cshare" => Some(Self::ContainerShareLink),
            "oauth" => Some(Self::OAuth),
            "refresh" => Some(Self::Refresh),
            _ => None,
        }
    }
}

/// An access token as stored: only the SHA-256 of the secret, never the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub hash: Vec<u8>,
    pub user_id: String,
    pub kind: ResourceKind,
    pub resource_id: String,
    /// Permission bits, defined by the server.
    pub perms: i64,
    pub expires_ms: i64,
    pub revoked: bool,
    /// The editor (WOPI client) the token was minted for, whose proof-key policy applies.
    pub client: Option<String>,
    /// The user's credential generation of the authentication the token descends from.
    pub epoch: i64,
    /// For a token redeemed from a share link: the hash of that link, which bounds it.
    pub link: Option<Vec<u8>>,
}

/// A recorded AddActivities activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityRecord {
    pub file_id: String,
    pub activity_id: String,
    pub kind: String,
    pub user_id: String,
    pub body: String,
    pub received_ms: i64,
}

/// A user account with its sign-in data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub id: String,
    pub login: String,
    pub display_name: String,
    pub email: Option<String>,
    /// PHC string of the password hash, if the user can sign in.
    pub password_hash: Option<String>,
}

/// A share: `user_id` may read (and with `can_write`, edit) a file or everything in a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub resource_id: String,
    pub user_id: String,
    pub can_write: bool,
}

/// What deleting a container did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerDeletion {
    Deleted,
    NotEmpty,
    Missing,
}

/// A registered OAuth 2.0 client of the bootstrapper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    pub id: String,
    pub name: String,
    pub redirect_uri: String,
    /// Authorization requests must carry a PKCE S256 challenge (the default: every client is
    /// public, without a secret).
    pub require_pkce: bool,
}

/// An authorization code, stored by the hash of its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCode {
    pub hash: Vec<u8>,
    pub client_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    /// PKCE S256 challenge, when the client sent one.
    pub code_challenge: Option<String>,
    pub expires_ms: i64,
    /// The user's credential generation at sign-in.
    pub epoch: i64,
}

/// What a request on a file reads first, in one engine call: its access token, the file the
/// request names (with its lock; `None` when there is no such file), the token's user, the
/// file's container and the token's revocation floor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenFile {
    pub token: TokenRecord,
    pub file: Option<FileRecord>,
    pub user: Option<User>,
    pub folder: Option<Container>,
    /// The oldest credential generation still valid for the token's user on its resource (what
    /// `token_floor` answers): a token of an older `epoch` is void.
    pub floor: i64,
    /// What the application that opened the file through the management API told wopid about
    /// its own pages (JSON, see `TokenHost` in the server), when the token was minted for it.
    pub host: Option<String>,
}

/// What rotating a refresh token did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// The old token is revoked and the new ones are issued in its family.
    Rotated,
    /// The token had already been used (or revoked): its whole family is now revoked.
    Reused,
    /// Unknown, expired, not a refresh token, or its family was revoked: nothing changed.
    Invalid,
}

/// What a trash entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrashKind {
    File,
    Container,
}

impl TrashKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Container => "folder",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "file" => Some(Self::File),
            "folder" => Some(Self::Container),
            _ => None,
        }
    }
}

/// An item deleted into its owner's trash: a file, or a container with everything it held. It
/// keeps its folder (`parent_id`) and name, so that it can go back where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrashEntry {
    pub kind: TrashKind,
    pub id: String,
    pub name: String,
    /// The folder it was deleted from.
    pub parent_id: String,
    pub owner_id: String,
    pub trashed_ms: i64,
}

/// What moving a container to the trash did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trashing {
    Trashed,
    /// Asked only for an empty container, and it holds something.
    NotEmpty,
    /// A file inside holds a live lock.
    Locked,
    /// No such container (or a root, or already in the trash).
    Missing,
}

/// What taking an item out of the trash did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restoring {
    Restored,
    /// The target folder has an item of that name.
    NameTaken,
    /// No such trash entry, or the target folder is not there (or is in the trash).
    Missing,
}

/// A key of the management API, stored by the SHA-256 of the key; `id` is its public part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub hash: Vec<u8>,
    /// `admin` or `files`; the server decides what each allows.
    pub scope: String,
    /// The page origins the key may open files for.
    pub origins: Vec<String>,
    pub created_ms: i64,
    pub revoked: bool,
}

/// A change to a user's account; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChange {
    pub display_name: Option<String>,
    /// `Some(None)` clears the address.
    pub email: Option<Option<String>>,
    /// Disabling also voids every credential of the user (as `revoke_tokens(user, None)`).
    pub disabled: Option<bool>,
    pub admin: Option<bool>,
}

/// What the installation holds: people, files, and the bytes of their current contents and of
/// every kept version (the current one included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StorageTotals {
    pub users: u64,
    pub disabled_users: u64,
    pub folders: u64,
    pub files: u64,
    pub versions: u64,
    pub current_bytes: u64,
    pub version_bytes: u64,
}

/// What moving a container did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerMove {
    Moved,
    NameTaken,
    /// The target is the container itself or one of its descendants.
    IntoItself,
    /// No such container or target (or the container is a root).
    Missing,
}
