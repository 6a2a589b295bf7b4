//! The embedded metadata engine: SQLite in WAL mode with full synchronous commits.
//!
//! Every write transaction starts with a write statement, so it takes SQLite's write lock (waiting
//! with the busy timeout) before it reads anything and never fails to upgrade a stale snapshot.

use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row as _;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};

use crate::error::{Result, StoreError};
use crate::meta::{Cas, MetaBackend};
use crate::model::*;
use crate::sqlite_schema::MIGRATIONS;

pub(crate) struct SqliteMeta {
    /// Readers: WAL lets them run beside the writer.
    pub(crate) pool: SqlitePool,
    /// The one connection that writes. SQLite admits one writer at a time anyway; queueing
    /// writers here (in order, without sleeping) instead of letting several connections race for
    /// the lock avoids SQLite's busy handler, which sleeps for milliseconds between retries and
    /// made concurrent lock and save traffic several times slower. Other processes (a CLI command
    /// beside the server) still wait for the lock with the busy timeout.
    pub(crate) writer: SqlitePool,
}

const FILE_COLS: &str = "id, container_id, owner_id, name, size, sha256, blob_key, version, modified_ms, lock_id, lock_expires_ms, rev";

fn file_row(r: &SqliteRow) -> Result<FileRecord> {
    Ok(FileRecord {
        id: r.try_get("id")?,
        container_id: r.try_get("container_id")?,
        owner_id: r.try_get("owner_id")?,
        name: r.try_get("name")?,
        size: u64::try_from(r.try_get::<i64, _>("size")?).unwrap_or(0),
        sha256: r.try_get("sha256")?,
        blob_key: r.try_get("blob_key")?,
        version: r.try_get("version")?,
        modified_ms: r.try_get("modified_ms")?,
        lock_id: r.try_get("lock_id")?,
        lock_expires_ms: r.try_get("lock_expires_ms")?,
        rev: r.try_get("rev")?,
    })
}

fn user_row(r: &SqliteRow) -> Result<User> {
    Ok(User {
        id: r.try_get("id")?,
        login: r.try_get("login")?,
        display_name: r.try_get("display_name")?,
        user_info: r.try_get("user_info")?,
        epoch: r.try_get("epoch")?,
        revoked_below: r.try_get("revoked_below")?,
    })
}

fn container_row(r: &SqliteRow) -> Result<Container> {
    Ok(Container {
        id: r.try_get("id")?,
        parent_id: r.try_get("parent_id")?,
        owner_id: r.try_get("owner_id")?,
        name: r.try_get("name")?,
    })
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

fn size_i64(size: u64) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX)
}

impl SqliteMeta {
    pub(crate) async fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir).await?;
        }
        let opts = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // No ping before each use: an embedded database's connection cannot go stale the way a
        // network one can, and sqlx's ping is one more round trip to the connection's worker
        // thread, about as costly as the query itself.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .test_before_acquire(false)
            .connect_with(opts.clone())
            .await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .test_before_acquire(false)
            .connect_with(opts)
            .await?;
        let db = Self { pool, writer };
        db.migrate().await?;
        Ok(db)
    }

    async fn version_rows(&self, file_id: &str, order: &str) -> Result<Vec<VersionRecord>> {
        let sql = format!(
            "SELECT file_id, version, blob_key, size, sha256, modified_ms, author_id, editors, autosave, exit_save, \
             modified_by_user, session FROM versions WHERE file_id = ? {order}",
        );
        let rows = sqlx::query(&sql)
            .bind(file_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(VersionRecord {
                    file_id: r.try_get("file_id")?,
                    version: r.try_get("version")?,
                    blob_key: r.try_get("blob_key")?,
                    size: u64::try_from(r.try_get::<i64, _>("size")?).unwrap_or(0),
                    sha256: r.try_get("sha256")?,
                    modified_ms: r.try_get("modified_ms")?,
                    author_id: r.try_get("author_id")?,
                    info: SaveInfo {
                        editors: r.try_get("editors")?,
                        autosave: r.try_get("autosave")?,
                        exit_save: r.try_get("exit_save")?,
                        modified_by_user: r.try_get("modified_by_user")?,
                        session: r.try_get("session")?,
                    },
                })
            })
            .collect()
    }

    async fn migrate(&self) -> Result<()> {
        let mut conn = self.writer.acquire().await?;
        // BEGIN IMMEDIATE: two processes starting at once must not both run a migration.
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        let current: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&mut *conn)
            .await?;
        let result = async {
            for (i, sql) in MIGRATIONS
                .iter()
                .enumerate()
                .skip(usize::try_from(current).unwrap_or(0))
            {
                sqlx::raw_sql(sql).execute(&mut *conn).await?;
                sqlx::query(&format!("PRAGMA user_version = {}", i + 1))
                    .execute(&mut *conn)
                    .await?;
            }
            Ok::<_, sqlx::Error>(())
        }
        .await;
        match result {
            Ok(()) => {
                sqlx::query("COMMIT").execute(&mut *conn).await?;
                Ok(())
            }
            Err(e) => {
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                Err(e.into())
            }
        }
    }
}

