//! Whole-table copying between metadata engines, for `wopid migrate`: every table is read in
//! pages in an order that respects its references (parents before children) and written with
//! "insert unless present", so an interrupted copy can simply be run again.
//!
//! `TABLES` lists every table and column the engines share, read from the schema's migrations; the
//! conformance suite checks it against each engine's schema.

use std::sync::LazyLock;

use async_trait::async_trait;
use sqlx::Row as _;

use crate::error::{Result, StoreError};
use crate::postgres::PgMeta;
use crate::schema::TableDef;
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
    pub cols: Vec<(&'static str, Col)>,
    /// Whether the table has a primary key, so that importing a row twice keeps one. A table
    /// without one is cleared before it is copied again.
    pub keyed: bool,
    from_sqlite: String,
    from_pg: String,
}

/// Containers by depth, so that a parent is always written before its children.
const CONTAINERS_BY_DEPTH: &str = "FROM containers JOIN (WITH RECURSIVE tree(tid, depth) AS (\
     SELECT id, 0 FROM containers WHERE parent_id IS NULL \
     UNION ALL SELECT c.id, t.depth + 1 FROM containers c JOIN tree t ON c.parent_id = t.tid) \
     SELECT tid, depth FROM tree) d ON d.tid = containers.id ORDER BY d.depth, containers.id";

/// Every table of the metadata schema with the columns both engines have, as the migrations
/// leave them (`schema::tables`), in the order they are created, which respects references.
pub static TABLES: LazyLock<Vec<Table>> = LazyLock::new(|| {
    crate::schema::tables()
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(Table::new)
        .collect()
});

impl Table {
    fn new(t: TableDef) -> Self {
        // Rows are read in the order of the key (of every column without one); PostgreSQL
        // compares text byte by byte as SQLite does, so that both engines page alike.
        let order = |pg: bool| {
            let by = if t.key.is_empty() {
                t.cols.iter().map(|(c, _)| *c).collect()
            } else {
                t.key.clone()
            };
            let by: Vec<String> = by
                .iter()
                .map(|c| {
                    let text = t.cols.iter().any(|(n, ty)| n == c && *ty == Col::Text);
                    if pg && text {
                        format!("{c} COLLATE \"C\"")
                    } else {
                        (*c).to_owned()
                    }
                })
                .collect();
            format!("FROM {} ORDER BY {}", t.name, by.join(", "))
        };
        let (from_sqlite, from_pg) = match t.name {
            "containers" => (
                CONTAINERS_BY_DEPTH.to_owned(),
                CONTAINERS_BY_DEPTH.to_owned(),
            ),
            // The order they were added in, which listing them keeps.
            "activities" => (
                "FROM activities ORDER BY rowid".to_owned(),
                "FROM activities ORDER BY seq".to_owned(),
            ),
            _ => (order(false), order(true)),
        };
        Self {
            name: t.name,
            keyed: !t.key.is_empty(),
            cols: t.cols,
            from_sqlite,
            from_pg,
        }
    }
}

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

/// Inserts a row unless its key is taken, with SQLite's `?N` parameters.
fn insert_sql(t: &Table) -> String {
    let marks = (1..=t.cols.len())
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO {} ({}) VALUES ({marks}) ON CONFLICT DO NOTHING",
        t.name,
        col_list(t, false)
    )
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
            &t.from_sqlite
        );
        self.read(|c| {
            crate::sqlite::all(c, &sql, [offset_i64(limit), offset_i64(offset)], |r| {
                sqlite_row(t, r)
            })
        })
    }

    async fn import_rows(&self, t: &Table, rows: &[Vec<Value>]) -> Result<u64> {
        check_width(t, rows)?;
        let sql = insert_sql(t);
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
            &t.from_pg
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
        let sql = crate::rows::numbered(&insert_sql(t));
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
