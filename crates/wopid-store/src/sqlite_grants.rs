//! The SQLite engine's `Grants`. Every transaction runs on the one writer connection and starts
//! with a write statement, so it holds SQLite's write lock from its first step.

use async_trait::async_trait;
use sqlx::{Sqlite, Transaction};

use crate::error::Result;
use crate::grants::Grants;
use crate::model::{Rotation, TokenRecord};
use crate::sqlite::SqliteMeta;

async fn insert_tokens(
    tx: &mut Transaction<'_, Sqlite>,
    family: &[u8],
    tokens: &[TokenRecord],
) -> Result<()> {
    for t in tokens {
        sqlx::query("INSERT INTO tokens (hash, user_id, kind, resource_id, perms, expires_ms, revoked, client) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(&t.hash)
            .bind(&t.user_id)
            .bind(t.kind.as_str())
            .bind(&t.resource_id)
            .bind(t.perms)
            .bind(t.expires_ms)
            .bind(t.revoked)
            .bind(&t.client)
            .execute(&mut **tx)
            .await?;
        sqlx::query("INSERT INTO oauth_family_tokens (hash, family) VALUES (?, ?)")
            .bind(&t.hash)
            .bind(family)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Marks `family` revoked (creating its row when `create`) and revokes its tokens.
async fn revoke_family(
    tx: &mut Transaction<'_, Sqlite>,
    family: &[u8],
    create: bool,
) -> Result<u64> {
    let sql = if create {
        "INSERT INTO oauth_families (family, revoked) VALUES (?, 1) \
         ON CONFLICT(family) DO UPDATE SET revoked = 1"
    } else {
        "UPDATE oauth_families SET revoked = 1 WHERE family = ?"
    };
    let found = sqlx::query(sql).bind(family).execute(&mut **tx).await?;
    if found.rows_affected() == 0 {
        return Ok(0);
    }
    let done = sqlx::query(
        "UPDATE tokens SET revoked = 1 WHERE hash = ? \
         OR hash IN (SELECT hash FROM oauth_family_tokens WHERE family = ?)",
    )
    .bind(family)
    .bind(family)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// Creates the family when missing; whether it is revoked.
async fn family_revoked(tx: &mut Transaction<'_, Sqlite>, family: &[u8]) -> Result<bool> {
    sqlx::query(
        "INSERT INTO oauth_families (family, revoked) VALUES (?, 0) ON CONFLICT(family) DO NOTHING",
    )
    .bind(family)
    .execute(&mut **tx)
    .await?;
    let revoked: bool = sqlx::query_scalar("SELECT revoked FROM oauth_families WHERE family = ?")
        .bind(family)
        .fetch_one(&mut **tx)
        .await?;
    Ok(revoked)
}

#[async_trait]
impl Grants for SqliteMeta {
    async fn reserve_sign_in(
        &self,
        keys: &[(&str, u64)],
        now_ms: i64,
        since_ms: i64,
    ) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM sign_in_failures WHERE at_ms < ?")
            .bind(since_ms)
            .execute(&mut *tx)
            .await?;
        for (key, limit) in keys {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM sign_in_failures WHERE login = ? AND at_ms >= ?",
            )
            .bind(key)
            .bind(since_ms)
            .fetch_one(&mut *tx)
            .await?;
            if u64::try_from(n).unwrap_or(0) >= *limit {
                tx.commit().await?;
                return Ok(false);
            }
        }
        for (key, _) in keys {
            sqlx::query("INSERT INTO sign_in_failures (login, at_ms) VALUES (?, ?)")
                .bind(key)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn release_sign_in(&self, keys: &[&str], at_ms: i64) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        for key in keys {
            sqlx::query(
                "DELETE FROM sign_in_failures WHERE rowid = \
                 (SELECT rowid FROM sign_in_failures WHERE login = ? AND at_ms = ? LIMIT 1)",
            )
            .bind(key)
            .bind(at_ms)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn insert_family_tokens(&self, family: &[u8], tokens: &[TokenRecord]) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        if family_revoked(&mut tx, family).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_tokens(&mut tx, family, tokens).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn rotate_refresh_token(
        &self,
        old: &[u8],
        now_ms: i64,
        new: &[TokenRecord],
    ) -> Result<Rotation> {
        let mut tx = self.writer.begin().await?;
        let rotated = sqlx::query(
            "UPDATE tokens SET revoked = 1 \
             WHERE hash = ? AND kind = 'refresh' AND revoked = 0 AND expires_ms > ?",
        )
        .bind(old)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        let family: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT family FROM oauth_family_tokens WHERE hash = ?")
                .bind(old)
                .fetch_optional(&mut *tx)
                .await?;
        let family = family.unwrap_or_else(|| old.to_vec());
        if rotated {
            if family_revoked(&mut tx, &family).await? {
                tx.rollback().await?;
                return Ok(Rotation::Invalid);
            }
            insert_tokens(&mut tx, &family, new).await?;
            tx.commit().await?;
            return Ok(Rotation::Rotated);
        }
        let used: Option<bool> =
            sqlx::query_scalar("SELECT revoked FROM tokens WHERE hash = ? AND kind = 'refresh'")
                .bind(old)
                .fetch_optional(&mut *tx)
                .await?;
        if used == Some(true) {
            revoke_family(&mut tx, &family, true).await?;
            tx.commit().await?;
            return Ok(Rotation::Reused);
        }
        tx.rollback().await?;
        Ok(Rotation::Invalid)
    }

    async fn revoke_token_family(&self, family: &[u8]) -> Result<u64> {
        let mut tx = self.writer.begin().await?;
        let n = revoke_family(&mut tx, family, false).await?;
        tx.commit().await?;
        Ok(n)
    }
}
