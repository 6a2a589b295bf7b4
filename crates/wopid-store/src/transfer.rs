//! Whole-table copying between metadata engines, for `wopid migrate`: every table is read in
//! pages in an order that respects its references (parents before children) and written with
//! "insert unless present", so an interrupted copy can simply be run again.
//!
//! `TABLES` lists every table and column the engines share; the conformance suite checks that
//! each engine's schema has no table missing from it.

use async_trait::async_trait;
use sqlx::Row as _;

use crate::error::{Result, StoreError};
use crate::postgres::PgMeta;
use crate::sqlite::SqliteMeta;

/// A column's type, as both engines can read and write it. Every column may be NULL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Int,
    Text,
    Bytes,
    Bool,
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
    Bool(bool),
}

/// A table to copy: its columns, and the `FROM … ORDER BY …` that reads it parents first.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub cols: &'static [(&'static str, Col)],
    /// Whether the table has a primary key, so that importing a row twice keeps one. A table
    /// without one is cleared before it is copied again.
    pub keyed: bool,
    from_sqlite: &'static str,
    from_pg: &'static str,
}

use Col::{Bool, Bytes, Int, Text};

/// Containers by depth, so that a parent is always written before its children.
const CONTAINERS_BY_DEPTH: &str = "FROM containers JOIN (WITH RECURSIVE tree(tid, depth) AS (\
     SELECT id, 0 FROM containers WHERE parent_id IS NULL \
     UNION ALL SELECT c.id, t.depth + 1 FROM containers c JOIN tree t ON c.parent_id = t.tid) \
     SELECT tid, depth FROM tree) d ON d.tid = containers.id ORDER BY d.depth, containers.id";

