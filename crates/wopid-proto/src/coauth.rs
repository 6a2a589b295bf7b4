//! Coauth locks: several clients share a file for co-authoring, each holding a coauth lock of
//! its own id; at most one of them may hold it as `CoauthExclusive` (the one client that may then
//! write). Coauth locks and the exclusive WOPI lock ([`crate::lock`]) exclude each other.
//!
//! The rules are pure: they take the file's coauth table (every coauth lock stored on it), its
//! WOPI lock and `now`, and return the table to store (expired locks dropped) or a refusal. The
//! caller stores the table with a compare-and-swap on the file's state, as for WOPI locks.
//!
//! - [`decide`]: GetCoauthLock, RefreshCoauthLock, UnlockCoauthLock.
//! - [`check_write`]: PutFile and PutChunkedFile; [`check_rename`]: RenameFile;
//!   [`check_unlocked`]: DeleteFile, overwrites (PutRelativeFile, CreateChildFile), restores;
//!   [`check_exclusive_lock`]: Lock and UnlockAndRelock while coauth locks are held.
//! - [`table_version`] and [`table_response`]: GetCoauthTable and `X-WOPI-CoauthTableVersion`.
//! - [`check_sequence`]: `X-WOPI-SequenceNumber` of PutChunkedFile.

use serde::Serialize;

use crate::error::ProtoError;
use crate::lock::{LockId, LockMatch, StoredLock, same_lock};

/// Shortest `X-WOPI-CoauthLockExpirationTimeout`, seconds.
pub const MIN_TIMEOUT_S: u32 = 60;
/// Longest `X-WOPI-CoauthLockExpirationTimeout`, seconds.
pub const MAX_TIMEOUT_S: u32 = 3600;
/// Longest coauth lock id.
pub const MAX_ID_LEN: usize = 1024;
/// Longest coauth lock metadata, in bytes of UTF-8.
pub const MAX_METADATA_LEN: usize = 4096;
/// Most coauth locks one file holds at once.
pub const MAX_LOCKS: usize = 256;
/// The name shown for a holder without one (`UserFriendlyName` may not be empty).
pub const UNNAMED_USER: &str = "Unknown user";

/// A coauth lock id: 1 to 1024 printable ASCII characters, compared byte for byte.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CoauthLockId(String);

impl CoauthLockId {
    /// Parses the raw bytes of `X-WOPI-CoauthLockId`; empty, too long or not printable is 400.
    pub fn parse(raw: &[u8]) -> Result<Self, ProtoError> {
        if raw.is_empty() {
            return Err(ProtoError::BadRequest("coauth lock id is empty"));
        }
        if raw.len() > MAX_ID_LEN {
            return Err(ProtoError::BadRequest(
                "coauth lock id is longer than 1024 characters",
            ));
        }
        if !raw.iter().all(|b| (0x20..0x7f).contains(b)) {
            return Err(ProtoError::BadRequest(
                "coauth lock id is not printable ASCII",
            ));
        }
        Ok(Self(raw.iter().map(|b| char::from(*b)).collect()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for CoauthLockId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CoauthLockId({:?})", self.0)
    }
}

/// `X-WOPI-CoauthLockType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub enum CoauthLockType {
    /// Shared with every other coauth lock.
    Coauth,
    /// Shared with `Coauth` locks, but only its holder may write, and only one client holds it.
    CoauthExclusive,
}

impl CoauthLockType {
    /// `Coauth` or `CoauthExclusive` (ASCII case-insensitive); anything else, `None` and the empty
    /// string included, is 400.
    pub fn parse(raw: &[u8]) -> Result<Self, ProtoError> {
        let t = std::str::from_utf8(raw).unwrap_or_default().trim();
        if t.eq_ignore_ascii_case("Coauth") {
            Ok(Self::Coauth)
        } else if t.eq_ignore_ascii_case("CoauthExclusive") {
            Ok(Self::CoauthExclusive)
        } else {
            Err(ProtoError::BadRequest(
                "X-WOPI-CoauthLockType is not Coauth or CoauthExclusive",
            ))
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Coauth => "Coauth",
            Self::CoauthExclusive => "CoauthExclusive",
        }
    }
}

/// `X-WOPI-CoauthLockExpirationTimeout`: whole seconds, 60 to 3600, else 400.
pub fn parse_timeout(raw: Option<&[u8]>) -> Result<u32, ProtoError> {
    let raw = raw.ok_or(ProtoError::BadRequest(
        "X-WOPI-CoauthLockExpirationTimeout is missing",
    ))?;
    std::str::from_utf8(raw)
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .filter(|t| (MIN_TIMEOUT_S..=MAX_TIMEOUT_S).contains(t))
        .ok_or(ProtoError::BadRequest(
            "X-WOPI-CoauthLockExpirationTimeout is not a number of seconds from 60 to 3600",
        ))
}

/// `X-WOPI-CoauthLockMetadata` as sent (UTF-8, at most 4096 bytes; else 400).
pub fn parse_metadata(raw: &[u8]) -> Result<String, ProtoError> {
    check_metadata(
        std::str::from_utf8(raw)
            .map_err(|_| ProtoError::BadRequest("coauth lock metadata is not UTF-8"))?
            .to_owned(),
    )
}

fn check_metadata(m: String) -> Result<String, ProtoError> {
    if m.len() > MAX_METADATA_LEN {
        return Err(ProtoError::BadRequest(
            "coauth lock metadata is longer than 4096 bytes",
        ));
    }
    Ok(m)
}

/// The request body of GetCoauthLock and RefreshCoauthLock: empty, or a JSON object whose
/// `CoauthLockMetadata` string (when present and not null) is the metadata. Anything else is 400.
pub fn metadata_from_body(body: &[u8]) -> Result<Option<String>, ProtoError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| ProtoError::BadRequest("coauth lock body is not JSON"))?;
    let obj = v.as_object().ok_or(ProtoError::BadRequest(
        "coauth lock body is not a JSON object",
    ))?;
    match obj.get("CoauthLockMetadata") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => check_metadata(s.clone()).map(Some),
        Some(_) => Err(ProtoError::BadRequest("CoauthLockMetadata is not a string")),
    }
}

