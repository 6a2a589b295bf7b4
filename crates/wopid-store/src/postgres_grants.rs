//! The PostgreSQL engine's `Grants`. Sign-in reservations serialize per key on a transaction
//! advisory lock; token families lock their row before touching their tokens, always in that
//! order, so rotations and revocations on different nodes wait for each other and never deadlock.

use async_trait::async_trait;
use sqlx::{Postgres, Transaction};

use crate::error::Result;
use crate::grants::{self, Grants};
use crate::model::{Rotation, TokenRecord};
use crate::postgres::PgMeta;
use crate::postgres_accounts::insert_token_row;
use crate::rows::numbered;

async fn insert_tokens(
    tx: &mut Transaction<'_, Postgres>,
    family: &[u8],
    tokens: &[TokenRecord],
) -> Result<()> {
    for t in tokens {
        insert_token_row(&mut **tx, t).await?;
        sqlx::query(&numbered(grants::ADD_FAMILY_TOKEN))
            .bind(&t.hash)
            .bind(family)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Creates the family when missing and locks its row; whether it is revoked.
async fn lock_family(tx: &mut Transaction<'_, Postgres>, family: &[u8]) -> Result<bool> {
    sqlx::query(
        "INSERT INTO oauth_families (family, revoked) VALUES ($1, FALSE) \
         ON CONFLICT (family) DO NOTHING",
    )
    .bind(family)
    .execute(&mut **tx)
    .await?;
    let revoked: bool =
        sqlx::query_scalar("SELECT revoked FROM oauth_families WHERE family = $1 FOR UPDATE")
            .bind(family)
            .fetch_one(&mut **tx)
            .await?;
    Ok(revoked)
}

/// Marks a family (whose row exists) revoked and revokes its tokens.
async fn revoke_family(tx: &mut Transaction<'_, Postgres>, family: &[u8]) -> Result<u64> {
    let found = sqlx::query("UPDATE oauth_families SET revoked = TRUE WHERE family = $1")
        .bind(family)
        .execute(&mut **tx)
        .await?;
    if found.rows_affected() == 0 {
        return Ok(0);
    }
    let done = sqlx::query(
        "UPDATE tokens SET revoked = TRUE WHERE hash = $1 \
         OR hash IN (SELECT hash FROM oauth_family_tokens WHERE family = $1)",
    )
    .bind(family)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

#[async_trait]
impl Grants for PgMeta {
    async fn reserve_sign_in(
        &self,
        keys: &[(&str, u64)],
        now_ms: i64,
        since_ms: i64,
    ) -> Result<bool> {
        let mut sorted: Vec<_> = keys.to_vec();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        let mut tx = self.pool.begin().await?;
        for (key, _) in &sorted {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1)::bigint)")
                .bind(format!("wopid-sign-in:{key}"))
                .execute(&mut *tx)
                .await?;
        }
        // Old failures go, without waiting on rows another node is removing.
        sqlx::query(
            "DELETE FROM sign_in_failures WHERE ctid IN \
             (SELECT ctid FROM sign_in_failures WHERE at_ms < $1 FOR UPDATE SKIP LOCKED)",
        )
        .bind(since_ms)
        .execute(&mut *tx)
        .await?;
        for (key, limit) in &sorted {
            let n: i64 = sqlx::query_scalar(&numbered(grants::COUNT_FAILURES))
                .bind(key)
                .bind(since_ms)
                .fetch_one(&mut *tx)
                .await?;
            if u64::try_from(n).unwrap_or(0) >= *limit {
                tx.commit().await?;
                return Ok(false);
            }
        }
        for (key, _) in &sorted {
            sqlx::query(&numbered(grants::ADD_FAILURE))
                .bind(key)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn release_sign_in(&self, keys: &[&str], at_ms: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for key in keys {
            sqlx::query(
                "DELETE FROM sign_in_failures WHERE ctid = \
                 (SELECT ctid FROM sign_in_failures WHERE login = $1 AND at_ms = $2 LIMIT 1)",
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
        let mut tx = self.pool.begin().await?;
        if lock_family(&mut tx, family).await? {
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
        // Which family a token belongs to never changes once written.
        let family: Option<Vec<u8>> = sqlx::query_scalar(&numbered(grants::FAMILY_OF))
            .bind(old)
            .fetch_optional(&self.pool)
            .await?;
        let family = family.unwrap_or_else(|| old.to_vec());
        let mut tx = self.pool.begin().await?;
        if lock_family(&mut tx, &family).await? {
            tx.rollback().await?;
            return Ok(Rotation::Invalid);
        }
        let rotated = sqlx::query(
            "UPDATE tokens SET revoked = TRUE \
             WHERE hash = $1 AND kind = 'refresh' AND NOT revoked AND expires_ms > $2",
        )
        .bind(old)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if rotated {
            insert_tokens(&mut tx, &family, new).await?;
            tx.commit().await?;
            return Ok(Rotation::Rotated);
        }
        let used: Option<bool> = sqlx::query_scalar(&numbered(grants::REFRESH_REVOKED))
            .bind(old)
            .fetch_optional(&mut *tx)
            .await?;
        if used == Some(true) {
            revoke_family(&mut tx, &family).await?;
            tx.commit().await?;
            return Ok(Rotation::Reused);
        }
        tx.rollback().await?;
        Ok(Rotation::Invalid)
    }

    async fn revoke_token_family(&self, family: &[u8]) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        // The family row first, as rotations lock it, then its tokens.
        let exists: Option<bool> =
            sqlx::query_scalar("SELECT revoked FROM oauth_families WHERE family = $1 FOR UPDATE")
                .bind(family)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            tx.rollback().await?;
            return Ok(0);
        }
        let n = revoke_family(&mut tx, family).await?;
        tx.commit().await?;
        Ok(n)
    }
}
