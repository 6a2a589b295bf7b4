//! The scale-out metadata engine: PostgreSQL, shared by any number of wopid nodes.
//!
//! Every change that races (locks, versions, names) is one conditional statement, `UPDATE …
//! WHERE id = $1 AND rev = $2`, inside one transaction: under READ COMMITTED a second writer of the
//! same row waits for the first to commit and then re-checks the condition against the new row, so
//! exactly one of any number of racing nodes applies its change and the others see `Stale`.
//!
//! The URL is a libpq-style `postgres://user:password@host:port/db?…` with a few wopid options
//! (removed before the rest goes to the driver): `schema` (a schema of its own, created when
//! missing), `pool_max` (connections, default 16), `acquire_timeout_ms` (default 5000) and
//! `statement_timeout_ms` (default 15000). Without a password in the URL, `WOPID_META_PASSWORD` or
//! the file named by `WOPID_META_PASSWORD_FILE` gives it.

use std::str::FromStr as _;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Postgres;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::error::{Result, StoreError};
use crate::meta::{Cas, MetaBackend, redact_url};
use crate::model::*;
use crate::rows::{
    container as container_row, file as file_row, user as user_row, version as version_row,
};
use crate::schema::{self, Engine, MIGRATIONS};

pub(crate) struct PgMeta {
    pub(crate) pool: PgPool,
    /// Connections of `pool` kept for the hot read (see [`HotReads`]).
    hot: HotReads,
}

/// Pooled connections kept between reads of the request path (`token_file`, one statement per
/// WOPI request). The driver tests a connection with a round trip (a `Sync`) every time one goes
/// back to its pool: as much again as the read itself, on both sides of the socket. A connection
/// kept here after a read that completed is in a clean state (the statement ran to its end), so
/// it is reused without that round trip. One whose read failed or was cancelled is not kept: it
/// goes back to the pool, which tests it as usual. Nothing read is kept, only connections.
///
/// At most half of `pool_max` connections are kept, so the other statements always have the other
/// half; a kept connection idle for `IDLE_CHECK` goes back to the pool instead of being used.
struct HotReads {
    idle: std::sync::Mutex<Vec<(PoolConnection<Postgres>, std::time::Instant)>>,
    keep: usize,
}

impl HotReads {
    fn new(pool_max: u32) -> Self {
        Self {
            idle: std::sync::Mutex::default(),
            keep: usize::try_from(pool_max / 2).unwrap_or(0),
        }
    }

    /// The most recently used kept connection that is still fresh; stale ones go back to the
    /// pool (which tests them when they are next acquired).
    fn take(&self) -> Option<PoolConnection<Postgres>> {
        let mut idle = self.idle.lock().ok()?;
        while let Some((conn, since)) = idle.pop() {
            if since.elapsed() < IDLE_CHECK {
                return Some(conn);
            }
            // Dropped: back to the pool.
            drop(conn);
        }
        None
    }

    /// Keeps a connection whose statement completed, or gives it back to the pool when enough
    /// are kept.
    fn put(&self, conn: PoolConnection<Postgres>) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.keep
        {
            idle.push((conn, std::time::Instant::now()));
        }
    }
}

impl PgMeta {
    /// Runs one read of the request path on a kept connection, or on one from the pool; the
    /// connection is kept afterwards only if the read succeeded.
    pub(crate) async fn hot_read<T>(
        &self,
        read: impl AsyncFnOnce(&mut sqlx::PgConnection) -> std::result::Result<T, sqlx::Error>,
    ) -> Result<T> {
        let mut conn = match self.hot.take() {
            Some(c) => c,
            None => self.pool.acquire().await?,
        };
        let out = read(&mut conn).await?;
        self.hot.put(conn);
        Ok(out)
    }
}

const FILE_COLS: &str = crate::rows::file_cols!();
const VERSION_COLS: &str = crate::rows::version_cols!();

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

fn is_fk_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_foreign_key_violation())
}

fn size_i64(size: u64) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX)
}