/// Every table of the metadata schema, in an order that respects references.
pub const TABLES: &[Table] = &[
    Table {
        name: "users",
        cols: &[
            ("id", Text),
            ("login", Text),
            ("display_name", Text),
            ("email", Text),
            ("password_hash", Text),
            ("user_info", Text),
            ("created_ms", Int),
            ("epoch", Int),
            ("revoked_below", Int),
            ("disabled", Bool),
            ("admin", Bool),
        ],
        keyed: true,
        from_sqlite: "FROM users ORDER BY id",
        from_pg: "FROM users ORDER BY id",
    },
    Table {
        name: "containers",
        cols: &[
            ("id", Text),
            ("parent_id", Text),
            ("owner_id", Text),
            ("name", Text),
            ("created_ms", Int),
            ("trashed_ms", Int),
            ("trash_id", Text),
        ],
        keyed: true,
        from_sqlite: CONTAINERS_BY_DEPTH,
        from_pg: CONTAINERS_BY_DEPTH,
    },
    Table {
        name: "files",
        cols: &[
            ("id", Text),
            ("container_id", Text),
            ("owner_id", Text),
            ("name", Text),
            ("size", Int),
            ("sha256", Text),
            ("blob_key", Text),
            ("version", Int),
            ("modified_ms", Int),
            ("lock_id", Text),
            ("lock_expires_ms", Int),
            ("rev", Int),
            ("created_ms", Int),
            ("trashed_ms", Int),
            ("trash_id", Text),
            ("lock_user", Text),
            ("coauth_locks", Text),
            ("coauth_expires_ms", Int),
            ("sequence_number", Int),
        ],
        keyed: true,
        from_sqlite: "FROM files ORDER BY id",
        from_pg: "FROM files ORDER BY id",
    },
    Table {
        name: "versions",
        cols: &[
            ("file_id", Text),
            ("version", Int),
            ("blob_key", Text),
            ("size", Int),
            ("sha256", Text),
            ("modified_ms", Int),
            ("author_id", Text),
            ("editors", Text),
            ("autosave", Bool),
            ("exit_save", Bool),
            ("modified_by_user", Bool),
            ("session", Text),
        ],
        keyed: true,
        from_sqlite: "FROM versions ORDER BY file_id, version",
        from_pg: "FROM versions ORDER BY file_id, version",
    },
    Table {
        name: "chunks",
        cols: &[
            ("sha256", Text),
            ("chunk_id", Bytes),
            ("size", Int),
            ("blob_key", Text),
            ("used_ms", Int),
        ],
        keyed: true,
        from_sqlite: "FROM chunks ORDER BY sha256",
        from_pg: "FROM chunks ORDER BY sha256 COLLATE \"C\"",
    },
    Table {
        name: "contents",
        cols: &[("id", Text), ("file_id", Text), ("used_ms", Int)],
        keyed: true,
        from_sqlite: "FROM contents ORDER BY id",
        from_pg: "FROM contents ORDER BY id COLLATE \"C\"",
    },
    Table {
        name: "content_streams",
        cols: &[("content_id", Text), ("stream", Text), ("scheme", Text)],
        keyed: true,
        from_sqlite: "FROM content_streams ORDER BY content_id, stream",
        from_pg: "FROM content_streams ORDER BY content_id COLLATE \"C\", stream COLLATE \"C\"",
    },
    Table {
        name: "content_chunks",
        cols: &[
            ("content_id", Text),
            ("stream", Text),
            ("seq", Int),
            ("sha256", Text),
        ],
        keyed: true,
        from_sqlite: "FROM content_chunks ORDER BY content_id, stream, seq",
        from_pg: "FROM content_chunks ORDER BY content_id COLLATE \"C\", stream COLLATE \"C\", seq",
    },
    Table {
        name: "content_properties",
        cols: &[
            ("content_id", Text),
            ("name", Text),
            ("value", Text),
            ("retention", Text),
        ],
        keyed: true,
        from_sqlite: "FROM content_properties ORDER BY content_id, name",
        from_pg: "FROM content_properties ORDER BY content_id COLLATE \"C\", name COLLATE \"C\"",
    },
    Table {
        name: "dead_blobs",
        cols: &[("blob_key", Text)],
        keyed: true,
        from_sqlite: "FROM dead_blobs ORDER BY blob_key",
        from_pg: "FROM dead_blobs ORDER BY blob_key COLLATE \"C\"",
    },
    Table {
        name: "tokens",
        cols: &[
            ("hash", Bytes),
            ("user_id", Text),
            ("kind", Text),
            ("resource_id", Text),
            ("perms", Int),
            ("expires_ms", Int),
            ("revoked", Bool),
            ("client", Text),
            ("epoch", Int),
            ("link", Bytes),
        ],
        keyed: true,
        from_sqlite: "FROM tokens ORDER BY hash",
        from_pg: "FROM tokens ORDER BY hash",
    },
    Table {
        name: "activities",
        cols: &[
            ("file_id", Text),
            ("activity_id", Text),
            ("kind", Text),
            ("user_id", Text),
            ("body", Text),
            ("received_ms", Int),
        ],
        keyed: false,
        from_sqlite: "FROM activities ORDER BY rowid",
        from_pg: "FROM activities ORDER BY seq",
    },
    Table {
        name: "settings",
        cols: &[("key", Text), ("value", Text)],
        keyed: true,
        from_sqlite: "FROM settings ORDER BY key",
        from_pg: "FROM settings ORDER BY key",
    },
    Table {
        name: "shares",
        cols: &[
            ("resource_id", Text),
            ("user_id", Text),
            ("can_write", Bool),
        ],
        keyed: true,
        from_sqlite: "FROM shares ORDER BY user_id, resource_id",
        from_pg: "FROM shares ORDER BY user_id, resource_id",
    },
    Table {
        name: "oauth_clients",
        cols: &[
            ("id", Text),
            ("name", Text),
            ("redirect_uri", Text),
            ("created_ms", Int),
            ("require_pkce", Bool),
        ],
        keyed: true,
        from_sqlite: "FROM oauth_clients ORDER BY id",
        from_pg: "FROM oauth_clients ORDER BY id",
    },
    Table {
        name: "oauth_codes",
        cols: &[
            ("hash", Bytes),
            ("client_id", Text),
            ("user_id", Text),
            ("redirect_uri", Text),
            ("code_challenge", Text),
            ("expires_ms", Int),
            ("epoch", Int),
        ],
        keyed: true,
        from_sqlite: "FROM oauth_codes ORDER BY hash",
        from_pg: "FROM oauth_codes ORDER BY hash",
    },
    Table {
        name: "oauth_families",
        cols: &[("family", Bytes), ("revoked", Bool)],
        keyed: true,
        from_sqlite: "FROM oauth_families ORDER BY family",
        from_pg: "FROM oauth_families ORDER BY family",
    },
    Table {
        name: "oauth_family_tokens",
        cols: &[("hash", Bytes), ("family", Bytes)],
        keyed: true,
        from_sqlite: "FROM oauth_family_tokens ORDER BY hash",
        from_pg: "FROM oauth_family_tokens ORDER BY hash",
    },
    Table {
        name: "oidc_links",
        cols: &[
            ("issuer", Text),
            ("subject", Text),
            ("user_id", Text),
            ("created_ms", Int),
        ],
        keyed: true,
        from_sqlite: "FROM oidc_links ORDER BY issuer, subject",
        from_pg: "FROM oidc_links ORDER BY issuer, subject",
    },
    Table {
        name: "webhook_deliveries",
        cols: &[
            ("id", Text),
            ("seq", Int),
            ("url", Text),
            ("event", Text),
            ("payload", Text),
            ("created_ms", Int),
            ("attempts", Int),
            ("next_attempt_ms", Int),
            ("claim", Text),
            ("last_error", Text),
        ],
        keyed: true,
        from_sqlite: "FROM webhook_deliveries ORDER BY seq, id",
        from_pg: "FROM webhook_deliveries ORDER BY seq, id",
    },
    Table {
        name: "api_keys",
        cols: &[
            ("id", Text),
            ("name", Text),
            ("hash", Bytes),
            ("scope", Text),
            ("origins", Text),
            ("created_ms", Int),
            ("revoked", Bool),
        ],
        keyed: true,
        from_sqlite: "FROM api_keys ORDER BY id",
        from_pg: "FROM api_keys ORDER BY id COLLATE \"C\"",
    },
    Table {
        name: "token_hosts",
        cols: &[("hash", Bytes), ("host", Text), ("expires_ms", Int)],
        keyed: true,
        from_sqlite: "FROM token_hosts ORDER BY hash",
        from_pg: "FROM token_hosts ORDER BY hash",
    },
    Table {
        name: "sign_in_failures",
        cols: &[("login", Text), ("at_ms", Int)],
        keyed: false,
        from_sqlite: "FROM sign_in_failures ORDER BY login, at_ms",
        from_pg: "FROM sign_in_failures ORDER BY login, at_ms",
    },
    Table {
        name: "sessions",
        cols: &[
            ("hash", Bytes),
            ("user_id", Text),
            ("csrf", Text),
            ("expires_ms", Int),
            ("epoch", Int),
        ],
        keyed: true,
        from_sqlite: "FROM sessions ORDER BY hash",
        from_pg: "FROM sessions ORDER BY hash",
    },
    Table {
        name: "token_revocations",
        cols: &[("user_id", Text), ("resource_id", Text), ("epoch", Int)],
        keyed: true,
        from_sqlite: "FROM token_revocations ORDER BY user_id, resource_id",
        from_pg: "FROM token_revocations ORDER BY user_id, resource_id",
    },
];

