//! The PostgreSQL engine's `ChunkStore`. A save touches (updates) every row it reuses in its
//! transaction; the sweep runs at REPEATABLE READ, so when it would delete a row a concurrent
//! commit touched, PostgreSQL refuses it (serialization failure) instead of letting it delete a row
//! a committed version references; the sweep is then run again.

use async_trait::async_trait;
use sqlx::Row as _;

use crate::chunks::{
    CHUNK_COLS, CONTENT_REFERENCED, ChunkRecord, ChunkStore, ContentProp, NewContent, PutContent,
    StreamChunks, chunk_at, group_streams,
};
use crate::error::{Result, StoreError};
use crate::postgres::PgMeta;
use crate::rows::{numbered, size_i64};

fn is_serialization_failure(e: &StoreError) -> bool {
    matches!(e, StoreError::Db(sqlx::Error::Database(d)) if d.code().as_deref() == Some("40001"))
}

impl PgMeta {
    async fn sweep_once(&self, before_ms: i64) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            .execute(&mut *tx)
            .await?;
        let gone: Vec<String> = sqlx::query_scalar(&numbered(&format!(
            "DELETE FROM contents c WHERE c.used_ms < ?1 AND NOT {CONTENT_REFERENCED} RETURNING c.id"
        )))
        .bind(before_ms)
        .fetch_all(&mut *tx)
        .await?;
        if !gone.is_empty() {
            sqlx::query("DELETE FROM content_chunks WHERE content_id = ANY($1)")
                .bind(&gone)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM content_streams WHERE content_id = ANY($1)")
                .bind(&gone)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM content_properties WHERE content_id = ANY($1)")
                .bind(&gone)
                .execute(&mut *tx)
                .await?;
        }
        let freed = sqlx::query(
            "WITH gone AS (DELETE FROM chunks WHERE used_ms < $1 \
             AND NOT EXISTS (SELECT 1 FROM content_chunks cc WHERE cc.sha256 = chunks.sha256) \
             RETURNING blob_key) \
             INSERT INTO dead_blobs (blob_key) SELECT blob_key FROM gone ON CONFLICT DO NOTHING",
        )
        .bind(before_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(freed)
    }
}

