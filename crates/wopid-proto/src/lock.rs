//! Locks: lock ids, their 30-minute expiry, and the decision table of every lock-checked operation.
//!
//! The rules are pure: they take the stored lock and `now` (epoch milliseconds) and say what to do.
//! The caller applies the outcome with a compare-and-swap on the file's state.

use crate::error::ProtoError;

/// A lock lives this long after it was set or last refreshed.
pub const LOCK_TTL_MS: i64 = 30 * 60 * 1000;

/// Longest lock id wopid stores (`SupportsExtendedLockLength`).
pub const MAX_LOCK_LEN: usize = 1024;

/// A lock id as a client sent it: 1 to 1024 printable ASCII characters, compared byte for byte.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct LockId(String);

impl LockId {
    /// Parses the raw bytes of an `X-WOPI-Lock` or `X-WOPI-OldLock` header.
    pub fn parse(raw: &[u8]) -> Result<Self, ProtoError> {
        if raw.is_empty() {
            return Err(ProtoError::BadRequest("lock id is empty"));
        }
        if raw.len() > MAX_LOCK_LEN {
            return Err(ProtoError::BadRequest(
                "lock id is longer than 1024 characters",
            ));
        }
        if !raw.iter().all(|b| (0x20..0x7f).contains(b) || *b == b'\t') {
            return Err(ProtoError::BadRequest("lock id is not printable ASCII"));
        }
        // Checked above: every byte is ASCII.
        Ok(Self(raw.iter().map(|b| char::from(*b)).collect()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Debug for LockId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LockId({:?})", self.0)
    }
}

/// The lock stored on a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLock {
    pub id: String,
    pub expires_at_ms: i64,
}

impl StoredLock {
    /// The lock as it stands at `now`: an expired lock is no lock, for every purpose.
    pub fn live(lock: Option<&StoredLock>, now_ms: i64) -> Option<&StoredLock> {
        lock.filter(|l| l.expires_at_ms > now_ms)
    }
}

/// A lock operation with its parsed headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockRequest {
    Lock(LockId),
    UnlockAndRelock { old: LockId, new: LockId },
    Refresh(LockId),
    Unlock(LockId),
}

/// A refused request: answered 409 with `X-WOPI-Lock: current` (empty when unlocked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub current: String,
    pub reason: &'static str,
}

/// What a lock operation does to the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockOutcome {
    /// Store this lock (new, refreshed or replaced).
    Set(StoredLock),
    /// Remove the lock.
    Clear,
    /// Refuse with 409.
    Conflict(Conflict),
}

fn conflict(current: Option<&StoredLock>, reason: &'static str) -> LockOutcome {
    LockOutcome::Conflict(Conflict {
        current: current.map(|l| l.id.clone()).unwrap_or_default(),
        reason,
    })
}

fn set(id: &LockId, now_ms: i64) -> LockOutcome {
    LockOutcome::Set(StoredLock {
        id: id.as_str().to_owned(),
        expires_at_ms: now_ms.saturating_add(LOCK_TTL_MS),
    })
}

/// How a presented lock id is compared with the stored one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LockMatch {
    /// Byte for byte: what the protocol prescribes, and the default.
    #[default]
    Exact,
    /// Also treat two JSON lock ids with the same `"S"` (session) member as the same lock, or a
    /// plain id equal to the stored JSON's `"S"`. Older on-premises Office servers change the rest
    /// of the JSON within one session. Opt-in; the 409 header still carries the stored string.
    LegacyJson,
}

