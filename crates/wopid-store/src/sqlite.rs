//! The embedded metadata engine: SQLite (compiled in, driven through rusqlite) in WAL mode with
//! full synchronous commits.
//!
//! Reads run on the thread that asks, on a connection it takes from a small pool of idle ones and
//! gives back: no statement is handed to another thread, and WAL lets them run beside the writer.
//!
//! Writes go to one writer thread that owns the only writing connection of this process and
//! commits in groups ([`writer`]): it takes every write waiting in its queue, applies each inside
//! a savepoint of one `BEGIN IMMEDIATE` transaction (a write that fails is rolled back alone),
//! commits once with `synchronous = FULL` (one fsync of the WAL for the whole group), and only then
//! answers each caller. Other processes (a CLI command beside the server) wait for SQLite's write
//! lock with the busy timeout.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, OptionalExtension as _, Params, Row, params};

use crate::error::{Result, StoreError};
use crate::meta::{Cas, MetaBackend};
use crate::model::*;
use crate::rows::{self, container_cols, file_cols, size_i64, user_cols, version_cols};
use crate::schema::{self, Engine, MIGRATIONS};
use crate::writer::Writer;

/// How long a connection waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Idle read connections kept for reuse; more may be open while many threads read at once.
const IDLE_READERS: usize = 16;
/// Prepared statements each connection keeps.
const STATEMENT_CACHE: usize = 64;

pub(crate) struct SqliteMeta {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    pub(crate) writer: Writer,
}

/// A UNIQUE or PRIMARY KEY constraint failed.
pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

fn connect(path: &Path, flags: OpenFlags) -> Result<Connection> {
    let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(conn)
}

/// The first row of a query, mapped.
pub(crate) fn one<T>(
    c: &Connection,
    sql: &str,
    params: impl Params,
    map: impl FnOnce(&Row<'_>) -> Result<T>,
) -> Result<Option<T>> {
    let mut st = c.prepare_cached(sql)?;
    let mut rows = st.query(params)?;
    match rows.next()? {
        Some(r) => Ok(Some(map(r)?)),
        None => Ok(None),
    }
}

/// Every row of a query, mapped.
pub(crate) fn all<T>(
    c: &Connection,
    sql: &str,
    params: impl Params,
    mut map: impl FnMut(&Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut st = c.prepare_cached(sql)?;
    let mut rows = st.query(params)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(map(r)?);
    }
    Ok(out)
}

/// Runs one statement; how many rows it changed.
pub(crate) fn exec(c: &Connection, sql: &str, params: impl Params) -> Result<usize> {
    Ok(c.prepare_cached(sql)?.execute(params)?)
}

/// A statement whose unique-constraint failure is an answer (`Ok(false)`), not an error.
pub(crate) fn exec_unless_taken(
    c: &Connection,
    sql: &str,
    params: impl Params,
) -> Result<Option<usize>> {
    match c.prepare_cached(sql)?.execute(params) {
        Ok(n) => Ok(Some(n)),
        Err(e) if is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

const FILE_BY_ID: &str = concat!(
    "SELECT ",
    file_cols!(),
    " FROM files WHERE id = ?1 AND trashed_ms IS NULL"
);
const USER_BY_ID: &str = concat!("SELECT ", user_cols!(), " FROM users WHERE id = ?1");
const USER_BY_LOGIN: &str = concat!("SELECT ", user_cols!(), " FROM users WHERE login = ?1");
const CONTAINER_BY_ID: &str = concat!(
    "SELECT ",
    container_cols!(),
    " FROM containers WHERE id = ?1 AND trashed_ms IS NULL"
);
const ROOT_OF: &str = concat!(
    "SELECT ",
    container_cols!(),
    " FROM containers WHERE owner_id = ?1 AND parent_id IS NULL"
);

impl SqliteMeta {
    pub(crate) async fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir).await?;
        }
        let path = path.to_owned();
        let open_path = path.clone();
        // Opening, switching to WAL and migrating block: do it off the async threads.
        let conn = tokio::task::spawn_blocking(move || -> Result<Connection> {
            let conn = connect(
                &open_path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
            )?;
            let mode: String =
                conn.pragma_update_and_check(None, "journal_mode", "wal", |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StoreError::Invalid("SQLite could not switch to WAL mode"));
            }
            conn.pragma_update(None, "synchronous", "FULL")?;
            migrate(&conn)?;
            Ok(conn)
        })
        .await
        .map_err(|_| StoreError::Invalid("opening the database panicked"))??;
        Ok(Self {
            path,
            idle: Mutex::new(Vec::new()),
            writer: Writer::start(conn)?,
        })
    }

    /// Runs `f` on a read connection, on this thread.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        let conn = match idle {
            Some(c) => c,
            None => {
                let c = connect(&self.path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
                c.pragma_update(None, "query_only", true)?;
                c
            }
        };
        let out = f(&conn);
        // A connection left inside a transaction (a failed read) is not reused.
        if conn.is_autocommit() {
            let mut idle = self
                .idle
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if idle.len() < IDLE_READERS {
                idle.push(conn);
            }
        }
        out
    }

    /// How many transactions the writer has committed (for tests of group commit).
    #[cfg(test)]
    pub(crate) fn commits(&self) -> u64 {
        self.writer.commits()
    }
}

