//! The PostgreSQL engine's `ApiStore`.

use async_trait::async_trait;

use crate::api_store::ApiStore;
use crate::error::Result;
use crate::model::{ApiKey, ContainerDeletion, StorageTotals, User, UserChange};
use crate::postgres::PgMeta;
use crate::rows::{self, api_key_cols, numbered, user_cols};

#[async_trait]
impl ApiStore for PgMeta {
    async fn insert_api_key(&self, k: &ApiKey) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_keys (id, name, hash, scope, origins, created_ms, revoked) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&k.id)
        .bind(&k.name)
        .bind(&k.hash)
        .bind(&k.scope)
        .bind(k.origins.join("\n"))
        .bind(k.created_ms)
        .bind(k.revoked)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKey>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            api_key_cols!(),
            " FROM api_keys WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(rows::api_key).transpose()
    }

    async fn api_keys(&self) -> Result<Vec<ApiKey>> {
        let found = sqlx::query(concat!(
            "SELECT ",
            api_key_cols!(),
            " FROM api_keys ORDER BY created_ms, id COLLATE \"C\""
        ))
        .fetch_all(&self.pool)
        .await?;
        found.iter().map(rows::api_key).collect()
    }

    async fn revoke_api_key(&self, id: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE api_keys SET revoked = TRUE WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn change_user(&self, user_id: &str, ch: &UserChange) -> Result<Option<User>> {
        let mut tx = self.pool.begin().await?;
        // The user's row first, locked: a concurrent revocation queues behind it.
        let was_disabled: Option<bool> =
            sqlx::query_scalar("SELECT disabled FROM users WHERE id = $1 FOR UPDATE")
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(was_disabled) = was_disabled else {
            return Ok(None);
        };
        let (set_email, email) = match &ch.email {
            Some(e) => (true, e.clone()),
            None => (false, None),
        };
        sqlx::query(
            "UPDATE users SET display_name = COALESCE($2, display_name), \
             email = CASE WHEN $3 THEN $4 ELSE email END, \
             disabled = COALESCE($5, disabled), admin = COALESCE($6, admin) WHERE id = $1",
        )
        .bind(user_id)
        .bind(&ch.display_name)
        .bind(set_email)
        .bind(email)
        .bind(ch.disabled)
        .bind(ch.admin)
        .execute(&mut *tx)
        .await?;
        if ch.disabled == Some(true) && !was_disabled {
            for sql in [
                "UPDATE users SET epoch = epoch + 1, revoked_below = epoch + 1 WHERE id = $1",
                "UPDATE tokens SET revoked = TRUE WHERE user_id = $1",
                "DELETE FROM sessions WHERE user_id = $1",
                "DELETE FROM oauth_codes WHERE user_id = $1",
            ] {
                sqlx::query(sql).bind(user_id).execute(&mut *tx).await?;
            }
        }
        let row = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE id = $1"
        ))
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
        let user = rows::user(&row)?;
        tx.commit().await?;
        Ok(Some(user))
    }

    async fn delete_user(&self, user_id: &str) -> Result<ContainerDeletion> {
        let mut tx = self.pool.begin().await?;
        let exists: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            return Ok(ContainerDeletion::Missing);
        }
        // The root is locked too, so nothing is created in it while the user goes.
        sqlx::query("SELECT id FROM containers WHERE owner_id = $1 FOR UPDATE")
            .bind(user_id)
            .fetch_all(&mut *tx)
            .await?;
        let owns: i64 = sqlx::query_scalar(&numbered(crate::api_store::USER_OWNS))
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
        if owns > 0 {
            return Ok(ContainerDeletion::NotEmpty);
        }
        for sql in crate::api_store::DELETE_USER {
            sqlx::query(&numbered(sql))
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(ContainerDeletion::Deleted)
    }

    async fn put_token_host(&self, hash: &[u8], host: &str, expires_ms: i64) -> Result<()> {
        sqlx::query("INSERT INTO token_hosts (hash, host, expires_ms) VALUES ($1, $2, $3)")
            .bind(hash)
            .bind(host)
            .bind(expires_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn revoke_resource_tokens(&self, resource_id: &str) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        // The users' rows first, as `revoke_tokens` takes them, so the two queue on each other.
        sqlx::query(
            "UPDATE users SET epoch = epoch + 1 \
             WHERE id IN (SELECT user_id FROM tokens WHERE resource_id = $1)",
        )
        .bind(resource_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO token_revocations (user_id, resource_id, epoch) \
             SELECT id, $1, epoch FROM users \
             WHERE id IN (SELECT user_id FROM tokens WHERE resource_id = $1) \
             ON CONFLICT (user_id, resource_id) DO UPDATE SET epoch = excluded.epoch",
        )
        .bind(resource_id)
        .execute(&mut *tx)
        .await?;
        let done =
            sqlx::query("UPDATE tokens SET revoked = TRUE WHERE resource_id = $1 AND NOT revoked")
                .bind(resource_id)
                .execute(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    async fn storage_totals(&self) -> Result<StorageTotals> {
        let r = sqlx::query(crate::api_store::STORAGE_TOTALS)
            .fetch_one(&self.pool)
            .await?;
        crate::api_store::storage_totals(&r)
    }
}
