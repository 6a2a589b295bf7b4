//! The PostgreSQL engine's `Trash`: each method is one transaction. Moves of containers take one
//! transaction advisory lock, so two moves on different nodes cannot make a cycle between them.

use async_trait::async_trait;
use sqlx::{Postgres, Transaction};

use crate::error::Result;
use crate::model::{ContainerMove, Restoring, TrashEntry, TrashKind, Trashing};
use crate::postgres::{PgMeta, is_unique_violation};
use crate::rows::numbered;
use crate::trash::{self, Trash};

/// The live containers of the subtree of `$1`, the container itself included.
const LIVE_SUBTREE: &str = "WITH RECURSIVE sub(id) AS (SELECT id FROM containers WHERE id = $1 AND trashed_ms IS NULL \
     UNION SELECT c.id FROM containers c JOIN sub ON c.parent_id = sub.id WHERE c.trashed_ms IS NULL) ";

/// Every container of the subtree of `$1`, whatever its marks.
const WHOLE_SUBTREE: &str = "WITH RECURSIVE sub(id) AS (SELECT $1::text \
     UNION SELECT c.id FROM containers c JOIN sub ON c.parent_id = sub.id) ";

async fn live_parent(
    tx: &mut Transaction<'_, Postgres>,
    id: &str,
) -> Result<Option<Option<String>>> {
    Ok(sqlx::query_scalar(
        "SELECT parent_id FROM containers WHERE id = $1 AND trashed_ms IS NULL FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?)
}

impl PgMeta {
    async fn entries(&self, cond: &str, bind: impl ToString) -> Result<Vec<TrashEntry>> {
        let sql = trash::ENTRIES.replace("{cond}", cond);
        let rows = sqlx::query(&sql)
            .bind(bind.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(trash::entry).collect()
    }
}

#[async_trait]
impl Trash for PgMeta {
    async fn trash_file(&self, id: &str, expected_rev: i64, now_ms: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE files SET trashed_ms = $3, trash_id = id, rev = rev + 1 \
             WHERE id = $1 AND rev = $2 AND trashed_ms IS NULL",
        )
        .bind(id)
        .bind(expected_rev)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn trash_container(
        &self,
        id: &str,
        now_ms: i64,
        only_if_empty: bool,
    ) -> Result<Trashing> {
        let mut tx = self.pool.begin().await?;
        match live_parent(&mut tx, id).await? {
            Some(Some(_)) => {}
            _ => return Ok(Trashing::Missing),
        }
        if only_if_empty {
            let held: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM files WHERE container_id = $1 AND trashed_ms IS NULL) \
                 OR EXISTS (SELECT 1 FROM containers WHERE parent_id = $1 AND trashed_ms IS NULL)",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            if held {
                return Ok(Trashing::NotEmpty);
            }
        }
        let locked: bool = sqlx::query_scalar(&format!(
            "{LIVE_SUBTREE}SELECT EXISTS (SELECT 1 FROM files WHERE container_id IN (SELECT id FROM sub) \
             AND trashed_ms IS NULL \
             AND ((lock_id IS NOT NULL AND lock_expires_ms > $2) OR coauth_expires_ms > $2))"
        ))
        .bind(id)
        .bind(now_ms)
        .fetch_one(&mut *tx)
        .await?;
        if locked {
            return Ok(Trashing::Locked);
        }
        sqlx::query(&format!(
            "{LIVE_SUBTREE}UPDATE files SET trashed_ms = $2, trash_id = $1, rev = rev + 1 \
             WHERE trashed_ms IS NULL AND container_id IN (SELECT id FROM sub)"
        ))
        .bind(id)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        sqlx::query(&format!(
            "{LIVE_SUBTREE}UPDATE containers SET trashed_ms = $2, trash_id = $1 WHERE id IN (SELECT id FROM sub)"
        ))
        .bind(id)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Trashing::Trashed)
    }

    async fn trash_entries(&self, owner_id: &str) -> Result<Vec<TrashEntry>> {
        self.entries("owner_id = $1", owner_id).await
    }

    async fn trash_entry(&self, kind: TrashKind, id: &str) -> Result<Option<TrashEntry>> {
        let found = self.entries("id = $1", id).await?;
        Ok(found.into_iter().find(|e| e.kind == kind))
    }

    async fn trashed_before(&self, before_ms: i64) -> Result<Vec<TrashEntry>> {
        let sql = trash::ENTRIES.replace("{cond}", "trashed_ms < $1");
        let rows = sqlx::query(&sql)
            .bind(before_ms)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(trash::entry).collect()
    }

    async fn restore_trashed(
        &self,
        kind: TrashKind,
        id: &str,
        parent_id: &str,
        name: &str,
    ) -> Result<Restoring> {
        let top = numbered(trash::restore_top(kind));
        let mut tx = self.pool.begin().await?;
        let res = sqlx::query(&top)
            .bind(id)
            .bind(parent_id)
            .bind(name)
            .execute(&mut *tx)
            .await;
        match res {
            Ok(done) if done.rows_affected() == 1 => {}
            Ok(_) => return Ok(Restoring::Missing),
            Err(e) if is_unique_violation(&e) => return Ok(Restoring::NameTaken),
            Err(e) => return Err(e.into()),
        }
        if kind == TrashKind::Container {
            for sql in trash::RESTORE_INSIDE {
                sqlx::query(&numbered(sql))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(Restoring::Restored)
    }

    async fn purge_trashed(&self, kind: TrashKind, id: &str) -> Result<Option<Vec<String>>> {
        let mut tx = self.pool.begin().await?;
        let files = match kind {
            TrashKind::File => {
                let done =
                    sqlx::query("SELECT 1 FROM files WHERE id = $1 AND trash_id = $1 FOR UPDATE")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                if done.is_none() {
                    return Ok(None);
                }
                "SELECT $1::text".to_owned()
            }
            TrashKind::Container => {
                let done = sqlx::query(
                    "SELECT 1 FROM containers WHERE id = $1 AND trash_id = $1 FOR UPDATE",
                )
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                if done.is_none() {
                    return Ok(None);
                }
                format!(
                    "{WHOLE_SUBTREE}SELECT id FROM files WHERE container_id IN (SELECT id FROM sub)"
                )
            }
        };
        let keys: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT DISTINCT blob_key FROM versions WHERE file_id IN ({files})"
        ))
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        for table in [
            "DELETE FROM versions WHERE file_id IN",
            "DELETE FROM activities WHERE file_id IN",
            "DELETE FROM shares WHERE resource_id IN",
            "DELETE FROM files WHERE id IN",
        ] {
            sqlx::query(&format!("{table} ({files})"))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        if kind == TrashKind::Container {
            for table in ["shares WHERE resource_id", "containers WHERE id"] {
                sqlx::query(&format!(
                    "{WHOLE_SUBTREE}DELETE FROM {table} IN (SELECT id FROM sub)"
                ))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(Some(keys))
    }

    async fn move_container(&self, id: &str, parent_id: &str) -> Result<ContainerMove> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('wopid-container-move')::bigint)")
            .execute(&mut *tx)
            .await?;
        match live_parent(&mut tx, id).await? {
            Some(Some(_)) => {}
            _ => return Ok(ContainerMove::Missing),
        }
        if live_parent(&mut tx, parent_id).await?.is_none() {
            return Ok(ContainerMove::Missing);
        }
        let cycle: bool = sqlx::query_scalar(
            "WITH RECURSIVE up(id, parent_id) AS (SELECT id, parent_id FROM containers WHERE id = $2 \
             UNION SELECT c.id, c.parent_id FROM containers c JOIN up ON c.id = up.parent_id) \
             SELECT EXISTS (SELECT 1 FROM up WHERE id = $1)",
        )
        .bind(id)
        .bind(parent_id)
        .fetch_one(&mut *tx)
        .await?;
        if cycle {
            return Ok(ContainerMove::IntoItself);
        }
        let res = sqlx::query("UPDATE containers SET parent_id = $2 WHERE id = $1")
            .bind(id)
            .bind(parent_id)
            .execute(&mut *tx)
            .await;
        match res {
            Ok(_) => {
                tx.commit().await?;
                Ok(ContainerMove::Moved)
            }
            Err(e) if is_unique_violation(&e) => Ok(ContainerMove::NameTaken),
            Err(e) => Err(e.into()),
        }
    }
}