/// The metadata a request sets: the body's when it has one (even empty), else the header's.
pub fn metadata(header: Option<String>, body: Option<String>) -> Option<String> {
    body.or(header)
}

/// One coauth lock as stored on a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoauthLock {
    pub id: String,
    pub kind: CoauthLockType,
    pub metadata: String,
    /// The holder's name, shown to other co-authors (never empty).
    pub user_friendly_name: String,
    /// When this id first took the lock (kept by refreshes and type changes).
    pub locked_at_ms: i64,
    pub expires_at_ms: i64,
}

impl CoauthLock {
    fn live_at(&self, now_ms: i64) -> bool {
        self.expires_at_ms > now_ms
    }
}

/// The locks of `table` still held at `now`: an expired coauth lock is no lock, for every purpose.
pub fn live(table: &[CoauthLock], now_ms: i64) -> Vec<CoauthLock> {
    table
        .iter()
        .filter(|l| l.live_at(now_ms))
        .cloned()
        .collect()
}

/// A coauth lock operation with its arguments (metadata already resolved with [`metadata`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoauthRequest {
    Get {
        id: CoauthLockId,
        kind: CoauthLockType,
        timeout_s: u32,
        metadata: Option<String>,
    },
    Refresh {
        id: CoauthLockId,
        timeout_s: u32,
        metadata: Option<String>,
    },
    Unlock {
        id: CoauthLockId,
    },
}

/// The lock mechanism a 409 names in `X-WOPI-ConflictingMechanism`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// The exclusive WOPI lock (`Lock`).
    WopiLock,
    /// Coauth locks, none exclusive.
    CoauthLock,
    /// A coauth lock of type `CoauthExclusive`.
    CoauthExclusiveLock,
}

impl Mechanism {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WopiLock => "WOPI-Lock",
            Self::CoauthLock => "WOPI-CoauthLock",
            Self::CoauthExclusiveLock => "WOPI-CoauthExclusiveLock",
        }
    }
}

/// A refusal involving coauth locks: 409 with `X-WOPI-Lock` (the WOPI lock, empty when there is
/// none), `X-WOPI-LockFailureReason`, and when known `X-WOPI-ConflictingMechanism` and
/// `X-WOPI-ConflictingLockUsername`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoauthConflict {
    pub mechanism: Option<Mechanism>,
    /// The current WOPI lock id, empty when the file has none.
    pub lock: String,
    pub reason: &'static str,
    /// The WOPI lock's holder, when it was taken with `X-WOPI-LockUserVisible: true`.
    pub lock_user: Option<String>,
}