/// Reading and writing whole tables. Every metadata engine implements it.
#[async_trait]
pub trait Transfer: Send + Sync {
    /// Rows `offset..offset + limit` of `table`, in its copy order.
    async fn export_rows(&self, table: &Table, offset: u64, limit: u64) -> Result<Vec<Vec<Value>>>;
    /// Inserts the rows that are not there yet (by primary key); returns how many were new.
    async fn import_rows(&self, table: &Table, rows: &[Vec<Value>]) -> Result<u64>;
    async fn count_rows(&self, table: &Table) -> Result<u64>;
    /// Removes every row of `table` (for a table without key, before it is copied again).
    async fn clear_rows(&self, table: &Table) -> Result<()>;
    /// The names of the engine's own tables, to check `TABLES` is complete.
    async fn table_names(&self) -> Result<Vec<String>>;
}

fn col_list(t: &Table, qualify: bool) -> String {
    t.cols
        .iter()
        .map(|(c, _)| {
            if qualify {
                format!("{}.{c}", t.name)
            } else {
                (*c).to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn offset_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

macro_rules! decode_row {
    ($row:expr, $table:expr) => {{
        let r = $row;
        let mut out = Vec::with_capacity($table.cols.len());
        for (i, (_, col)) in $table.cols.iter().enumerate() {
            let v = match col {
                Col::Int => r.try_get::<Option<i64>, _>(i)?.map(Value::Int),
                Col::Text => r.try_get::<Option<String>, _>(i)?.map(Value::Text),
                Col::Bytes => r.try_get::<Option<Vec<u8>>, _>(i)?.map(Value::Bytes),
                Col::Bool => r.try_get::<Option<bool>, _>(i)?.map(Value::Bool),
            };
            out.push(v.unwrap_or(Value::Null));
        }
        Ok::<_, StoreError>(out)
    }};
}

macro_rules! bind_row {
    ($q:expr, $row:expr, $table:expr) => {{
        let mut q = $q;
        for ((_, col), v) in $table.cols.iter().zip($row.iter()) {
            q = match (col, v) {
                (_, Value::Int(n)) => q.bind(*n),
                (_, Value::Text(s)) => q.bind(s.clone()),
                (_, Value::Bytes(b)) => q.bind(b.clone()),
                (_, Value::Bool(b)) => q.bind(*b),
                (Col::Int, Value::Null) => q.bind(None::<i64>),
                (Col::Text, Value::Null) => q.bind(None::<String>),
                (Col::Bytes, Value::Null) => q.bind(None::<Vec<u8>>),
                (Col::Bool, Value::Null) => q.bind(None::<bool>),
            };
        }
        q
    }};
}

fn check_width(t: &Table, rows: &[Vec<Value>]) -> Result<()> {
    if rows.iter().any(|r| r.len() != t.cols.len()) {
        return Err(StoreError::Invalid("row width does not match the table"));
    }
    Ok(())
}

fn sqlite_value(v: &Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match v {
        Value::Null => V::Null,
        Value::Int(n) => V::Integer(*n),
        Value::Text(s) => V::Text(s.clone()),
        Value::Bytes(b) => V::Blob(b.clone()),
        Value::Bool(b) => V::Integer(i64::from(*b)),
    }
}

fn sqlite_row(t: &Table, r: &rusqlite::Row<'_>) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(t.cols.len());
    for (i, (_, col)) in t.cols.iter().enumerate() {
        let v = match col {
            Col::Int => r.get::<_, Option<i64>>(i)?.map(Value::Int),
            Col::Text => r.get::<_, Option<String>>(i)?.map(Value::Text),
            Col::Bytes => r.get::<_, Option<Vec<u8>>>(i)?.map(Value::Bytes),
            Col::Bool => r.get::<_, Option<bool>>(i)?.map(Value::Bool),
        };
        out.push(v.unwrap_or(Value::Null));
    }
    Ok(out)
}

#[async_trait]
impl Transfer for SqliteMeta {
    async fn export_rows(&self, t: &Table, offset: u64, limit: u64) -> Result<Vec<Vec<Value>>> {
        let sql = format!(
            "SELECT {} {} LIMIT ?1 OFFSET ?2",
            col_list(t, true),
            t.from_sqlite
        );
        self.read(|c| {
            crate::sqlite::all(c, &sql, [offset_i64(limit), offset_i64(offset)], |r| {
                sqlite_row(t, r)
            })
        })
    }

    async fn import_rows(&self, t: &Table, rows: &[Vec<Value>]) -> Result<u64> {
        check_width(t, rows)?;
        let marks = (1..=t.cols.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({marks}) ON CONFLICT DO NOTHING",
            t.name,
            col_list(t, false)
        );
        let rows: Vec<Vec<rusqlite::types::Value>> = rows
            .iter()
            .map(|r| r.iter().map(sqlite_value).collect())
            .collect();
        self.writer
            .write(move |c| {
                let mut st = c.prepare(&sql)?;
                let mut new = 0u64;
                for row in rows {
                    new += st.execute(rusqlite::params_from_iter(row))? as u64;
                }
                Ok(new)
            })
            .await
    }

    async fn count_rows(&self, t: &Table) -> Result<u64> {
        let sql = format!("SELECT COUNT(*) FROM {}", t.name);
        let n: i64 = self.read(|c| Ok(c.query_row(&sql, [], |r| r.get(0))?))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn clear_rows(&self, t: &Table) -> Result<()> {
        let sql = format!("DELETE FROM {}", t.name);
        self.writer
            .write(move |c| {
                c.execute(&sql, [])?;
                Ok(())
            })
            .await
    }

    async fn table_names(&self) -> Result<Vec<String>> {
        self.read(|c| {
            crate::sqlite::all(
                c,
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
                [],
                |r| Ok(r.get(0)?),
            )
        })
    }
}

#[async_trait]
impl Transfer for PgMeta {
    async fn export_rows(&self, t: &Table, offset: u64, limit: u64) -> Result<Vec<Vec<Value>>> {
        let sql = format!(
            "SELECT {} {} LIMIT $1 OFFSET $2",
            col_list(t, true),
            t.from_pg
        );
        let rows = sqlx::query(&sql)
            .bind(offset_i64(limit))
            .bind(offset_i64(offset))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| decode_row!(r, t)).collect()
    }

    async fn import_rows(&self, t: &Table, rows: &[Vec<Value>]) -> Result<u64> {
        check_width(t, rows)?;
        let marks = (1..=t.cols.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({marks}) ON CONFLICT DO NOTHING",
            t.name,
            col_list(t, false)
        );
        let mut tx = self.pool.begin().await?;
        let mut new = 0;
        for row in rows {
            new += bind_row!(sqlx::query(&sql), row, t)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(new)
    }

    async fn count_rows(&self, t: &Table) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", t.name))
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn clear_rows(&self, t: &Table) -> Result<()> {
        sqlx::query(&format!("DELETE FROM {}", t.name))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn table_names(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name <> 'wopid_schema' ORDER BY 1",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
