//! The trash: files and containers deleted into their owner's trash keep their rows, marked with
//! when they went (`trashed_ms`) and the trash entry they went with (`trash_id`: their own id for
//! the item deleted, that item's id for everything inside a deleted container). Every other read
//! of the store treats a marked row as absent, and names are unique among unmarked rows only.
//! Also moving a container, which must refuse cycles atomically.

use async_trait::async_trait;

use crate::error::Result;
use crate::model::{ContainerMove, Restoring, TrashEntry, TrashKind, Trashing};
use crate::rows::Get;

#[async_trait]
pub trait Trash: Send + Sync {
    /// Moves a file to the trash if its revision is still `expected_rev`; `false` when it changed
    /// or is gone.
    async fn trash_file(&self, id: &str, expected_rev: i64, now_ms: i64) -> Result<bool>;
    /// Moves a container (not a root) and everything in it to the trash, in one step, unless a
    /// file inside holds a lock live at `now_ms` or, with `only_if_empty`, it holds anything.
    async fn trash_container(&self, id: &str, now_ms: i64, only_if_empty: bool)
    -> Result<Trashing>;
    /// The trash entries of an owner, most recently deleted first.
    async fn trash_entries(&self, owner_id: &str) -> Result<Vec<TrashEntry>>;
    /// One trash entry.
    async fn trash_entry(&self, kind: TrashKind, id: &str) -> Result<Option<TrashEntry>>;
    /// Every trash entry deleted before `before_ms`.
    async fn trashed_before(&self, before_ms: i64) -> Result<Vec<TrashEntry>>;
    /// Takes an entry out of the trash (with everything it went with) into the live container
    /// `parent_id` under `name`.
    async fn restore_trashed(
        &self,
        kind: TrashKind,
        id: &str,
        parent_id: &str,
        name: &str,
    ) -> Result<Restoring>;
    /// Destroys a trash entry and everything below it (whatever its marks), with versions,
    /// activities and shares; returns the blob keys its versions held, `None` without such entry.
    async fn purge_trashed(&self, kind: TrashKind, id: &str) -> Result<Option<Vec<String>>>;
    /// Moves a live container (not a root) into the live container `parent_id`, refused when
    /// that is the container itself or below it.
    async fn move_container(&self, id: &str, parent_id: &str) -> Result<ContainerMove>;
}

// The statements both engines run alike, with SQLite's `?N` parameters (PostgreSQL's through
// `rows::numbered`).

/// The trash entries (the items deleted themselves, not what they held) that meet `{cond}`,
/// newest first.
pub(crate) const ENTRIES: &str = "SELECT 'file' AS kind, id, name, container_id AS parent_id, owner_id, trashed_ms FROM files \
     WHERE trash_id = id AND {cond} \
     UNION ALL SELECT 'folder', id, name, parent_id, owner_id, trashed_ms FROM containers \
     WHERE trash_id = id AND {cond} ORDER BY 6 DESC, 2";

/// A row of [`ENTRIES`].
pub(crate) fn entry(r: &impl Get) -> Result<TrashEntry> {
    Ok(TrashEntry {
        kind: TrashKind::parse(&r.text(0)?).unwrap_or(TrashKind::File),
        id: r.text(1)?,
        name: r.text(2)?,
        parent_id: r.opt_text(3)?.unwrap_or_default(),
        owner_id: r.text(4)?,
        trashed_ms: r.int(5)?,
    })
}

/// Takes the item `?1` of `kind` out of the trash into the live container `?2` under the name
/// `?3`; changes nothing when either is not there.
pub(crate) fn restore_top(kind: TrashKind) -> &'static str {
    match kind {
        TrashKind::File => {
            "UPDATE files SET trashed_ms = NULL, trash_id = NULL, container_id = ?2, name = ?3, rev = rev + 1 \
             WHERE id = ?1 AND trash_id = ?1 \
             AND EXISTS (SELECT 1 FROM containers p WHERE p.id = ?2 AND p.trashed_ms IS NULL)"
        }
        TrashKind::Container => {
            "UPDATE containers SET trashed_ms = NULL, trash_id = NULL, parent_id = ?2, name = ?3 \
             WHERE id = ?1 AND trash_id = ?1 \
             AND EXISTS (SELECT 1 FROM containers p WHERE p.id = ?2 AND p.trashed_ms IS NULL)"
        }
    }
}

/// What a restored container held when it went to the trash with it (`?1`, its id).
pub(crate) const RESTORE_INSIDE: [&str; 2] = [
    "UPDATE containers SET trashed_ms = NULL, trash_id = NULL WHERE trash_id = ?1",
    "UPDATE files SET trashed_ms = NULL, trash_id = NULL, rev = rev + 1 WHERE trash_id = ?1",
];