fn refuse(mechanism: Option<Mechanism>, lock: &str, reason: &'static str) -> ProtoError {
    ProtoError::CoauthConflict(CoauthConflict {
        mechanism,
        lock: lock.to_owned(),
        reason,
        lock_user: None,
    })
}

/// The WOPI lock of a file as the coauth rules see it.
#[derive(Debug, Clone, Copy, Default)]
pub struct WopiLock<'a> {
    pub lock: Option<&'a StoredLock>,
    /// The holder's name, when the lock was taken with `X-WOPI-LockUserVisible: true`.
    pub visible_user: Option<&'a str>,
}

/// The coauth lock operations. `user_friendly_name` names the requesting user (GetCoauthLock
/// stores it). Returns the table to store, without expired locks.
pub fn decide(
    req: &CoauthRequest,
    table: &[CoauthLock],
    wopi: WopiLock<'_>,
    user_friendly_name: &str,
    now_ms: i64,
) -> Result<Vec<CoauthLock>, ProtoError> {
    let mut table = live(table, now_ms);
    let wopi_lock = StoredLock::live(wopi.lock, now_ms);
    let expiry = |t: u32| now_ms.saturating_add(i64::from(t) * 1000);
    match req {
        CoauthRequest::Get {
            id,
            kind,
            timeout_s,
            metadata,
        } => {
            if let Some(l) = wopi_lock {
                return Err(ProtoError::CoauthConflict(CoauthConflict {
                    mechanism: Some(Mechanism::WopiLock),
                    lock: l.id.clone(),
                    reason: "file is locked with a WOPI lock",
                    lock_user: wopi.visible_user.map(str::to_owned),
                }));
            }
            if *kind == CoauthLockType::CoauthExclusive
                && table
                    .iter()
                    .any(|l| l.kind == CoauthLockType::CoauthExclusive && l.id != id.as_str())
            {
                return Err(refuse(
                    Some(Mechanism::CoauthExclusiveLock),
                    "",
                    "another client holds the coauth exclusive lock",
                ));
            }
            let metadata = metadata.clone().unwrap_or_default();
            match table.iter_mut().find(|l| l.id == id.as_str()) {
                Some(l) => {
                    l.kind = *kind;
                    l.metadata = metadata;
                    l.expires_at_ms = expiry(*timeout_s);
                }
                None => {
                    if table.len() >= MAX_LOCKS {
                        return Err(refuse(None, "", "too many coauth locks on this file"));
                    }
                    table.push(CoauthLock {
                        id: id.as_str().to_owned(),
                        kind: *kind,
                        metadata,
                        user_friendly_name: if user_friendly_name.trim().is_empty() {
                            UNNAMED_USER.to_owned()
                        } else {
                            user_friendly_name.to_owned()
                        },
                        locked_at_ms: now_ms,
                        expires_at_ms: expiry(*timeout_s),
                    });
                }
            }
            Ok(table)
        }
        CoauthRequest::Refresh {
            id,
            timeout_s,
            metadata,
        } => {
            let l = table
                .iter_mut()
                .find(|l| l.id == id.as_str())
                .ok_or_else(|| {
                    refuse(
                        None,
                        wopi_lock.map_or("", |l| l.id.as_str()),
                        "no such coauth lock",
                    )
                })?;
            l.expires_at_ms = expiry(*timeout_s);
            if let Some(m) = metadata.as_ref().filter(|m| !m.is_empty()) {
                l.metadata = m.clone();
            }
            Ok(table)
        }
        CoauthRequest::Unlock { id } => {
            let at = table
                .iter()
                .position(|l| l.id == id.as_str())
                .ok_or_else(|| {
                    refuse(
                        None,
                        wopi_lock.map_or("", |l| l.id.as_str()),
                        "no such coauth lock",
                    )
                })?;
            table.remove(at);
            Ok(table)
        }
    }
}

/// The lock a request presents: `X-WOPI-Lock` or `X-WOPI-CoauthLockId` (never both: that is 400
/// when parsed, see [`crate::request::Presented`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Presented {
    #[default]
    None,
    Wopi(LockId),
    Coauth(CoauthLockId),
}

