//! The trash: files and containers deleted into their owner's trash keep their rows, marked with
//! when they went (`trashed_ms`) and the trash entry they went with (`trash_id`: their own id for
//! the item deleted, that item's id for everything inside a deleted container). Every other read
//! of the store treats a marked row as absent, and names are unique among unmarked rows only.
//! Also moving a container, which must refuse cycles atomically.

use async_trait::async_trait;

use crate::error::Result;
use crate::model::{ContainerMove, Restoring, TrashEntry, TrashKind, Trashing};

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