#[async_trait]
impl ChunkStore for PgMeta {
    async fn find_chunks(&self, sha256: &[String]) -> Result<Vec<ChunkRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {CHUNK_COLS} FROM chunks k WHERE k.sha256 = ANY($1)"
        ))
        .bind(sha256)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| chunk_at(r, 0)).collect()
    }

    async fn put_content(&self, n: &NewContent) -> Result<PutContent> {
        let mut tx = self.pool.begin().await?;
        // Reused chunks first: when one was freed, the transaction is dropped unchanged.
        for s in &n.streams {
            for k in s.chunks.iter().filter(|k| !n.fresh.contains(&k.blob_key)) {
                let touched = sqlx::query(
                    "UPDATE chunks SET used_ms = GREATEST(used_ms, $1) \
                     WHERE sha256 = $2 AND blob_key = $3 AND size = $4",
                )
                .bind(n.now_ms)
                .bind(&k.sha256)
                .bind(&k.blob_key)
                .bind(size_i64(k.size))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if touched == 0 {
                    return Ok(PutContent::ChunkGone);
                }
            }
        }
        sqlx::query("INSERT INTO contents (id, file_id, used_ms) VALUES ($1, $2, $3)")
            .bind(&n.id)
            .bind(&n.file_id)
            .bind(n.now_ms)
            .execute(&mut *tx)
            .await?;
        for p in &n.properties {
            sqlx::query(
                "INSERT INTO content_properties (content_id, name, value, retention) VALUES ($1, $2, $3, $4)",
            )
            .bind(&n.id)
            .bind(&p.name)
            .bind(&p.value)
            .bind(&p.retention)
            .execute(&mut *tx)
            .await?;
        }
        let mut unused = Vec::new();
        for s in &n.streams {
            sqlx::query(
                "INSERT INTO content_streams (content_id, stream, scheme) VALUES ($1, $2, $3)",
            )
            .bind(&n.id)
            .bind(&s.stream)
            .bind(&s.scheme)
            .execute(&mut *tx)
            .await?;
            for (seq, k) in s.chunks.iter().enumerate() {
                if n.fresh.contains(&k.blob_key) {
                    let kept: String = sqlx::query_scalar(
                        "INSERT INTO chunks (sha256, chunk_id, size, blob_key, used_ms) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sha256) DO UPDATE \
                         SET used_ms = GREATEST(chunks.used_ms, EXCLUDED.used_ms) RETURNING blob_key",
                    )
                    .bind(&k.sha256)
                    .bind(&k.chunk_id)
                    .bind(size_i64(k.size))
                    .bind(&k.blob_key)
                    .bind(n.now_ms)
                    .fetch_one(&mut *tx)
                    .await?;
                    if kept != k.blob_key && !unused.contains(&k.blob_key) {
                        unused.push(k.blob_key.clone());
                    }
                }
                sqlx::query(
                    "INSERT INTO content_chunks (content_id, stream, seq, sha256) VALUES ($1, $2, $3, $4)",
                )
                .bind(&n.id)
                .bind(&s.stream)
                .bind(i64::try_from(seq).unwrap_or(i64::MAX))
                .bind(&k.sha256)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(PutContent::Stored { unused })
    }

    async fn content_streams(&self, content_id: &str) -> Result<Option<Vec<StreamChunks>>> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            .execute(&mut *tx)
            .await?;
        let found = sqlx::query("SELECT 1 FROM contents WHERE id = $1")
            .bind(content_id)
            .fetch_optional(&mut *tx)
            .await?;
        if found.is_none() {
            return Ok(None);
        }
        let streams = sqlx::query(
            "SELECT stream, scheme FROM content_streams WHERE content_id = $1 ORDER BY stream COLLATE \"C\"",
        )
        .bind(content_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<Vec<_>>>()?;
        let chunks = sqlx::query(&format!(
            "SELECT cc.stream, {CHUNK_COLS} FROM content_chunks cc JOIN chunks k ON k.sha256 = cc.sha256 \
             WHERE cc.content_id = $1 ORDER BY cc.stream COLLATE \"C\", cc.seq"
        ))
        .bind(content_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, chunk_at(r, 1)?)))
        .collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        Ok(Some(group_streams(streams, chunks)))
    }

    async fn content_properties(&self, content_id: &str) -> Result<Vec<ContentProp>> {
        let rows = sqlx::query(
            "SELECT name, value, retention FROM content_properties WHERE content_id = $1 ORDER BY name COLLATE \"C\"",
        )
        .bind(content_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ContentProp {
                    name: r.try_get(0)?,
                    value: r.try_get(1)?,
                    retention: r.try_get(2)?,
                })
            })
            .collect()
    }

    async fn file_chunks(&self, file_id: &str, chunk_ids: &[Vec<u8>]) -> Result<Vec<ChunkRecord>> {
        let rows = sqlx::query(&numbered(&format!(
            "SELECT {CHUNK_COLS} FROM chunks k WHERE k.chunk_id = ANY(?1) AND EXISTS (\
             SELECT 1 FROM content_chunks cc JOIN contents c ON c.id = cc.content_id \
             WHERE cc.sha256 = k.sha256 AND c.file_id = ?2 AND {CONTENT_REFERENCED})"
        )))
        .bind(chunk_ids)
        .bind(file_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| chunk_at(r, 0)).collect()
    }

    async fn sweep_chunks(&self, before_ms: i64) -> Result<u64> {
        let mut tries = 0;
        loop {
            match self.sweep_once(before_ms).await {
                Err(e) if is_serialization_failure(&e) && tries < 3 => tries += 1,
                other => return other,
            }
        }
    }

    async fn dead_blobs(&self, limit: u32) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT blob_key FROM dead_blobs ORDER BY blob_key COLLATE \"C\" LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }

    async fn forget_dead_blobs(&self, keys: &[String]) -> Result<()> {
        sqlx::query("DELETE FROM dead_blobs WHERE blob_key = ANY($1)")
            .bind(keys)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn chunk_count(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM chunks")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