/// What the coauth locks alone say about a write by `presented` (the WOPI lock checked before).
fn coauth_allows(presented: &Presented, table: &[CoauthLock]) -> Result<(), ProtoError> {
    let exclusive = table
        .iter()
        .find(|l| l.kind == CoauthLockType::CoauthExclusive);
    match (exclusive, presented) {
        (Some(x), Presented::Coauth(id)) if x.id == id.as_str() => Ok(()),
        (Some(_), Presented::Coauth(_)) => Err(refuse(
            Some(Mechanism::CoauthExclusiveLock),
            "",
            "another client holds the coauth exclusive lock",
        )),
        (Some(_), _) => Err(refuse(
            Some(Mechanism::CoauthExclusiveLock),
            "",
            "file is locked with a coauth exclusive lock",
        )),
        (None, Presented::Coauth(id)) if table.iter().any(|l| l.id == id.as_str()) => Ok(()),
        (None, Presented::Coauth(_)) => Err(refuse(
            Some(Mechanism::CoauthLock),
            "",
            "coauth lock id does not match a coauth lock of the file",
        )),
        (None, _) => Err(refuse(
            Some(Mechanism::CoauthLock),
            "",
            "file is locked with coauth locks",
        )),
    }
}

/// The WOPI lock's verdict on a request presenting `presented`, when the file has one.
fn wopi_allows(presented: &Presented, l: &StoredLock, mode: LockMatch) -> Result<(), ProtoError> {
    match presented {
        Presented::Wopi(id) if same_lock(&l.id, id.as_str(), mode) => Ok(()),
        Presented::Wopi(_) => Err(refuse(
            Some(Mechanism::WopiLock),
            &l.id,
            "lock id does not match the current lock",
        )),
        Presented::Coauth(_) => Err(refuse(
            Some(Mechanism::WopiLock),
            &l.id,
            "file is locked with a WOPI lock",
        )),
        Presented::None => Err(refuse(
            Some(Mechanism::WopiLock),
            &l.id,
            "file is locked and no lock id was sent",
        )),
    }
}

/// PutFile and PutChunkedFile: a WOPI-locked file takes its lock id; a coauth-locked file takes
/// one of its coauth lock ids (the exclusive holder's, when there is one); an unlocked file takes
/// a write only while it is empty (`size` is the current content's).
pub fn check_write(
    presented: &Presented,
    wopi: Option<&StoredLock>,
    table: &[CoauthLock],
    size: u64,
    now_ms: i64,
    mode: LockMatch,
) -> Result<(), ProtoError> {
    if let Some(l) = StoredLock::live(wopi, now_ms) {
        return wopi_allows(presented, l, mode);
    }
    let table = live(table, now_ms);
    if !table.is_empty() {
        return coauth_allows(presented, &table);
    }
    if size == 0 {
        Ok(())
    } else {
        Err(refuse(None, "", "file is not locked and not empty"))
    }
}

/// RenameFile: as [`check_write`], but an unlocked file can be renamed whatever it presents.
pub fn check_rename(
    presented: &Presented,
    wopi: Option<&StoredLock>,
    table: &[CoauthLock],
    now_ms: i64,
    mode: LockMatch,
) -> Result<(), ProtoError> {
    if let Some(l) = StoredLock::live(wopi, now_ms) {
        return wopi_allows(presented, l, mode);
    }
    let table = live(table, now_ms);
    if table.is_empty() {
        Ok(())
    } else {
        coauth_allows(presented, &table)
    }
}

/// DeleteFile, an overwrite by PutRelativeFile or CreateChildFile, a restore: refused while
/// anybody holds a lock of either kind.
pub fn check_unlocked(
    wopi: Option<&StoredLock>,
    table: &[CoauthLock],
    now_ms: i64,
) -> Result<(), ProtoError> {
    if let Some(l) = StoredLock::live(wopi, now_ms) {
        return Err(refuse(Some(Mechanism::WopiLock), &l.id, "file is locked"));
    }
    let table = live(table, now_ms);
    match table
        .iter()
        .any(|l| l.kind == CoauthLockType::CoauthExclusive)
    {
        true => Err(refuse(
            Some(Mechanism::CoauthExclusiveLock),
            "",
            "file is locked with a coauth exclusive lock",
        )),
        false if !table.is_empty() => Err(refuse(
            Some(Mechanism::CoauthLock),
            "",
            "file is locked with coauth locks",
        )),
        false => Ok(()),
    }
}