fn migrate(conn: &Connection) -> Result<()> {
    // BEGIN IMMEDIATE: two processes starting at once must not both run a migration.
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| -> Result<()> {
        let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (i, sql) in schema::migrations(Engine::Sqlite)
            .iter()
            .enumerate()
            .skip(usize::try_from(current).unwrap_or(0))
        {
            conn.execute_batch(sql)?;
            conn.pragma_update(None, "user_version", i64::try_from(i + 1).unwrap_or(0))?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(conn.execute_batch("COMMIT")?),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

pub(crate) fn file_by_id(c: &Connection, id: &str) -> Result<Option<FileRecord>> {
    one(c, FILE_BY_ID, [id], |r| rows::file(r))
}

fn user_by_login(c: &Connection, login: &str) -> Result<Option<User>> {
    one(c, USER_BY_LOGIN, [login], |r| rows::user(r))
}

fn insert_version(
    c: &Connection,
    file_id: &str,
    version: i64,
    content: &Content,
    info: &SaveInfo,
) -> Result<()> {
    // A content made of chunks is touched in the commit that references it; when the collector
    // freed it meanwhile, nothing is committed.
    if let Some(cid) = crate::chunks::content_id(&content.blob_key) {
        let touched = exec(
            c,
            "UPDATE contents SET used_ms = max(used_ms, ?1), file_id = ?3 \
             WHERE id = ?2 AND file_id IN ('', ?3)",
            params![content.modified_ms, cid, file_id],
        )?;
        if touched == 0 {
            return Err(StoreError::ContentGone);
        }
    }
    exec(
        c,
        concat!(
            "INSERT INTO versions (",
            version_cols!(),
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
        ),
        params![
            file_id,
            version,
            content.blob_key,
            size_i64(content.size),
            content.sha256,
            content.modified_ms,
            content.author_id,
            info.editors,
            info.autosave,
            info.exit_save,
            info.modified_by_user,
            info.session,
        ],
    )?;
    Ok(())
}

/// A file's compare-and-swap, inside the writer's transaction.
fn apply_update(c: &Connection, id: &str, expected_rev: i64, update: &FileUpdate) -> Result<Cas> {
    // `RETURNING` hands back the new row from the statement that changed it.
    let returned = match update {
        FileUpdate::Lock {
            id: lock,
            expires_ms,
            user,
        } => one(
            c,
            concat!(
                "UPDATE files SET lock_id = ?1, lock_expires_ms = ?2, lock_user = ?5, rev = rev + 1 \
                 WHERE id = ?3 AND rev = ?4 RETURNING ",
                file_cols!()
            ),
            params![lock, expires_ms, id, expected_rev, user],
            |r| rows::file(r),
        ),
        FileUpdate::Content(ct) | FileUpdate::Save { content: ct, .. } => one(
            c,
            concat!(
                "UPDATE files SET size = ?1, sha256 = ?2, blob_key = ?3, version = version + 1, modified_ms = ?4, \
                 sequence_number = MIN(sequence_number + 1, 2147483647), \
                 rev = rev + 1 WHERE id = ?5 AND rev = ?6 RETURNING ",
                file_cols!()
            ),
            params![
                size_i64(ct.size),
                ct.sha256,
                ct.blob_key,
                ct.modified_ms,
                id,
                expected_rev
            ],
            |r| rows::file(r),
        ),
        FileUpdate::Rename(name) => one(
            c,
            concat!(
                "UPDATE files SET name = ?1, rev = rev + 1 WHERE id = ?2 AND rev = ?3 RETURNING ",
                file_cols!()
            ),
            params![name, id, expected_rev],
            |r| rows::file(r),
        ),
        FileUpdate::Move { container_id } => one(
            c,
            concat!(
                "UPDATE files SET container_id = ?1, rev = rev + 1 WHERE id = ?2 AND rev = ?3 RETURNING ",
                file_cols!()
            ),
            params![container_id, id, expected_rev],
            |r| rows::file(r),
        ),
        FileUpdate::Coauth(locks) => one(
            c,
            concat!(
                "UPDATE files SET coauth_locks = ?1, coauth_expires_ms = ?2, rev = rev + 1 \
                 WHERE id = ?3 AND rev = ?4 RETURNING ",
                file_cols!()
            ),
            params![
                rows::coauth_locks_json(locks),
                rows::coauth_expires_ms(locks),
                id,
                expected_rev
            ],
            |r| rows::file(r),
        ),
    };
    let file = match returned {
        Ok(Some(f)) => f,
        Ok(None) => return Ok(Cas::Stale),
        Err(StoreError::Sqlite(e)) if is_unique_violation(&e) => return Ok(Cas::NameTaken),
        Err(e) => return Err(e),
    };
    match update {
        FileUpdate::Save {
            content,
            info,
            replaces,
        } => {
            if let Some(v) = replaces {
                exec(
                    c,
                    "DELETE FROM versions WHERE file_id = ?1 AND version = ?2",
                    params![id, v],
                )?;
            }
            insert_version(c, id, file.version, content, info)?;
        }
        FileUpdate::Content(ct) => insert_version(c, id, file.version, ct, &SaveInfo::default())?,
        FileUpdate::Lock { .. }
        | FileUpdate::Rename(_)
        | FileUpdate::Move { .. }
        | FileUpdate::Coauth(_) => {}
    }
    Ok(Cas::Applied(Box::new(file)))
}

#[async_trait]
impl MetaBackend for SqliteMeta {
    async fn ensure_user(&self, login: &str, display_name: &str, now_ms: i64) -> Result<User> {
        let (login, display_name) = (login.to_owned(), display_name.to_owned());
        self.writer
            .write(move |c| {
                exec(
                    c,
                    "INSERT INTO users (id, login, display_name, created_ms, admin) \
                     VALUES (?1, ?2, ?3, ?4, NOT EXISTS (SELECT 1 FROM users)) \
                     ON CONFLICT(login) DO NOTHING",
                    params![crate::new_id(), login, display_name, now_ms],
                )?;
                user_by_login(c, &login)?.ok_or(StoreError::Invalid("user vanished after insert"))
            })
            .await
    }

    async fn user(&self, id: &str) -> Result<Option<User>> {
        self.read(|c| one(c, USER_BY_ID, [id], |r| rows::user(r)))
    }

    async fn user_by_login(&self, login: &str) -> Result<Option<User>> {
        self.read(|c| user_by_login(c, login))
    }

    async fn set_user_info(&self, user_id: &str, info: &str) -> Result<()> {
        let (user_id, info) = (user_id.to_owned(), info.to_owned());
        self.writer
            .write(move |c| {
                exec(
                    c,
                    "UPDATE users SET user_info = ?1 WHERE id = ?2",
                    [info, user_id],
                )?;
                Ok(())
            })
            .await
    }

    async fn root_container(&self, user_id: &str, now_ms: i64) -> Result<Container> {
        if let Some(root) = self.read(|c| one(c, ROOT_OF, [user_id], |r| rows::container(r)))? {
            return Ok(root);
        }
        let user_id = user_id.to_owned();
        self.writer
            .write(move |c| {
                let login: Option<String> = c
                    .query_row("SELECT login FROM users WHERE id = ?1", [&user_id], |r| {
                        r.get(0)
                    })
                    .optional()?;
                exec(
                    c,
                    "INSERT INTO containers (id, parent_id, owner_id, name, created_ms) VALUES (?1, NULL, ?2, ?3, ?4) \
                     ON CONFLICT DO NOTHING",
                    params![
                        crate::new_id(),
                        user_id,
                        login.as_deref().unwrap_or(&user_id),
                        now_ms
                    ],
                )?;
                one(c, ROOT_OF, [&user_id], |r| rows::container(r))?
                    .ok_or(StoreError::Invalid("root container vanished after insert"))
            })
            .await
    }

    async fn container(&self, id: &str) -> Result<Option<Container>> {
        self.read(|c| one(c, CONTAINER_BY_ID, [id], |r| rows::container(r)))
    }

    async fn create_user(&self, u: &NewUser, now_ms: i64) -> Result<bool> {
        let u = u.clone();
        self.writer
            .write(move |c| {
                Ok(exec_unless_taken(
                    c,
                    "INSERT INTO users (id, login, display_name, email, password_hash, created_ms, admin) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, NOT EXISTS (SELECT 1 FROM users))",
                    params![
                        u.id,
                        u.login,
                        u.display_name,
                        u.email,
                        u.password_hash,
                        now_ms
                    ],
                )?
                .is_some())
            })
            .await
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        self.read(|c| {
            all(
                c,
                concat!("SELECT ", user_cols!(), " FROM users ORDER BY login"),
                [],
                |r| rows::user(r),
            )
        })
    }

    async fn create_container(
        &self,
        id: &str,
        parent_id: &str,
        owner_id: &str,
        name: &str,
        now_ms: i64,
    ) -> Result<Option<Container>> {
        let (id, parent_id, owner_id, name) = (
            id.to_owned(),
            parent_id.to_owned(),
            owner_id.to_owned(),
            name.to_owned(),
        );
        self.writer
            .write(move |c| {
                let done = exec_unless_taken(
                    c,
                    "INSERT INTO containers (id, parent_id, owner_id, name, created_ms) SELECT ?1, ?2, ?3, ?4, ?5 \
                     WHERE EXISTS (SELECT 1 FROM containers WHERE id = ?2 AND trashed_ms IS NULL)",
                    params![id, parent_id, owner_id, name, now_ms],
                )?;
                match done {
                    Some(_) => one(c, CONTAINER_BY_ID, [&id], |r| rows::container(r)),
                    None => Ok(None),
                }
            })
            .await
    }

    async fn child_containers(&self, parent_id: &str) -> Result<Vec<Container>> {
        self.read(|c| {
            all(
                c,
                concat!(
                    "SELECT ",
                    container_cols!(),
                    " FROM containers WHERE parent_id = ?1 AND trashed_ms IS NULL ORDER BY name"
                ),
                [parent_id],
                |r| rows::container(r),
            )
        })
    }

    async fn container_by_name(&self, parent_id: &str, name: &str) -> Result<Option<Container>> {
        self.read(|c| {
            one(
                c,
                concat!(
                    "SELECT ",
                    container_cols!(),
                    " FROM containers WHERE parent_id = ?1 AND name = ?2 COLLATE NOCASE AND trashed_ms IS NULL"
                ),
                [parent_id, name],
                |r| rows::container(r),
            )
        })
    }

    async fn rename_container(&self, id: &str, name: &str) -> Result<bool> {
        let (id, name) = (id.to_owned(), name.to_owned());
        self.writer
            .write(move |c| {
                Ok(exec_unless_taken(
                    c,
                    "UPDATE containers SET name = ?1 WHERE id = ?2 AND trashed_ms IS NULL",
                    [name, id],
                )? == Some(1))
            })
            .await
    }

    async fn delete_container(&self, id: &str) -> Result<ContainerDeletion> {
        let id = id.to_owned();
        self.writer
            .write(move |c| {
                // One statement: the emptiness check and the delete cannot be separated by
                // another writer.
                let done = exec(
                    c,
                    "DELETE FROM containers WHERE id = ?1 AND parent_id IS NOT NULL \
                     AND NOT EXISTS (SELECT 1 FROM files WHERE container_id = ?1) \
                     AND NOT EXISTS (SELECT 1 FROM containers c WHERE c.parent_id = ?1)",
                    [&id],
                )?;
                if done == 1 {
                    exec(c, "DELETE FROM shares WHERE resource_id = ?1", [&id])?;
                    return Ok(ContainerDeletion::Deleted);
                }
                let exists = one(c, "SELECT 1 FROM containers WHERE id = ?1", [&id], |_| {
                    Ok(())
                })?;
                Ok(if exists.is_some() {
                    ContainerDeletion::NotEmpty
                } else {
                    ContainerDeletion::Missing
                })
            })
            .await
    }

    async fn create_file(&self, f: NewFile) -> Result<Cas> {
        self.writer
            .write(move |c| {
                let done = exec_unless_taken(
                    c,
                    "INSERT INTO files (id, container_id, owner_id, name, size, sha256, blob_key, version, modified_ms, rev, created_ms) \
                     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, 1, ?8 \
                     WHERE EXISTS (SELECT 1 FROM containers WHERE id = ?2 AND trashed_ms IS NULL)",
                    params![
                        f.id,
                        f.container_id,
                        f.owner_id,
                        f.name,
                        size_i64(f.content.size),
                        f.content.sha256,
                        f.content.blob_key,
                        f.content.modified_ms,
                    ],
                )?;
                match done {
                    None => return Ok(Cas::NameTaken),
                    Some(0) => return Ok(Cas::Stale),
                    Some(_) => {}
                }
                insert_version(c, &f.id, 1, &f.content, &SaveInfo::default())?;
                Ok(file_by_id(c, &f.id)?.map_or(Cas::Stale, |f| Cas::Applied(Box::new(f))))
            })
            .await
    }

    async fn file(&self, id: &str) -> Result<Option<FileRecord>> {
        self.read(|c| file_by_id(c, id))
    }

    async fn file_by_name(&self, container_id: &str, name: &str) -> Result<Option<FileRecord>> {
        self.read(|c| {
            one(
                c,
                concat!(
                    "SELECT ",
                    file_cols!(),
                    " FROM files WHERE container_id = ?1 AND name = ?2 COLLATE NOCASE AND trashed_ms IS NULL"
                ),
                [container_id, name],
                |r| rows::file(r),
            )
        })
    }

    async fn list_files(&self, container_id: Option<&str>) -> Result<Vec<FileRecord>> {
        self.read(|c| match container_id {
            Some(id) => all(
                c,
                concat!(
                    "SELECT ",
                    file_cols!(),
                    " FROM files WHERE container_id = ?1 AND trashed_ms IS NULL ORDER BY name"
                ),
                [id],
                |r| rows::file(r),
            ),
            None => all(
                c,
                concat!(
                    "SELECT ",
                    file_cols!(),
                    " FROM files WHERE trashed_ms IS NULL ORDER BY name"
                ),
                [],
                |r| rows::file(r),
            ),
        })
    }

    async fn update_file(&self, id: &str, expected_rev: i64, update: FileUpdate) -> Result<Cas> {
        let id = id.to_owned();
        self.writer
            .write(move |c| apply_update(c, &id, expected_rev, &update))
            .await
    }

    async fn delete_file(&self, id: &str, expected_rev: i64) -> Result<Option<Vec<String>>> {
        let id = id.to_owned();
        self.writer
            .write(move |c| {
                let done = exec(
                    c,
                    "DELETE FROM files WHERE id = ?1 AND rev = ?2",
                    params![id, expected_rev],
                )?;
                if done == 0 {
                    return Ok(None);
                }
                let keys = all(
                    c,
                    "SELECT DISTINCT blob_key FROM versions WHERE file_id = ?1",
                    [&id],
                    |r| Ok(r.get(0)?),
                )?;
                exec(c, "DELETE FROM versions WHERE file_id = ?1", [&id])?;
                exec(c, "DELETE FROM activities WHERE file_id = ?1", [&id])?;
                Ok(Some(keys))
            })
            .await
    }

    async fn versions(&self, file_id: &str) -> Result<Vec<VersionRecord>> {
        self.read(|c| {
            all(
                c,
                concat!(
                    "SELECT ",
                    version_cols!(),
                    " FROM versions WHERE file_id = ?1 ORDER BY version"
                ),
                [file_id],
                |r| rows::version(r),
            )
        })
    }

    async fn last_version(&self, file_id: &str) -> Result<Option<VersionRecord>> {
        self.read(|c| {
            one(
                c,
                concat!(
                    "SELECT ",
                    version_cols!(),
                    " FROM versions WHERE file_id = ?1 ORDER BY version DESC LIMIT 1"
                ),
                [file_id],
                |r| rows::version(r),
            )
        })
    }

    async fn add_activity(&self, a: &ActivityRecord) -> Result<()> {
        let a = a.clone();
        self.writer
            .write(move |c| {
                exec(
                    c,
                    concat!(
                        "INSERT INTO activities (",
                        rows::activity_cols!(),
                        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                    ),
                    params![
                        a.file_id,
                        a.activity_id,
                        a.kind,
                        a.user_id,
                        a.body,
                        a.received_ms
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn activities(&self, file_id: &str) -> Result<Vec<ActivityRecord>> {
        self.read(|c| {
            all(
                c,
                concat!(
                    "SELECT ",
                    rows::activity_cols!(),
                    " FROM activities WHERE file_id = ?1 ORDER BY rowid"
                ),
                [file_id],
                |r| rows::activity(r),
            )
        })
    }

    async fn ping(&self) -> Result<()> {
        let v: i64 = self.read(|c| Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?))?;
        if usize::try_from(v).ok() != Some(MIGRATIONS.len()) {
            return Err(StoreError::Invalid("database schema is not current"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn content(key: &str) -> Content {
        Content {
            blob_key: key.into(),
            size: 1,
            sha256: "00".into(),
            author_id: "u".into(),
            modified_ms: 2,
        }
    }

    async fn new_file(db: &SqliteMeta, root: &Container, name: &str) -> FileRecord {
        let f = NewFile {
            id: name.into(),
            container_id: root.id.clone(),
            owner_id: root.owner_id.clone(),
            name: name.into(),
            content: content("k"),
        };
        match db.create_file(f).await.expect("create") {
            Cas::Applied(f) => *f,
            other => panic!("not created: {other:?}"),
        }
    }

    /// Writes queued together commit in one transaction; the one that fails is rolled back alone
    /// and answered with its error, the stale one is answered `Stale`, and the others are
    /// committed and acknowledged.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_failing_write_leaves_the_rest_of_its_group_committed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Arc::new(
            SqliteMeta::open(&dir.path().join("m.db"))
                .await
                .expect("open"),
        );
        let u = db.ensure_user("u", "U", 1).await.expect("user");
        let root = db.root_container(&u.id, 1).await.expect("root");
        let (a, b, c) = (
            new_file(&db, &root, "a").await,
            new_file(&db, &root, "b").await,
            new_file(&db, &root, "c").await,
        );

        // Hold the writer busy so that the next writes queue up behind it.
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel::<()>();
        let hold = tokio::spawn({
            let db = db.clone();
            async move {
                db.writer
                    .write(move |_| {
                        let _ = started.send(());
                        let _ = wait.recv();
                        Ok(())
                    })
                    .await
            }
        });
        running.await.expect("writer runs the first write");
        let before = db.commits();

        let lock = FileUpdate::Lock {
            id: Some("L".into()),
            expires_ms: 99,
            user: None,
        };
        let (locked, stale, failed, saved, ()) = tokio::join!(
            db.update_file(&a.id, a.rev, lock.clone()),
            db.update_file(&b.id, b.rev + 7, lock.clone()),
            // A write that changes a row and then fails: its change must not stand.
            db.writer.write({
                let id = c.id.clone();
                move |conn| {
                    exec(conn, "UPDATE files SET name = 'zzz' WHERE id = ?1", [&id])?;
                    exec(conn, "INSERT INTO users (id) VALUES (NULL)", [])?;
                    Ok(())
                }
            }),
            db.update_file(&b.id, b.rev, FileUpdate::Content(content("k2"))),
            async {
                // Every write above has been queued on its first poll; let the writer go on.
                go.send(()).expect("release");
            },
        );
        hold.await.expect("join").expect("held write");

        assert!(matches!(locked, Ok(Cas::Applied(ref f)) if f.lock_id.as_deref() == Some("L")));
        assert!(matches!(stale, Ok(Cas::Stale)), "{stale:?}");
        assert!(matches!(failed, Err(StoreError::Sqlite(_))), "{failed:?}");
        assert!(
            matches!(saved, Ok(Cas::Applied(ref f)) if f.version == 2),
            "{saved:?}"
        );
        // The held write's group, then one group for the four writes.
        assert_eq!(db.commits(), before + 2);

        // What was acknowledged is in the database; what failed is not.
        let a2 = db.file(&a.id).await.expect("read").expect("a");
        assert_eq!(a2.lock_id.as_deref(), Some("L"));
        let b2 = db.file(&b.id).await.expect("read").expect("b");
        assert_eq!((b2.version, b2.blob_key.as_str()), (2, "k2"));
        assert_eq!(db.versions(&b.id).await.expect("versions").len(), 2);
        let c2 = db.file(&c.id).await.expect("read").expect("c");
        assert_eq!(c2, c);

        // And it is there for a new process too.
        drop(db);
        let again = SqliteMeta::open(&dir.path().join("m.db"))
            .await
            .expect("reopen");
        assert_eq!(
            again
                .file(&a.id)
                .await
                .expect("read")
                .expect("a")
                .lock_id
                .as_deref(),
            Some("L")
        );
    }
}
