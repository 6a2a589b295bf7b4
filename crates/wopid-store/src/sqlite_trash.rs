//! The SQLite engine's `Trash`. Each method is one write of the group-commit writer, so its steps
//! run in one transaction; a step whose failure is an answer comes first, before anything changed.

use async_trait::async_trait;
use rusqlite::{Connection, params};

use crate::error::Result;
use crate::model::{ContainerMove, Restoring, TrashEntry, TrashKind, Trashing};
use crate::sqlite::{SqliteMeta, all, exec, is_unique_violation, one};
use crate::trash::{self, Trash};

/// The live containers of the subtree of `?1`, the container itself included.
macro_rules! live_subtree {
    () => {
        "WITH RECURSIVE sub(id) AS (SELECT id FROM containers WHERE id = ?1 AND trashed_ms IS NULL \
         UNION SELECT c.id FROM containers c JOIN sub ON c.parent_id = sub.id WHERE c.trashed_ms IS NULL) "
    };
}

/// Every container of the subtree of `?1`, whatever its marks.
macro_rules! whole_subtree {
    () => {
        "WITH RECURSIVE sub(id) AS (SELECT ?1 \
         UNION SELECT c.id FROM containers c JOIN sub ON c.parent_id = sub.id) "
    };
}

fn entries(c: &Connection, cond: &str, p: impl rusqlite::Params) -> Result<Vec<TrashEntry>> {
    let sql = trash::ENTRIES.replace("{cond}", cond);
    all(c, &sql, p, |r| trash::entry(r))
}

fn live_container(c: &Connection, id: &str) -> Result<Option<Option<String>>> {
    one(
        c,
        "SELECT parent_id FROM containers WHERE id = ?1 AND trashed_ms IS NULL",
        [id],
        |r| Ok(r.get::<_, Option<String>>(0)?),
    )
}

fn trash_container(c: &Connection, id: &str, now_ms: i64, only_if_empty: bool) -> Result<Trashing> {
    match live_container(c, id)? {
        Some(Some(_)) => {}
        _ => return Ok(Trashing::Missing),
    }
    if only_if_empty {
        let held = one(
            c,
            "SELECT 1 WHERE EXISTS (SELECT 1 FROM files WHERE container_id = ?1 AND trashed_ms IS NULL) \
             OR EXISTS (SELECT 1 FROM containers WHERE parent_id = ?1 AND trashed_ms IS NULL)",
            [id],
            |_| Ok(()),
        )?;
        if held.is_some() {
            return Ok(Trashing::NotEmpty);
        }
    }
    let locked = one(
        c,
        concat!(
            live_subtree!(),
            "SELECT 1 FROM files WHERE container_id IN (SELECT id FROM sub) AND trashed_ms IS NULL \
             AND ((lock_id IS NOT NULL AND lock_expires_ms > ?2) OR coauth_expires_ms > ?2) LIMIT 1"
        ),
        params![id, now_ms],
        |_| Ok(()),
    )?;
    if locked.is_some() {
        return Ok(Trashing::Locked);
    }
    exec(
        c,
        concat!(
            live_subtree!(),
            "UPDATE files SET trashed_ms = ?2, trash_id = ?1, rev = rev + 1 \
             WHERE trashed_ms IS NULL AND container_id IN (SELECT id FROM sub)"
        ),
        params![id, now_ms],
    )?;
    exec(
        c,
        concat!(
            live_subtree!(),
            "UPDATE containers SET trashed_ms = ?2, trash_id = ?1 WHERE id IN (SELECT id FROM sub)"
        ),
        params![id, now_ms],
    )?;
    Ok(Trashing::Trashed)
}

fn restore(
    c: &Connection,
    kind: TrashKind,
    id: &str,
    parent: &str,
    name: &str,
) -> Result<Restoring> {
    let top = trash::restore_top(kind);
    match c.prepare_cached(top)?.execute(params![id, parent, name]) {
        Ok(1) => {}
        Ok(_) => return Ok(Restoring::Missing),
        Err(e) if is_unique_violation(&e) => return Ok(Restoring::NameTaken),
        Err(e) => return Err(e.into()),
    }
    if kind == TrashKind::Container {
        for sql in trash::RESTORE_INSIDE {
            exec(c, sql, [id])?;
        }
    }
    Ok(Restoring::Restored)
}