/// Lock and UnlockAndRelock: the exclusive WOPI lock cannot be taken while coauth locks are held
/// (checked before [`crate::lock::decide`]).
pub fn check_exclusive_lock(table: &[CoauthLock], now_ms: i64) -> Result<(), ProtoError> {
    let table = live(table, now_ms);
    if table.is_empty() {
        return Ok(());
    }
    let mechanism = if table
        .iter()
        .any(|l| l.kind == CoauthLockType::CoauthExclusive)
    {
        Mechanism::CoauthExclusiveLock
    } else {
        Mechanism::CoauthLock
    };
    Err(refuse(
        Some(mechanism),
        "",
        "file is locked with coauth locks",
    ))
}

/// `X-WOPI-CoauthTableVersion` of a table: changes whenever a lock is taken, released, expires,
/// or changes type or metadata, and not when a lock is only refreshed. It is a hash of the live
/// locks (32 hexadecimal digits), so every node computes the same version without storing one.
pub fn table_version(table: &[CoauthLock], now_ms: i64) -> String {
    let mut locks = live(table, now_ms);
    locks.sort_by(|a, b| a.id.cmp(&b.id));
    let mut h = crate::spooky::Hasher::new(0x636f_6175_7468, 0);
    for l in &locks {
        for part in [
            l.id.as_bytes(),
            l.kind.as_str().as_bytes(),
            l.metadata.as_bytes(),
            l.user_friendly_name.as_bytes(),
        ] {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part);
        }
        h.update(&l.locked_at_ms.to_le_bytes());
    }
    let (a, b) = h.finish();
    format!("{a:016x}{b:016x}")
}

/// One row of the coauth table.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct CoauthTableEntry {
    pub coauth_lock_id: String,
    pub coauth_lock_metadata: String,
    pub coauth_lock_type: CoauthLockType,
    pub user_friendly_name: String,
    /// When the holder took the lock, milliseconds since the Unix epoch.
    pub coauth_lock_time: i64,
}

/// The body of GetCoauthTable, GetCoauthLock, RefreshCoauthLock and UnlockCoauthLock.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct CoauthTable {
    pub coauth_table: Vec<CoauthTableEntry>,
}

impl CoauthTable {
    /// The live locks, in the order they were first taken.
    pub fn of(table: &[CoauthLock], now_ms: i64) -> Self {
        let mut locks = live(table, now_ms);
        locks.sort_by_key(|l| l.locked_at_ms);
        Self {
            coauth_table: locks
                .into_iter()
                .map(|l| CoauthTableEntry {
                    coauth_lock_id: l.id,
                    coauth_lock_metadata: l.metadata,
                    coauth_lock_type: l.kind,
                    user_friendly_name: l.user_friendly_name,
                    coauth_lock_time: l.locked_at_ms,
                })
                .collect(),
        }
    }
}

/// GetCoauthTable: the version to send in `X-WOPI-CoauthTableVersion`, and the body unless the
/// client's `X-WOPI-CoauthTableVersion` (empty means none) is already that version.
pub fn table_response(
    table: &[CoauthLock],
    client_version: Option<&str>,
    now_ms: i64,
) -> (String, Option<CoauthTable>) {
    let version = table_version(table, now_ms);
    let body = match client_version {
        Some(v) if v == version => None,
        _ => Some(CoauthTable::of(table, now_ms)),
    };
    (version, body)
}

/// Largest sequence number: it goes out as a 32-bit signed integer.
pub const MAX_SEQUENCE_NUMBER: u32 = i32::MAX as u32;

/// `X-WOPI-SequenceNumber` of PutChunkedFile: a number from 0 to 2³¹−1, else 400.
pub fn parse_sequence_number(raw: Option<&[u8]>) -> Result<u32, ProtoError> {
    raw.and_then(|r| std::str::from_utf8(r).ok())
        .and_then(|s| s.trim().parse::<u32>().ok())
        .filter(|n| *n <= MAX_SEQUENCE_NUMBER)
        .ok_or(ProtoError::BadRequest(
            "X-WOPI-SequenceNumber is missing or not a number",
        ))
}

/// A PutChunkedFile is based on the content the client last saw: its sequence number must be the
/// file's, else 412 with the current one.
pub fn check_sequence(presented: u32, current: u32) -> Result<(), ProtoError> {
    if presented == current {
        Ok(())
    } else {
        Err(ProtoError::SequenceNumberMismatch { current })
    }
}

/// The sequence number after a content change (the first content of a file has 1).
pub fn next_sequence(current: u32) -> u32 {
    current.saturating_add(1).min(MAX_SEQUENCE_NUMBER)
}

#[cfg(test)]
mod tests;