/// A pooled connection idle at least this long is pinged before it is used again.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// The parsed URL: the driver's options plus wopid's own.
struct PgUrl {
    opts: PgConnectOptions,
    schema: Option<String>,
    pool_max: u32,
    acquire_timeout: Duration,
}

fn valid_schema(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !s.as_bytes()[0].is_ascii_digit()
}

fn url_has_password(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

/// The password from `WOPID_META_PASSWORD`, else from the file `WOPID_META_PASSWORD_FILE` names.
fn env_password() -> Result<Option<String>> {
    if let Ok(p) = std::env::var("WOPID_META_PASSWORD") {
        return Ok(Some(p));
    }
    match std::env::var("WOPID_META_PASSWORD_FILE") {
        Ok(path) => {
            let text = std::fs::read_to_string(&path)?;
            Ok(Some(text.trim_end_matches(['\r', '\n']).to_owned()))
        }
        Err(_) => Ok(None),
    }
}

fn parse_url(url: &str) -> Result<PgUrl> {
    let bad = || StoreError::BadUrl(redact_url(url));
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut schema = None;
    let mut pool_max = 16u32;
    let mut acquire_ms = 5_000u64;
    let mut statement_ms = 15_000u64;
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "schema" if valid_schema(v) => schema = Some(v.to_owned()),
            "schema" => return Err(StoreError::Invalid("schema: use [a-z_][a-z0-9_]*")),
            "pool_max" => pool_max = v.parse().ok().filter(|n| *n > 0).ok_or_else(bad)?,
            "acquire_timeout_ms" => acquire_ms = v.parse().map_err(|_| bad())?,
            "statement_timeout_ms" => statement_ms = v.parse().map_err(|_| bad())?,
            _ => rest.push(pair),
        }
    }
    let driver_url = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    // The driver's own messages may quote the URL: report only the redacted form.
    let mut opts = PgConnectOptions::from_str(&driver_url).map_err(|_| bad())?;
    if !url_has_password(base)
        && let Some(p) = env_password()?
    {
        opts = opts.password(&p);
    }
    let statement = statement_ms.to_string();
    // Every statement wopid sends is a cached prepared statement whose parameters are keys
    // (ids, hashes): its generic plan is the same index lookups, so planning it again on each
    // run (a custom plan) is CPU spent for nothing.
    let mut startup = vec![
        ("statement_timeout", statement.as_str()),
        ("plan_cache_mode", "force_generic_plan"),
    ];
    if let Some(s) = &schema {
        startup.push(("search_path", s.as_str()));
    }
    opts = opts.application_name("wopid").options(startup);
    Ok(PgUrl {
        opts,
        schema,
        pool_max,
        acquire_timeout: Duration::from_millis(acquire_ms),
    })
}