#[async_trait]
impl MetaBackend for SqliteMeta {
    async fn ensure_user(&self, login: &str, display_name: &str, now_ms: i64) -> Result<User> {
        sqlx::query(
            "INSERT INTO users (id, login, display_name, created_ms) VALUES (?, ?, ?, ?) ON CONFLICT(login) DO NOTHING",
        )
        .bind(crate::new_id())
        .bind(login)
        .bind(display_name)
        .bind(now_ms)
        .execute(&self.writer)
        .await?;
        self.user_by_login(login)
            .await?
            .ok_or(StoreError::Invalid("user vanished after insert"))
    }

    async fn user(&self, id: &str) -> Result<Option<User>> {
        let row = sqlx::query("SELECT id, login, display_name, user_info, epoch, revoked_below FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_row).transpose()
    }

    async fn user_by_login(&self, login: &str) -> Result<Option<User>> {
        let row =
            sqlx::query("SELECT id, login, display_name, user_info, epoch, revoked_below FROM users WHERE login = ?")
                .bind(login)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(user_row).transpose()
    }

    async fn set_user_info(&self, user_id: &str, info: &str) -> Result<()> {
        sqlx::query("UPDATE users SET user_info = ? WHERE id = ?")
            .bind(info)
            .bind(user_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn root_container(&self, user_id: &str, now_ms: i64) -> Result<Container> {
        let q = "SELECT id, parent_id, owner_id, name FROM containers WHERE owner_id = ? AND parent_id IS NULL";
        if let Some(r) = sqlx::query(q)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
        {
            return container_row(&r);
        }
        let login = self
            .user(user_id)
            .await?
            .map(|u| u.login)
            .unwrap_or_else(|| user_id.to_owned());
        let res = sqlx::query("INSERT INTO containers (id, parent_id, owner_id, name, created_ms) VALUES (?, NULL, ?, ?, ?)")
            .bind(crate::new_id())
            .bind(user_id)
            .bind(login)
            .bind(now_ms)
            .execute(&self.writer)
            .await;
        match res {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {}
            Err(e) => return Err(e.into()),
        }
        let r = sqlx::query(q).bind(user_id).fetch_one(&self.pool).await?;
        container_row(&r)
    }

    async fn container(&self, id: &str) -> Result<Option<Container>> {
        let row = sqlx::query("SELECT id, parent_id, owner_id, name FROM containers WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(container_row).transpose()
    }

    async fn create_user(&self, u: &NewUser, now_ms: i64) -> Result<bool> {
        let res = sqlx::query(
            "INSERT INTO users (id, login, display_name, email, password_hash, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&u.id)
        .bind(&u.login)
        .bind(&u.display_name)
        .bind(&u.email)
        .bind(&u.password_hash)
        .bind(now_ms)
        .execute(&self.writer)
        .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        let rows =
            sqlx::query("SELECT id, login, display_name, user_info, epoch, revoked_below FROM users ORDER BY login")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(user_row).collect()
    }

    async fn create_container(
        &self,
        id: &str,
        parent_id: &str,
        owner_id: &str,
        name: &str,
        now_ms: i64,
    ) -> Result<Option<Container>> {
        let res = sqlx::query("INSERT INTO containers (id, parent_id, owner_id, name, created_ms) VALUES (?, ?, ?, ?, ?)")
            .bind(id)
            .bind(parent_id)
            .bind(owner_id)
            .bind(name)
            .bind(now_ms)
            .execute(&self.writer)
            .await;
        match res {
            Ok(_) => self.container(id).await,
            Err(e) if is_unique_violation(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn child_containers(&self, parent_id: &str) -> Result<Vec<Container>> {
        let rows = sqlx::query("SELECT id, parent_id, owner_id, name FROM containers WHERE parent_id = ? ORDER BY name")
            .bind(parent_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(container_row).collect()
    }

    async fn container_by_name(&self, parent_id: &str, name: &str) -> Result<Option<Container>> {
        let row = sqlx::query("SELECT id, parent_id, owner_id, name FROM containers WHERE parent_id = ? AND name = ? COLLATE NOCASE")
            .bind(parent_id)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(container_row).transpose()
    }

    async fn rename_container(&self, id: &str, name: &str) -> Result<bool> {
        let res = sqlx::query("UPDATE containers SET name = ? WHERE id = ?")
            .bind(name)
            .bind(id)
            .execute(&self.writer)
            .await;
        match res {
            Ok(done) => Ok(done.rows_affected() == 1),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete_container(&self, id: &str) -> Result<ContainerDeletion> {
        // One statement: the emptiness check and the delete cannot be separated by another writer.
        let done = sqlx::query(
            "DELETE FROM containers WHERE id = ? AND parent_id IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM files WHERE container_id = ?) \
             AND NOT EXISTS (SELECT 1 FROM containers c WHERE c.parent_id = ?)",
        )
        .bind(id)
        .bind(id)
        .bind(id)
        .execute(&self.writer)
        .await?;
        if done.rows_affected() == 1 {
            sqlx::query("DELETE FROM shares WHERE resource_id = ?")
                .bind(id)
                .execute(&self.writer)
                .await?;
            return Ok(ContainerDeletion::Deleted);
        }
        Ok(if self.container(id).await?.is_some() {
            ContainerDeletion::NotEmpty
        } else {
            ContainerDeletion::Missing
        })
    }

    async fn create_file(&self, f: NewFile) -> Result<Cas> {
        let mut tx = self.writer.begin().await?;
        let res = sqlx::query(
            "INSERT INTO files (id, container_id, owner_id, name, size, sha256, blob_key, version, modified_ms, rev, created_ms) \
             VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, 1, ?)",
        )
        .bind(&f.id)
        .bind(&f.container_id)
        .bind(&f.owner_id)
        .bind(&f.name)
        .bind(size_i64(f.content.size))
        .bind(&f.content.sha256)
        .bind(&f.content.blob_key)
        .bind(f.content.modified_ms)
        .bind(f.content.modified_ms)
        .execute(&mut *tx)
        .await;
        match res {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Ok(Cas::NameTaken),
            Err(e) => return Err(e.into()),
        }
        insert_version(&mut tx, &f.id, 1, &f.content, &SaveInfo::default()).await?;
        tx.commit().await?;
        Ok(self
            .file(&f.id)
            .await?
            .map_or(Cas::Stale, |f| Cas::Applied(Box::new(f))))
    }

    async fn file(&self, id: &str) -> Result<Option<FileRecord>> {
        let row = sqlx::query(&format!("SELECT {FILE_COLS} FROM files WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(file_row).transpose()
    }

    async fn file_by_name(&self, container_id: &str, name: &str) -> Result<Option<FileRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {FILE_COLS} FROM files WHERE container_id = ? AND name = ? COLLATE NOCASE"
        ))
        .bind(container_id)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(file_row).transpose()
    }

    async fn list_files(&self, container_id: Option<&str>) -> Result<Vec<FileRecord>> {
        let rows = match container_id {
            Some(c) => {
                sqlx::query(&format!(
                    "SELECT {FILE_COLS} FROM files WHERE container_id = ? ORDER BY name"
                ))
                .bind(c)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(&format!("SELECT {FILE_COLS} FROM files ORDER BY name"))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(file_row).collect()
    }

    async fn update_file(&self, id: &str, expected_rev: i64, update: FileUpdate) -> Result<Cas> {
        // `RETURNING` hands back the new row from the statement that changed it. A lock change,
        // rename or move is then one autocommitted statement, one round trip to the writer
        // instead of BEGIN, UPDATE, SELECT and COMMIT; new content still needs its history row
        // in the same transaction.
        let sql = match &update {
            FileUpdate::Lock { .. } => {
                "UPDATE files SET lock_id = ?, lock_expires_ms = ?, rev = rev + 1 WHERE id = ? AND rev = ?"
            }
            FileUpdate::Content(_) | FileUpdate::Save { .. } => {
                "UPDATE files SET size = ?, sha256 = ?, blob_key = ?, version = version + 1, modified_ms = ?, \
                 rev = rev + 1 WHERE id = ? AND rev = ?"
            }
            FileUpdate::Rename(_) => {
                "UPDATE files SET name = ?, rev = rev + 1 WHERE id = ? AND rev = ?"
            }
            FileUpdate::Move { .. } => {
                "UPDATE files SET container_id = ?, rev = rev + 1 WHERE id = ? AND rev = ?"
            }
        };
        let sql = format!("{sql} RETURNING {FILE_COLS}");
        let query = match &update {
            FileUpdate::Lock {
                id: lock,
                expires_ms,
            } => sqlx::query(&sql).bind(lock).bind(expires_ms),
            FileUpdate::Content(c) | FileUpdate::Save { content: c, .. } => sqlx::query(&sql)
                .bind(size_i64(c.size))
                .bind(&c.sha256)
                .bind(&c.blob_key)
                .bind(c.modified_ms),
            FileUpdate::Rename(name) => sqlx::query(&sql).bind(name),
            FileUpdate::Move { container_id } => sqlx::query(&sql).bind(container_id),
        }
        .bind(id)
        .bind(expected_rev);
        let mut tx = match &update {
            FileUpdate::Content(_) | FileUpdate::Save { .. } => Some(self.writer.begin().await?),
            _ => None,
        };
        let row = match &mut tx {
            Some(tx) => query.fetch_optional(&mut **tx).await,
            None => query.fetch_optional(&self.writer).await,
        };
        let row = match row {
            Ok(Some(row)) => row,
            Ok(None) => return Ok(Cas::Stale),
            Err(e) if is_unique_violation(&e) => return Ok(Cas::NameTaken),
            Err(e) => return Err(e.into()),
        };
        let file = file_row(&row)?;
        if let Some(mut tx) = tx {
            match &update {
                FileUpdate::Save {
                    content,
                    info,
                    replaces,
                } => {
                    if let Some(v) = replaces {
                        sqlx::query("DELETE FROM versions WHERE file_id = ? AND version = ?")
                            .bind(id)
                            .bind(v)
                            .execute(&mut *tx)
                            .await?;
                    }
                    insert_version(&mut tx, id, file.version, content, info).await?;
                }
                FileUpdate::Content(c) => {
                    insert_version(&mut tx, id, file.version, c, &SaveInfo::default()).await?
                }
                FileUpdate::Lock { .. } | FileUpdate::Rename(_) | FileUpdate::Move { .. } => {}
            }
            tx.commit().await?;
        }
        Ok(Cas::Applied(Box::new(file)))
    }

    async fn delete_file(&self, id: &str, expected_rev: i64) -> Result<Option<Vec<String>>> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query("DELETE FROM files WHERE id = ? AND rev = ?")
            .bind(id)
            .bind(expected_rev)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        let keys: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT blob_key FROM versions WHERE file_id = ?")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        sqlx::query("DELETE FROM versions WHERE file_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM activities WHERE file_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(keys))
    }

    async fn versions(&self, file_id: &str) -> Result<Vec<VersionRecord>> {
        self.version_rows(file_id, "ORDER BY version").await
    }

    async fn last_version(&self, file_id: &str) -> Result<Option<VersionRecord>> {
        Ok(self
            .version_rows(file_id, "ORDER BY version DESC LIMIT 1")
            .await?
            .pop())
    }

    async fn add_activity(&self, a: &ActivityRecord) -> Result<()> {
        sqlx::query("INSERT INTO activities (file_id, activity_id, kind, user_id, body, received_ms) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(&a.file_id)
            .bind(&a.activity_id)
            .bind(&a.kind)
            .bind(&a.user_id)
            .bind(&a.body)
            .bind(a.received_ms)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn activities(&self, file_id: &str) -> Result<Vec<ActivityRecord>> {
        let rows = sqlx::query(
            "SELECT file_id, activity_id, kind, user_id, body, received_ms FROM activities WHERE file_id = ? ORDER BY rowid",
        )
        .bind(file_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ActivityRecord {
                    file_id: r.try_get("file_id")?,
                    activity_id: r.try_get("activity_id")?,
                    kind: r.try_get("kind")?,
                    user_id: r.try_get("user_id")?,
                    body: r.try_get("body")?,
                    received_ms: r.try_get("received_ms")?,
                })
            })
            .collect()
    }

    async fn ping(&self) -> Result<()> {
        let v: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&self.pool)
            .await?;
        if usize::try_from(v).ok() != Some(MIGRATIONS.len()) {
            return Err(StoreError::Invalid("database schema is not current"));
        }
        Ok(())
    }
}

async fn insert_version(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    file_id: &str,
    version: i64,
    c: &Content,
    info: &SaveInfo,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO versions (file_id, version, blob_key, size, sha256, modified_ms, author_id, \
         editors, autosave, exit_save, modified_by_user, session) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(file_id)
    .bind(version)
    .bind(&c.blob_key)
    .bind(size_i64(c.size))
    .bind(&c.sha256)
    .bind(c.modified_ms)
    .bind(&c.author_id)
    .bind(&info.editors)
    .bind(info.autosave)
    .bind(info.exit_save)
    .bind(info.modified_by_user)
    .bind(&info.session)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
