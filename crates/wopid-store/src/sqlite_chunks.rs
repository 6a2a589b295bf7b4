//! The SQLite engine's `ChunkStore`. Writes go through the one writer, so a sweep and a save
//! never interleave: each is one transaction.

use async_trait::async_trait;
use rusqlite::{Connection, params};

use crate::chunks::{
    CHUNK_COLS, CONTENT_REFERENCED, ChunkRecord, ChunkStore, ContentProp, NewContent, PutContent,
    StreamChunks, chunk_at, group_streams,
};
use crate::error::Result;
use crate::rows::size_i64;
use crate::sqlite::{SqliteMeta, all, exec, one};

fn streams_of(c: &Connection, content_id: &str) -> Result<Option<Vec<StreamChunks>>> {
    if one(
        c,
        "SELECT 1 FROM contents WHERE id = ?1",
        [content_id],
        |_| Ok(()),
    )?
    .is_none()
    {
        return Ok(None);
    }
    let streams = all(
        c,
        "SELECT stream, scheme FROM content_streams WHERE content_id = ?1 ORDER BY stream",
        [content_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let chunks = all(
        c,
        &format!(
            "SELECT cc.stream, {CHUNK_COLS} FROM content_chunks cc JOIN chunks k ON k.sha256 = cc.sha256 \
             WHERE cc.content_id = ?1 ORDER BY cc.stream, cc.seq"
        ),
        [content_id],
        |r| Ok((r.get(0)?, chunk_at(r, 1)?)),
    )?;
    Ok(Some(group_streams(streams, chunks)))
}

fn put(c: &Connection, n: &NewContent) -> Result<PutContent> {
    // Reused chunks first: when one was freed, nothing is written.
    for s in &n.streams {
        for k in s.chunks.iter().filter(|k| !n.fresh.contains(&k.blob_key)) {
            let touched = exec(
                c,
                "UPDATE chunks SET used_ms = max(used_ms, ?1) WHERE sha256 = ?2 AND blob_key = ?3 AND size = ?4",
                params![n.now_ms, k.sha256, k.blob_key, size_i64(k.size)],
            )?;
            if touched == 0 {
                return Ok(PutContent::ChunkGone);
            }
        }
    }
    let mut unused = Vec::new();
    exec(
        c,
        "INSERT INTO contents (id, file_id, used_ms) VALUES (?1, ?2, ?3)",
        params![n.id, n.file_id, n.now_ms],
    )?;
    for p in &n.properties {
        exec(
            c,
            "INSERT INTO content_properties (content_id, name, value, retention) VALUES (?1, ?2, ?3, ?4)",
            params![n.id, p.name, p.value, p.retention],
        )?;
    }
    for s in &n.streams {
        exec(
            c,
            "INSERT INTO content_streams (content_id, stream, scheme) VALUES (?1, ?2, ?3)",
            params![n.id, s.stream, s.scheme],
        )?;
        for (seq, k) in s.chunks.iter().enumerate() {
            if n.fresh.contains(&k.blob_key) {
                let kept: Option<String> = one(
                    c,
                    "INSERT INTO chunks (sha256, chunk_id, size, blob_key, used_ms) VALUES (?1, ?2, ?3, ?4, ?5) \
                     ON CONFLICT (sha256) DO UPDATE SET used_ms = max(used_ms, excluded.used_ms) RETURNING blob_key",
                    params![k.sha256, k.chunk_id, size_i64(k.size), k.blob_key, n.now_ms],
                    |r| Ok(r.get(0)?),
                )?;
                if kept.as_deref() != Some(k.blob_key.as_str()) && !unused.contains(&k.blob_key) {
                    unused.push(k.blob_key.clone());
                }
            }
            exec(
                c,
                "INSERT INTO content_chunks (content_id, stream, seq, sha256) VALUES (?1, ?2, ?3, ?4)",
                params![
                    n.id,
                    s.stream,
                    i64::try_from(seq).unwrap_or(i64::MAX),
                    k.sha256
                ],
            )?;
        }
    }
    Ok(PutContent::Stored { unused })
}

fn sweep(c: &Connection, before_ms: i64) -> Result<u64> {
    let gone: Vec<String> = all(
        c,
        &format!("SELECT c.id FROM contents c WHERE c.used_ms < ?1 AND NOT {CONTENT_REFERENCED}"),
        [before_ms],
        |r| Ok(r.get(0)?),
    )?;
    for id in &gone {
        exec(c, "DELETE FROM content_chunks WHERE content_id = ?1", [id])?;
        exec(c, "DELETE FROM content_streams WHERE content_id = ?1", [id])?;
        exec(
            c,
            "DELETE FROM content_properties WHERE content_id = ?1",
            [id],
        )?;
        exec(c, "DELETE FROM contents WHERE id = ?1", [id])?;
    }
    let keys: Vec<String> = all(
        c,
        "DELETE FROM chunks WHERE used_ms < ?1 \
         AND NOT EXISTS (SELECT 1 FROM content_chunks cc WHERE cc.sha256 = chunks.sha256) RETURNING blob_key",
        [before_ms],
        |r| Ok(r.get(0)?),
    )?;
    for k in &keys {
        exec(
            c,
            "INSERT INTO dead_blobs (blob_key) VALUES (?1) ON CONFLICT DO NOTHING",
            [k],
        )?;
    }
    Ok(keys.len() as u64)
}

#[async_trait]
impl ChunkStore for SqliteMeta {
    async fn find_chunks(&self, sha256: &[String]) -> Result<Vec<ChunkRecord>> {
        self.read(|c| {
            let mut out = Vec::new();
            for s in sha256 {
                if let Some(k) = one(
                    c,
                    &format!("SELECT {CHUNK_COLS} FROM chunks k WHERE k.sha256 = ?1"),
                    [s],
                    |r| chunk_at(r, 0),
                )? {
                    out.push(k);
                }
            }
            Ok(out)
        })
    }

    async fn put_content(&self, content: &NewContent) -> Result<PutContent> {
        let n = content.clone();
        self.writer.write(move |c| put(c, &n)).await
    }

    async fn content_streams(&self, content_id: &str) -> Result<Option<Vec<StreamChunks>>> {
        self.read(|c| streams_of(c, content_id))
    }

    async fn content_properties(&self, content_id: &str) -> Result<Vec<ContentProp>> {
        self.read(|c| {
            all(
                c,
                "SELECT name, value, retention FROM content_properties WHERE content_id = ?1 ORDER BY name",
                [content_id],
                |r| {
                    Ok(ContentProp {
                        name: r.get(0)?,
                        value: r.get(1)?,
                        retention: r.get(2)?,
                    })
                },
            )
        })
    }

    async fn file_chunks(&self, file_id: &str, chunk_ids: &[Vec<u8>]) -> Result<Vec<ChunkRecord>> {
        self.read(|c| {
            let mut out = Vec::new();
            for id in chunk_ids {
                if let Some(k) = one(
                    c,
                    &format!(
                        "SELECT {CHUNK_COLS} FROM chunks k WHERE k.chunk_id = ?1 AND EXISTS (\
                         SELECT 1 FROM content_chunks cc JOIN contents c ON c.id = cc.content_id \
                         WHERE cc.sha256 = k.sha256 AND c.file_id = ?2 AND {CONTENT_REFERENCED})"
                    ),
                    params![id, file_id],
                    |r| chunk_at(r, 0),
                )? {
                    out.push(k);
                }
            }
            Ok(out)
        })
    }

    async fn sweep_chunks(&self, before_ms: i64) -> Result<u64> {
        self.writer.write(move |c| sweep(c, before_ms)).await
    }

    async fn dead_blobs(&self, limit: u32) -> Result<Vec<String>> {
        self.read(|c| {
            all(
                c,
                "SELECT blob_key FROM dead_blobs ORDER BY blob_key LIMIT ?1",
                [limit],
                |r| Ok(r.get(0)?),
            )
        })
    }

    async fn forget_dead_blobs(&self, keys: &[String]) -> Result<()> {
        let keys = keys.to_vec();
        self.writer
            .write(move |c| {
                for k in &keys {
                    exec(c, "DELETE FROM dead_blobs WHERE blob_key = ?1", [k])?;
                }
                Ok(())
            })
            .await
    }

    async fn chunk_count(&self) -> Result<u64> {
        self.read(|c| {
            let n: i64 = c.query_row("SELECT count(*) FROM chunks", [], |r| r.get(0))?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }
}