impl PgMeta {
    pub(crate) async fn open(url: &str) -> Result<Self> {
        let u = parse_url(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(u.pool_max)
            .min_connections(0)
            .acquire_timeout(u.acquire_timeout)
            // A connection that broke while idle (the database restarted) is found out and
            // replaced before it is handed to a request. One in steady use is not pinged: that
            // would be a round trip before every statement.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for < IDLE_CHECK {
                        return Ok(true);
                    }
                    Ok(sqlx::Connection::ping(conn).await.is_ok())
                })
            })
            .idle_timeout(Some(Duration::from_secs(300)))
            .connect_with(u.opts)
            .await?;
        let db = Self {
            pool,
            hot: HotReads::new(u.pool_max),
        };
        db.migrate(u.schema.as_deref()).await?;
        Ok(db)
    }

    /// Applies the missing migrations in one transaction, under an advisory lock so that nodes
    /// starting together do not both migrate.
    async fn migrate(&self, schema: Option<&str>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let lock_key = format!("wopid-migrate:{}", schema.unwrap_or(""));
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1)::bigint)")
            .bind(&lock_key)
            .execute(&mut *tx)
            .await?;
        if let Some(s) = schema {
            // `s` is validated as [a-z_][a-z0-9_]*, so quoting it is enough.
            sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{s}\""))
                .execute(&mut *tx)
                .await?;
        }
        // `version` counts the migrations of the shared list that ran when `shared_list` is
        // true; a row an older wopid wrote (false) counted PostgreSQL's own earlier list, and is
        // converted once, in this transaction.
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS wopid_schema (version BIGINT NOT NULL); \
             ALTER TABLE wopid_schema ADD COLUMN IF NOT EXISTS shared_list BOOLEAN NOT NULL DEFAULT FALSE",
        )
        .execute(&mut *tx)
        .await?;
        let row: Option<(i64, bool)> = sqlx::query_as(
            "SELECT version, shared_list FROM wopid_schema ORDER BY version DESC LIMIT 1",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let current = match row {
            None => 0,
            Some((v, true)) => usize::try_from(v).unwrap_or(usize::MAX),
            Some((v, false)) => schema::from_postgres_list(v)
                .ok_or(StoreError::Invalid("unknown PostgreSQL schema version"))?,
        };
        let all = schema::migrations(Engine::Postgres);
        for sql in all.iter().skip(current) {
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
        }
        // A database a newer wopid migrated further keeps its count.
        let ran = i64::try_from(current.max(all.len())).unwrap_or(i64::MAX);
        if row != Some((ran, true)) {
            sqlx::query("DELETE FROM wopid_schema")
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO wopid_schema (version, shared_list) VALUES ($1, TRUE)")
                .bind(ran)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[async_trait]
impl MetaBackend for PgMeta {
    async fn ensure_user(&self, login: &str, display_name: &str, now_ms: i64) -> Result<User> {
        sqlx::query(
            "INSERT INTO users (id, login, display_name, created_ms, admin) \
             VALUES ($1, $2, $3, $4, NOT EXISTS (SELECT 1 FROM users)) ON CONFLICT (login) DO NOTHING",
        )
        .bind(crate::new_id())
        .bind(login)
        .bind(display_name)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        self.user_by_login(login)
            .await?
            .ok_or(StoreError::Invalid("user vanished after insert"))
    }

    async fn user(&self, id: &str) -> Result<Option<User>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            crate::rows::user_cols!(),
            " FROM users WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_row).transpose()
    }

    async fn user_by_login(&self, login: &str) -> Result<Option<User>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            crate::rows::user_cols!(),
            " FROM users WHERE login = $1"
        ))
        .bind(login)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_row).transpose()
    }

    async fn set_user_info(&self, user_id: &str, info: &str) -> Result<()> {
        sqlx::query("UPDATE users SET user_info = $1 WHERE id = $2")
            .bind(info)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn create_user(&self, u: &NewUser, now_ms: i64) -> Result<bool> {
        let res = sqlx::query(
            "INSERT INTO users (id, login, display_name, email, password_hash, created_ms, admin) \
             VALUES ($1, $2, $3, $4, $5, $6, NOT EXISTS (SELECT 1 FROM users))",
        )
        .bind(&u.id)
        .bind(&u.login)
        .bind(&u.display_name)
        .bind(&u.email)
        .bind(&u.password_hash)
        .bind(now_ms)
        .execute(&self.pool)
        .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            crate::rows::user_cols!(),
            " FROM users ORDER BY login COLLATE \"C\""
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_row).collect()
    }

    async fn root_container(&self, user_id: &str, now_ms: i64) -> Result<Container> {
        let q = "SELECT id, parent_id, owner_id, name FROM containers WHERE owner_id = $1 AND parent_id IS NULL";
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
        // Two nodes may create the root at once: the unique index keeps one, both read it.
        sqlx::query(
            "INSERT INTO containers (id, parent_id, owner_id, name, created_ms) VALUES ($1, NULL, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(crate::new_id())
        .bind(user_id)
        .bind(login)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        let r = sqlx::query(q).bind(user_id).fetch_one(&self.pool).await?;
        container_row(&r)
    }

    async fn container(&self, id: &str) -> Result<Option<Container>> {
        let row = sqlx::query("SELECT id, parent_id, owner_id, name FROM containers WHERE id = $1 AND trashed_ms IS NULL")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(container_row).transpose()
    }

    async fn create_container(
        &self,
        id: &str,
        parent_id: &str,
        owner_id: &str,
        name: &str,
        now_ms: i64,
    ) -> Result<Option<Container>> {
        let res = sqlx::query(
            "INSERT INTO containers (id, parent_id, owner_id, name, created_ms) SELECT $1, $2, $3, $4, $5 \
             WHERE EXISTS (SELECT 1 FROM containers WHERE id = $2 AND trashed_ms IS NULL)",
        )
        .bind(id)
        .bind(parent_id)
        .bind(owner_id)
        .bind(name)
        .bind(now_ms)
        .execute(&self.pool)
        .await;
        match res {
            Ok(_) => self.container(id).await,
            Err(e) if is_unique_violation(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn child_containers(&self, parent_id: &str) -> Result<Vec<Container>> {
        let rows = sqlx::query(
            "SELECT id, parent_id, owner_id, name FROM containers WHERE parent_id = $1 AND trashed_ms IS NULL ORDER BY name COLLATE \"C\"",
        )
        .bind(parent_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(container_row).collect()
    }

    async fn container_by_name(&self, parent_id: &str, name: &str) -> Result<Option<Container>> {
        let row = sqlx::query(
            "SELECT id, parent_id, owner_id, name FROM containers WHERE parent_id = $1 AND lower(name) = lower($2) AND trashed_ms IS NULL",
        )
        .bind(parent_id)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(container_row).transpose()
    }

    async fn rename_container(&self, id: &str, name: &str) -> Result<bool> {
        let res =
            sqlx::query("UPDATE containers SET name = $1 WHERE id = $2 AND trashed_ms IS NULL")
                .bind(name)
                .bind(id)
                .execute(&self.pool)
                .await;
        match res {
            Ok(done) => Ok(done.rows_affected() == 1),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete_container(&self, id: &str) -> Result<ContainerDeletion> {
        let mut tx = self.pool.begin().await?;
        // One statement: the emptiness check and the delete cannot be separated by another
        // writer. A file or child created concurrently (not yet visible to the check) makes the
        // delete fail its foreign key instead, which is the same answer: not empty.
        let res = sqlx::query(
            "DELETE FROM containers WHERE id = $1 AND parent_id IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM files WHERE container_id = $1) \
             AND NOT EXISTS (SELECT 1 FROM containers c WHERE c.parent_id = $1)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await;
        match res {
            Ok(done) if done.rows_affected() == 1 => {
                sqlx::query("DELETE FROM shares WHERE resource_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                return Ok(ContainerDeletion::Deleted);
            }
            Ok(_) => {}
            Err(e) if is_fk_violation(&e) => return Ok(ContainerDeletion::NotEmpty),
            Err(e) => return Err(e.into()),
        }
        drop(tx);
        Ok(if self.container(id).await?.is_some() {
            ContainerDeletion::NotEmpty
        } else {
            ContainerDeletion::Missing
        })
    }

    async fn create_file(&self, f: NewFile) -> Result<Cas> {
        let mut tx = self.pool.begin().await?;
        let res = sqlx::query(&format!(
            "INSERT INTO files (id, container_id, owner_id, name, size, sha256, blob_key, version, modified_ms, rev, created_ms) \
             SELECT $1, $2, $3, $4, $5, $6, $7, 1, $8, 1, $8 \
             WHERE EXISTS (SELECT 1 FROM containers WHERE id = $2 AND trashed_ms IS NULL) RETURNING {FILE_COLS}"
        ))
        .bind(&f.id)
        .bind(&f.container_id)
        .bind(&f.owner_id)
        .bind(&f.name)
        .bind(size_i64(f.content.size))
        .bind(&f.content.sha256)
        .bind(&f.content.blob_key)
        .bind(f.content.modified_ms)
        .fetch_optional(&mut *tx)
        .await;
        let row = match res {
            Ok(Some(row)) => row,
            Ok(None) => return Ok(Cas::Stale),
            Err(e) if is_unique_violation(&e) => return Ok(Cas::NameTaken),
            Err(e) => return Err(e.into()),
        };
        let file = file_row(&row)?;
        insert_version(&mut tx, &f.id, 1, &f.content, &SaveInfo::default()).await?;
        tx.commit().await?;
        Ok(Cas::Applied(Box::new(file)))
    }

    async fn file(&self, id: &str) -> Result<Option<FileRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {FILE_COLS} FROM files WHERE id = $1 AND trashed_ms IS NULL"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(file_row).transpose()
    }

    async fn file_by_name(&self, container_id: &str, name: &str) -> Result<Option<FileRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {FILE_COLS} FROM files WHERE container_id = $1 AND lower(name) = lower($2) AND trashed_ms IS NULL"
        ))
        .bind(container_id)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(file_row).transpose()
    }

    async fn list_files(&self, container_id: Option<&str>) -> Result<Vec<FileRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {FILE_COLS} FROM files WHERE ($1::text IS NULL OR container_id = $1) AND trashed_ms IS NULL ORDER BY name COLLATE \"C\""
        ))
        .bind(container_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(file_row).collect()
    }

    async fn update_file(&self, id: &str, expected_rev: i64, update: FileUpdate) -> Result<Cas> {
        static LOCK: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!(
                "UPDATE files SET lock_id = $1, lock_expires_ms = $2, lock_user = $3, rev = rev + 1 \
                 WHERE id = $4 AND rev = $5 RETURNING {FILE_COLS}"
            )
        });
        static CONTENT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!(
                "UPDATE files SET size = $1, sha256 = $2, blob_key = $3, version = version + 1, \
                 modified_ms = $4, sequence_number = LEAST(sequence_number + 1, 2147483647), \
                 rev = rev + 1 WHERE id = $5 AND rev = $6 RETURNING {FILE_COLS}"
            )
        });
        static RENAME: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!(
                "UPDATE files SET name = $1, rev = rev + 1 WHERE id = $2 AND rev = $3 RETURNING {FILE_COLS}"
            )
        });
        static MOVE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!(
                "UPDATE files SET container_id = $1, rev = rev + 1 WHERE id = $2 AND rev = $3 RETURNING {FILE_COLS}"
            )
        });
        static COAUTH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!(
                "UPDATE files SET coauth_locks = $1, coauth_expires_ms = $2, rev = rev + 1 \
                 WHERE id = $3 AND rev = $4 RETURNING {FILE_COLS}"
            )
        });
        let query = match &update {
            FileUpdate::Lock {
                id: lock,
                expires_ms,
                user,
            } => sqlx::query(LOCK.as_str())
                .bind(lock)
                .bind(expires_ms)
                .bind(user),
            FileUpdate::Content(c) | FileUpdate::Save { content: c, .. } => {
                sqlx::query(CONTENT.as_str())
                    .bind(size_i64(c.size))
                    .bind(&c.sha256)
                    .bind(&c.blob_key)
                    .bind(c.modified_ms)
            }
            FileUpdate::Rename(name) => sqlx::query(RENAME.as_str()).bind(name),
            FileUpdate::Move { container_id } => sqlx::query(MOVE.as_str()).bind(container_id),
            FileUpdate::Coauth(locks) => sqlx::query(COAUTH.as_str())
                .bind(crate::rows::coauth_locks_json(locks))
                .bind(crate::rows::coauth_expires_ms(locks)),
        }
        .bind(id)
        .bind(expected_rev);
        // A lock change, rename or move is one statement, committed on its own: one round trip.
        // New content adds its history row in the same transaction.
        let mut tx = match &update {
            FileUpdate::Content(_) | FileUpdate::Save { .. } => Some(self.pool.begin().await?),
            _ => None,
        };
        let res = match &mut tx {
            Some(tx) => query.fetch_optional(&mut **tx).await,
            None => query.fetch_optional(&self.pool).await,
        };
        let row = match res {
            Ok(Some(row)) => row,
            Ok(None) => return Ok(Cas::Stale),
            Err(e) if is_unique_violation(&e) => return Ok(Cas::NameTaken),
            Err(e) => return Err(e.into()),
        };
        let file = file_row(&row)?;
        let Some(mut tx) = tx else {
            return Ok(Cas::Applied(Box::new(file)));
        };
        match &update {
            FileUpdate::Content(c) => {
                insert_version(&mut tx, id, file.version, c, &SaveInfo::default()).await?
            }
            FileUpdate::Save {
                content,
                info,
                replaces,
            } => {
                if let Some(v) = replaces {
                    sqlx::query("DELETE FROM versions WHERE file_id = $1 AND version = $2")
                        .bind(id)
                        .bind(v)
                        .execute(&mut *tx)
                        .await?;
                }
                insert_version(&mut tx, id, file.version, content, info).await?;
            }
            FileUpdate::Lock { .. }
            | FileUpdate::Rename(_)
            | FileUpdate::Move { .. }
            | FileUpdate::Coauth(_) => {}
        }
        tx.commit().await?;
        Ok(Cas::Applied(Box::new(file)))
    }

    async fn delete_file(&self, id: &str, expected_rev: i64) -> Result<Option<Vec<String>>> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM files WHERE id = $1 AND rev = $2")
            .bind(id)
            .bind(expected_rev)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        let keys: Vec<String> = sqlx::query_scalar(
            "WITH d AS (DELETE FROM versions WHERE file_id = $1 RETURNING blob_key) \
             SELECT DISTINCT blob_key FROM d",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM activities WHERE file_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(keys))
    }

    async fn versions(&self, file_id: &str) -> Result<Vec<VersionRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {VERSION_COLS} FROM versions WHERE file_id = $1 ORDER BY version"
        ))
        .bind(file_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(version_row).collect()
    }

    async fn last_version(&self, file_id: &str) -> Result<Option<VersionRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {VERSION_COLS} FROM versions WHERE file_id = $1 ORDER BY version DESC LIMIT 1"
        ))
        .bind(file_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(version_row).transpose()
    }

    async fn add_activity(&self, a: &ActivityRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO activities (file_id, activity_id, kind, user_id, body, received_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&a.file_id)
        .bind(&a.activity_id)
        .bind(&a.kind)
        .bind(&a.user_id)
        .bind(&a.body)
        .bind(a.received_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn activities(&self, file_id: &str) -> Result<Vec<ActivityRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            crate::rows::activity_cols!(),
            " FROM activities WHERE file_id = $1 ORDER BY seq"
        ))
        .bind(file_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(crate::rows::activity).collect()
    }

    async fn ping(&self) -> Result<()> {
        let v: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) FROM wopid_schema WHERE shared_list",
        )
        .fetch_one(&self.pool)
        .await?;
        if usize::try_from(v).ok() != Some(MIGRATIONS.len()) {
            return Err(StoreError::Invalid("database schema is not current"));
        }
        Ok(())
    }
}