/// The `"S"` member of a JSON lock id.
fn session_of(lock: &str) -> Option<String> {
    match serde_json::from_str::<serde_json::Value>(lock)
        .ok()?
        .get("S")?
    {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// Whether a presented lock id names the stored lock.
pub fn same_lock(stored: &str, presented: &str, mode: LockMatch) -> bool {
    if stored.as_bytes() == presented.as_bytes() {
        return true;
    }
    match mode {
        LockMatch::Exact => false,
        LockMatch::LegacyJson => match session_of(stored) {
            None => false,
            Some(s) => match session_of(presented) {
                Some(p) => s == p,
                None => s == presented,
            },
        },
    }
}

/// The lock state table: Lock, UnlockAndRelock, RefreshLock and Unlock.
pub fn decide(
    req: &LockRequest,
    stored: Option<&StoredLock>,
    now_ms: i64,
    mode: LockMatch,
) -> LockOutcome {
    let current = StoredLock::live(stored, now_ms);
    let matches = |id: &LockId| current.is_some_and(|l| same_lock(&l.id, id.as_str(), mode));
    match req {
        LockRequest::Lock(new) => match current {
            None => set(new, now_ms),
            Some(_) if matches(new) => set(new, now_ms),
            Some(_) => conflict(current, "file is locked with another lock id"),
        },
        LockRequest::UnlockAndRelock { old, new } => match current {
            None => conflict(None, "file is not locked"),
            Some(_) if matches(old) => set(new, now_ms),
            Some(_) => conflict(current, "old lock id does not match the current lock"),
        },
        LockRequest::Refresh(id) => match current {
            None => conflict(None, "file is not locked"),
            Some(_) if matches(id) => set(id, now_ms),
            Some(_) => conflict(current, "lock id does not match the current lock"),
        },
        LockRequest::Unlock(id) => match current {
            None => conflict(None, "file is not locked"),
            Some(_) if matches(id) => LockOutcome::Clear,
            Some(_) => conflict(current, "lock id does not match the current lock"),
        },
    }
}

/// PutFile: a locked file takes the matching lock id; an unlocked file takes a write only while it
/// is empty (the create-new flow).
pub fn check_put(
    header: Option<&LockId>,
    stored: Option<&StoredLock>,
    size: u64,
    now_ms: i64,
    mode: LockMatch,
) -> Result<(), Conflict> {
    match (StoredLock::live(stored, now_ms), header) {
        (Some(l), Some(h)) if same_lock(&l.id, h.as_str(), mode) => Ok(()),
        (Some(l), Some(_)) => Err(Conflict {
            current: l.id.clone(),
            reason: "lock id does not match the current lock",
        }),
        (Some(l), None) => Err(Conflict {
            current: l.id.clone(),
            reason: "file is locked and no lock id was sent",
        }),
        (None, _) if size == 0 => Ok(()),
        (None, _) => Err(Conflict {
            current: String::new(),
            reason: "file is not locked and not empty",
        }),
    }
}

/// RenameFile: an unlocked file can be renamed; a locked one only with its lock id.
pub fn check_rename(
    header: Option<&LockId>,
    stored: Option<&StoredLock>,
    now_ms: i64,
    mode: LockMatch,
) -> Result<(), Conflict> {
    match (StoredLock::live(stored, now_ms), header) {
        (None, _) => Ok(()),
        (Some(l), Some(h)) if same_lock(&l.id, h.as_str(), mode) => Ok(()),
        (Some(l), _) => Err(Conflict {
            current: l.id.clone(),
            reason: "file is locked with another lock id",
        }),
    }
}

/// DeleteFile, and overwriting a file by PutRelativeFile: refused while anybody holds a lock.
pub fn check_unlocked(stored: Option<&StoredLock>, now_ms: i64) -> Result<(), Conflict> {
    match StoredLock::live(stored, now_ms) {
        None => Ok(()),
        Some(l) => Err(Conflict {
            current: l.id.clone(),
            reason: "file is locked",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> LockId {
        LockId::parse(s.as_bytes()).expect("valid lock id")
    }
    fn lock(s: &str, exp: i64) -> StoredLock {
        StoredLock {
            id: s.into(),
            expires_at_ms: exp,
        }
    }
    const NOW: i64 = 1_000_000;

    #[derive(Debug, PartialEq)]
    enum Want {
        Set(&'static str),
        Clear,
        Conflict(&'static str),
    }

    fn want(o: LockOutcome) -> (Option<String>, Option<i64>) {
        match o {
            LockOutcome::Set(l) => (Some(l.id), Some(l.expires_at_ms)),
            LockOutcome::Clear => (None, None),
            LockOutcome::Conflict(c) => (Some(format!("409:{}", c.current)), None),
        }
    }

    #[test]
    fn lock_table() {
        let live = Some(lock("A", NOW + 1));
        let expired = Some(lock("A", NOW));
        let cases: Vec<(LockRequest, Option<StoredLock>, Want)> = vec![
            (LockRequest::Lock(id("A")), None, Want::Set("A")),
            (LockRequest::Lock(id("A")), live.clone(), Want::Set("A")),
            (
                LockRequest::Lock(id("B")),
                live.clone(),
                Want::Conflict("A"),
            ),
            (LockRequest::Lock(id("B")), expired.clone(), Want::Set("B")),
            (
                LockRequest::Lock(id("a")),
                live.clone(),
                Want::Conflict("A"),
            ),
            (
                LockRequest::UnlockAndRelock {
                    old: id("A"),
                    new: id("B"),
                },
                live.clone(),
                Want::Set("B"),
            ),
            (
                LockRequest::UnlockAndRelock {
                    old: id("X"),
                    new: id("B"),
                },
                live.clone(),
                Want::Conflict("A"),
            ),
            (
                LockRequest::UnlockAndRelock {
                    old: id("A"),
                    new: id("B"),
                },
                None,
                Want::Conflict(""),
            ),
            (
                LockRequest::UnlockAndRelock {
                    old: id("A"),
                    new: id("B"),
                },
                expired.clone(),
                Want::Conflict(""),
            ),
            (LockRequest::Refresh(id("A")), live.clone(), Want::Set("A")),
            (
                LockRequest::Refresh(id("B")),
                live.clone(),
                Want::Conflict("A"),
            ),
            (LockRequest::Refresh(id("A")), None, Want::Conflict("")),
            (
                LockRequest::Refresh(id("A")),
                expired.clone(),
                Want::Conflict(""),
            ),
            (LockRequest::Unlock(id("A")), live.clone(), Want::Clear),
            (
                LockRequest::Unlock(id("B")),
                live.clone(),
                Want::Conflict("A"),
            ),
            (LockRequest::Unlock(id("A")), None, Want::Conflict("")),
            (LockRequest::Unlock(id("A")), expired, Want::Conflict("")),
        ];
        for (req, stored, expected) in cases {
            let got = decide(&req, stored.as_ref(), NOW, LockMatch::Exact);
            let (a, exp) = want(got);
            match expected {
                Want::Set(s) => {
                    assert_eq!(a.as_deref(), Some(s), "{req:?} on {stored:?}");
                    assert_eq!(exp, Some(NOW + LOCK_TTL_MS), "expiry restarts: {req:?}");
                }
                Want::Clear => assert_eq!(a, None, "{req:?} on {stored:?}"),
                Want::Conflict(c) => {
                    assert_eq!(a, Some(format!("409:{c}")), "{req:?} on {stored:?}")
                }
            }
        }
    }

    #[test]
    fn put_table() {
        let live = lock("A", NOW + 1);
        type Case<'a> = (
            Option<&'a str>,
            Option<&'a StoredLock>,
            u64,
            Result<(), &'a str>,
        );
        let cases: Vec<Case> = vec![
            (Some("A"), Some(&live), 10, Ok(())),
            (Some("B"), Some(&live), 10, Err("A")),
            (None, Some(&live), 0, Err("A")),
            (None, None, 0, Ok(())),
            (Some("A"), None, 0, Ok(())),
            (None, None, 5, Err("")),
            (Some("A"), None, 5, Err("")),
        ];
        for (h, stored, size, expected) in cases {
            let h = h.map(id);
            let got =
                check_put(h.as_ref(), stored, size, NOW, LockMatch::Exact).map_err(|c| c.current);
            assert_eq!(
                got,
                expected.map_err(str::to_owned),
                "{h:?} {stored:?} {size}"
            );
        }
        // An expired lock counts as no lock, also for the zero-byte rule.
        let expired = lock("A", NOW);
        assert_eq!(
            check_put(None, Some(&expired), 0, NOW, LockMatch::Exact),
            Ok(())
        );
        assert_eq!(
            check_put(None, Some(&expired), 1, NOW, LockMatch::Exact).map_err(|c| c.current),
            Err(String::new())
        );
    }

    #[test]
    fn rename_and_delete_table() {
        let live = lock("A", NOW + 1);
        assert_eq!(check_rename(None, None, NOW, LockMatch::Exact), Ok(()));
        assert_eq!(
            check_rename(Some(&id("X")), None, NOW, LockMatch::Exact),
            Ok(())
        );
        assert_eq!(
            check_rename(Some(&id("A")), Some(&live), NOW, LockMatch::Exact),
            Ok(())
        );
        assert_eq!(
            check_rename(Some(&id("B")), Some(&live), NOW, LockMatch::Exact).map_err(|c| c.current),
            Err("A".into())
        );
        assert_eq!(
            check_rename(None, Some(&live), NOW, LockMatch::Exact).map_err(|c| c.current),
            Err("A".into())
        );
        assert_eq!(
            check_unlocked(Some(&live), NOW).map_err(|c| c.current),
            Err("A".into())
        );
        assert_eq!(check_unlocked(Some(&lock("A", NOW)), NOW), Ok(()));
        assert_eq!(check_unlocked(None, NOW), Ok(()));
    }

    #[test]
    fn legacy_json_matching_is_opt_in() {
        let a = r#"{"S":"sess-1","F":4}"#;
        let b = r#"{"S":"sess-1","F":6,"E":2,"M":"x"}"#;
        let c = r#"{"S":"sess-2","F":4}"#;
        let table = [
            (a, a, LockMatch::Exact, true),
            (a, b, LockMatch::Exact, false),
            (a, b, LockMatch::LegacyJson, true),
            (a, c, LockMatch::LegacyJson, false),
            (a, "sess-1", LockMatch::LegacyJson, true),
            ("sess-1", a, LockMatch::LegacyJson, false),
            ("plain", "other", LockMatch::LegacyJson, false),
            (r#"{"S":""}"#, r#"{"S":""}"#, LockMatch::LegacyJson, true),
            (
                r#"{"S":""}"#,
                r#"{"S":"", "F":1}"#,
                LockMatch::LegacyJson,
                false,
            ),
            ("{not json", "{not json ", LockMatch::LegacyJson, false),
        ];
        for (stored, presented, mode, want) in table {
            assert_eq!(
                same_lock(stored, presented, mode),
                want,
                "{stored} vs {presented} ({mode:?})"
            );
        }
        // A conflict still reports the stored string byte for byte.
        let l = lock(a, NOW + 1);
        let out = decide(
            &LockRequest::Lock(id(c)),
            Some(&l),
            NOW,
            LockMatch::LegacyJson,
        );
        assert_eq!(
            out,
            LockOutcome::Conflict(Conflict {
                current: a.into(),
                reason: "file is locked with another lock id"
            })
        );
        // A same-session Lock refreshes and stores what the client sent now.
        let out = decide(
            &LockRequest::Lock(id(b)),
            Some(&l),
            NOW,
            LockMatch::LegacyJson,
        );
        assert_eq!(
            out,
            LockOutcome::Set(StoredLock {
                id: b.into(),
                expires_at_ms: NOW + LOCK_TTL_MS
            })
        );
    }

    #[test]
    fn lock_id_limits() {
        assert!(LockId::parse(b"").is_err());
        assert!(LockId::parse(&[b'x'; 1024]).is_ok());
        assert!(LockId::parse(&[b'x'; 1025]).is_err());
        assert!(LockId::parse(b"{\"S\":\"1\",\"E\":2}").is_ok());
        assert!(LockId::parse(b"base64+/==").is_ok());
        assert!(LockId::parse(b"nul\0").is_err());
        assert!(LockId::parse("caf\u{e9}".as_bytes()).is_err());
        // Never trimmed or folded.
        assert_eq!(
            LockId::parse(b" A ")
                .map(LockId::into_string)
                .ok()
                .as_deref(),
            Some(" A ")
        );
    }

    proptest::proptest! {
        #[test]
        fn lock_id_parse_never_panics_and_round_trips(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1100)) {
            if let Ok(l) = LockId::parse(&bytes) {
                proptest::prop_assert_eq!(l.as_str().as_bytes(), &bytes[..]);
            }
        }
    }
}