fn purge(c: &Connection, kind: TrashKind, id: &str) -> Result<Option<Vec<String>>> {
    match kind {
        TrashKind::File => {
            if exec(c, "DELETE FROM files WHERE id = ?1 AND trash_id = ?1", [id])? == 0 {
                return Ok(None);
            }
            let keys = all(
                c,
                "SELECT DISTINCT blob_key FROM versions WHERE file_id = ?1",
                [id],
                |r| Ok(r.get(0)?),
            )?;
            exec(c, "DELETE FROM versions WHERE file_id = ?1", [id])?;
            exec(c, "DELETE FROM activities WHERE file_id = ?1", [id])?;
            exec(c, "DELETE FROM shares WHERE resource_id = ?1", [id])?;
            Ok(Some(keys))
        }
        TrashKind::Container => {
            let is_entry = one(
                c,
                "SELECT 1 FROM containers WHERE id = ?1 AND trash_id = ?1",
                [id],
                |_| Ok(()),
            )?;
            if is_entry.is_none() {
                return Ok(None);
            }
            let files = concat!(
                whole_subtree!(),
                "SELECT id FROM files WHERE container_id IN (SELECT id FROM sub)"
            );
            let keys = all(
                c,
                &format!("SELECT DISTINCT blob_key FROM versions WHERE file_id IN ({files})"),
                [id],
                |r| Ok(r.get(0)?),
            )?;
            for table in [
                "DELETE FROM versions WHERE file_id IN",
                "DELETE FROM activities WHERE file_id IN",
                "DELETE FROM shares WHERE resource_id IN",
            ] {
                exec(c, &format!("{table} ({files})"), [id])?;
            }
            exec(
                c,
                concat!(
                    whole_subtree!(),
                    "DELETE FROM shares WHERE resource_id IN (SELECT id FROM sub)"
                ),
                [id],
            )?;
            exec(
                c,
                concat!(
                    whole_subtree!(),
                    "DELETE FROM files WHERE container_id IN (SELECT id FROM sub)"
                ),
                [id],
            )?;
            exec(
                c,
                concat!(
                    whole_subtree!(),
                    "DELETE FROM containers WHERE id IN (SELECT id FROM sub)"
                ),
                [id],
            )?;
            Ok(Some(keys))
        }
    }
}

fn move_container(c: &Connection, id: &str, parent: &str) -> Result<ContainerMove> {
    match live_container(c, id)? {
        Some(Some(_)) => {}
        _ => return Ok(ContainerMove::Missing),
    }
    if live_container(c, parent)?.is_none() {
        return Ok(ContainerMove::Missing);
    }
    let cycle = one(
        c,
        "WITH RECURSIVE up(id, parent_id) AS (SELECT id, parent_id FROM containers WHERE id = ?2 \
         UNION SELECT c.id, c.parent_id FROM containers c JOIN up ON c.id = up.parent_id) \
         SELECT 1 FROM up WHERE id = ?1",
        [id, parent],
        |_| Ok(()),
    )?;
    if cycle.is_some() {
        return Ok(ContainerMove::IntoItself);
    }
    match c
        .prepare_cached("UPDATE containers SET parent_id = ?2 WHERE id = ?1")?
        .execute([id, parent])
    {
        Ok(_) => Ok(ContainerMove::Moved),
        Err(e) if is_unique_violation(&e) => Ok(ContainerMove::NameTaken),
        Err(e) => Err(e.into()),
    }
}

#[async_trait]
impl Trash for SqliteMeta {
    async fn trash_file(&self, id: &str, expected_rev: i64, now_ms: i64) -> Result<bool> {
        let id = id.to_owned();
        self.writer
            .write(move |c| {
                Ok(exec(
                    c,
                    "UPDATE files SET trashed_ms = ?3, trash_id = id, rev = rev + 1 \
                     WHERE id = ?1 AND rev = ?2 AND trashed_ms IS NULL",
                    params![id, expected_rev, now_ms],
                )? == 1)
            })
            .await
    }

    async fn trash_container(
        &self,
        id: &str,
        now_ms: i64,
        only_if_empty: bool,
    ) -> Result<Trashing> {
        let id = id.to_owned();
        self.writer
            .write(move |c| trash_container(c, &id, now_ms, only_if_empty))
            .await
    }

    async fn trash_entries(&self, owner_id: &str) -> Result<Vec<TrashEntry>> {
        self.read(|c| entries(c, "owner_id = ?1", [owner_id]))
    }

    async fn trash_entry(&self, kind: TrashKind, id: &str) -> Result<Option<TrashEntry>> {
        let found = self.read(|c| entries(c, "id = ?1", [id]))?;
        Ok(found.into_iter().find(|e| e.kind == kind))
    }

    async fn trashed_before(&self, before_ms: i64) -> Result<Vec<TrashEntry>> {
        self.read(|c| entries(c, "trashed_ms < ?1", [before_ms]))
    }

    async fn restore_trashed(
        &self,
        kind: TrashKind,
        id: &str,
        parent_id: &str,
        name: &str,
    ) -> Result<Restoring> {
        let (id, parent, name) = (id.to_owned(), parent_id.to_owned(), name.to_owned());
        self.writer
            .write(move |c| restore(c, kind, &id, &parent, &name))
            .await
    }

    async fn purge_trashed(&self, kind: TrashKind, id: &str) -> Result<Option<Vec<String>>> {
        let id = id.to_owned();
        self.writer.write(move |c| purge(c, kind, &id)).await
    }

    async fn move_container(&self, id: &str, parent_id: &str) -> Result<ContainerMove> {
        let (id, parent) = (id.to_owned(), parent_id.to_owned());
        self.writer
            .write(move |c| move_container(c, &id, &parent))
            .await
    }
}