async fn insert_version(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    file_id: &str,
    version: i64,
    c: &Content,
    info: &SaveInfo,
) -> Result<()> {
    // A content made of chunks is touched in the commit that references it (the row lock orders
    // it with a sweep); when the collector freed it meanwhile, nothing is committed.
    if let Some(cid) = crate::chunks::content_id(&c.blob_key) {
        let touched = sqlx::query(
            "UPDATE contents SET used_ms = GREATEST(used_ms, $1), file_id = $3 \
             WHERE id = $2 AND file_id IN ('', $3)",
        )
        .bind(c.modified_ms)
        .bind(cid)
        .bind(file_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if touched == 0 {
            return Err(StoreError::ContentGone);
        }
    }
    sqlx::query(
        "INSERT INTO versions (file_id, version, blob_key, size, sha256, modified_ms, author_id, \
         editors, autosave, exit_save, modified_by_user, session) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wopid_options_are_taken_out_of_the_url() {
        let u = parse_url("postgres://u:p@127.0.0.1:5432/db?schema=t_1&pool_max=3&sslmode=disable")
            .expect("parses");
        assert_eq!(u.schema.as_deref(), Some("t_1"));
        assert_eq!(u.pool_max, 3);
        assert!(parse_url("postgres://h/db?schema=Bad-Name").is_err());
        assert!(parse_url("postgres://h/db?pool_max=0").is_err());
    }

    /// A PostgreSQL engine on a schema of its own with `pool_max` connections, when
    /// `WOPID_TEST_PG_URL` is set (required when `CI` is).
    async fn pg(pool_max: u32) -> Option<PgMeta> {
        let Some(base) = std::env::var("WOPID_TEST_PG_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            assert!(
                std::env::var_os("CI").is_none_or(|v| v.is_empty() || v == "false"),
                "WOPID_TEST_PG_URL must be set when CI is set"
            );
            eprintln!("skipped: WOPID_TEST_PG_URL not set");
            return None;
        };
        let n: u64 = rand::random();
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}schema=hot_{n:016x}&pool_max={pool_max}");
        Some(PgMeta::open(&url).await.expect("open postgres"))
    }

    fn kept(db: &PgMeta) -> usize {
        db.hot.idle.lock().expect("not poisoned").len()
    }

    async fn one(conn: &mut sqlx::PgConnection) -> std::result::Result<i32, sqlx::Error> {
        sqlx::query_scalar("SELECT 1").fetch_one(conn).await
    }

    #[tokio::test]
    async fn hot_reads_keep_only_connections_whose_read_completed() {
        let Some(db) = pg(4).await else { return };
        assert_eq!(db.hot_read(one).await.expect("read"), 1);
        assert_eq!(kept(&db), 1);
        // A failed read gives its connection back to the pool instead.
        let failed = db
            .hot_read(async |c| {
                sqlx::query_scalar::<_, i32>("SELECT no_such_column")
                    .fetch_one(c)
                    .await
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(kept(&db), 0);
        // So does a read that is cancelled half-way; the next read is answered correctly.
        let slow = db.hot_read(async |c| {
            sqlx::query_scalar::<_, i32>("SELECT 7 FROM pg_sleep(5)")
                .fetch_one(c)
                .await
        });
        assert!(
            tokio::time::timeout(Duration::from_millis(200), slow)
                .await
                .is_err()
        );
        assert_eq!(kept(&db), 0);
        for _ in 0..3 {
            assert_eq!(db.hot_read(one).await.expect("read"), 1);
        }
        assert_eq!(kept(&db), 1);
    }

    #[tokio::test]
    async fn hot_reads_keep_at_most_half_the_pool() {
        let Some(db) = pg(4).await else { return };
        let reads = (0..4).map(|_| {
            db.hot_read(async |c| {
                sqlx::query_scalar::<_, i32>("SELECT 1 FROM pg_sleep(0.2)")
                    .fetch_one(c)
                    .await
            })
        });
        for r in futures_util::future::join_all(reads).await {
            assert_eq!(r.expect("read"), 1);
        }
        assert_eq!(kept(&db), 2);
        // The other half is free for every other statement.
        let a = db.pool.acquire().await.expect("a");
        let b = db.pool.acquire().await.expect("b");
        drop((a, b));
    }

    #[tokio::test]
    async fn a_kept_connection_idle_too_long_goes_back_to_the_pool() {
        let Some(db) = pg(4).await else { return };
        db.hot_read(one).await.expect("read");
        assert_eq!(kept(&db), 1);
        if let Ok(mut idle) = db.hot.idle.lock() {
            for (_, since) in idle.iter_mut() {
                *since -= IDLE_CHECK;
            }
        }
        assert!(db.hot.take().is_none());
        assert_eq!(kept(&db), 0);
    }

    #[test]
    fn passwords_in_urls_are_detected() {
        assert!(url_has_password("postgres://u:p@h/db"));
        assert!(!url_has_password("postgres://u@h/db"));
        assert!(!url_has_password("postgres://h/db?x=a:b@c"));
    }
}
