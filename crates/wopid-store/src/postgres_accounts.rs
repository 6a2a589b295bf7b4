//! The PostgreSQL engine's `AccountStore`: tokens, shares, sign-in data, OAuth, sessions, settings.

use async_trait::async_trait;

use crate::error::Result;
use crate::meta::AccountStore;
use crate::model::*;
use crate::postgres::PgMeta;
use crate::rows::{
    auth_code as auth_code_row, oauth_client as oauth_client_row, session as session_row,
    share as share_row, token as token_row,
};

#[async_trait]
impl AccountStore for PgMeta {
    async fn password_hash(&self, user_id: &str) -> Result<Option<String>> {
        let h: Option<Option<String>> =
            sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(h.flatten())
    }

    async fn set_password_hash(&self, user_id: &str, hash: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE users SET password_hash = $1, epoch = epoch + 1, revoked_below = epoch + 1 WHERE id = $2",
        )
        .bind(hash)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        end_sessions(&mut tx, user_id).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn oidc_user(&self, issuer: &str, subject: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT user_id FROM oidc_links WHERE issuer = $1 AND subject = $2")
                .bind(issuer)
                .bind(subject)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn create_oidc_user(
        &self,
        issuer: &str,
        subject: &str,
        u: &NewUser,
        now_ms: i64,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let res = sqlx::query(
            "INSERT INTO users (id, login, display_name, email, password_hash, created_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&u.id)
        .bind(&u.login)
        .bind(&u.display_name)
        .bind(&u.email)
        .bind(&u.password_hash)
        .bind(now_ms)
        .execute(&mut *tx)
        .await;
        match res {
            Ok(_) => {}
            Err(e) if crate::postgres::is_unique_violation(&e) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        let res = sqlx::query(
            "INSERT INTO oidc_links (issuer, subject, user_id, created_ms) VALUES ($1, $2, $3, $4)",
        )
        .bind(issuer)
        .bind(subject)
        .bind(&u.id)
        .bind(now_ms)
        .execute(&mut *tx)
        .await;
        match res {
            Ok(_) => {}
            Err(e) if crate::postgres::is_unique_violation(&e) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn put_share(&self, sh: &Share) -> Result<()> {
        sqlx::query(
            "INSERT INTO shares (resource_id, user_id, can_write) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, resource_id) DO UPDATE SET can_write = excluded.can_write",
        )
        .bind(&sh.resource_id)
        .bind(&sh.user_id)
        .bind(sh.can_write)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn shares_of(&self, user_id: &str) -> Result<Vec<Share>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            crate::rows::share_cols!(),
            " FROM shares WHERE user_id = $1 ORDER BY resource_id COLLATE \"C\""
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(share_row).collect()
    }

    async fn shares(&self, user_id: &str, resource_ids: &[String]) -> Result<Vec<Share>> {
        if resource_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(concat!(
            "SELECT ",
            crate::rows::share_cols!(),
            " FROM shares WHERE user_id = $1 AND resource_id = ANY($2)"
        ))
        .bind(user_id)
        .bind(resource_ids)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(share_row).collect()
    }

    async fn add_oauth_client(&self, c: &OAuthClient) -> Result<()> {
        sqlx::query(
            "INSERT INTO oauth_clients (id, name, redirect_uri, created_ms, require_pkce) VALUES ($1, $2, $3, 0, $4)",
        )
        .bind(&c.id)
        .bind(&c.name)
        .bind(&c.redirect_uri)
        .bind(c.require_pkce)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn oauth_client(&self, id: &str) -> Result<Option<OAuthClient>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            crate::rows::oauth_client_cols!(),
            " FROM oauth_clients WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(oauth_client_row).transpose()
    }

    async fn insert_auth_code(&self, c: &AuthCode) -> Result<()> {
        sqlx::query(
            "INSERT INTO oauth_codes (hash, client_id, user_id, redirect_uri, code_challenge, expires_ms, epoch) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&c.hash)
        .bind(&c.client_id)
        .bind(&c.user_id)
        .bind(&c.redirect_uri)
        .bind(&c.code_challenge)
        .bind(c.expires_ms)
        .bind(c.epoch)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn take_auth_code(&self, hash: &[u8]) -> Result<Option<AuthCode>> {
        let mut tx = self.pool.begin().await?;
        // One statement: of two nodes redeeming the same code, only one gets the row.
        let row = sqlx::query(concat!(
            "DELETE FROM oauth_codes WHERE hash = $1 RETURNING ",
            crate::rows::auth_code_cols!()
        ))
        .bind(hash)
        .fetch_optional(&mut *tx)
        .await?;
        if row.is_some() {
            // The code's tokens will form a family named by the code: created with the code's
            // redemption, so a replay of the code always finds it to revoke.
            sqlx::query(
                "INSERT INTO oauth_families (family, revoked) VALUES ($1, FALSE) ON CONFLICT (family) DO NOTHING",
            )
            .bind(hash)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        row.as_ref().map(auth_code_row).transpose()
    }

    async fn insert_token(&self, t: &TokenRecord) -> Result<()> {
        insert_token_row(&self.pool, t).await
    }

    async fn token(&self, hash: &[u8]) -> Result<Option<TokenRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            crate::rows::token_cols!(),
            " FROM tokens WHERE hash = $1"
        ))
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(token_row).transpose()
    }

    async fn token_file(&self, hash: &[u8], file_id: &str) -> Result<Option<TokenFile>> {
        static SQL: std::sync::LazyLock<String> =
            std::sync::LazyLock::new(|| crate::rows::numbered(crate::rows::TOKEN_FILE));
        // Every WOPI request reads this: on a kept connection (see `PgMeta::hot_read`).
        let row = self
            .hot_read(async |conn| {
                sqlx::query(SQL.as_str())
                    .bind(hash)
                    .bind(file_id)
                    .fetch_optional(conn)
                    .await
            })
            .await?;
        row.as_ref().map(crate::rows::token_file).transpose()
    }

    async fn revoke_token(&self, hash: &[u8]) -> Result<()> {
        sqlx::query("UPDATE tokens SET revoked = TRUE WHERE hash = $1")
            .bind(hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn revoke_tokens(&self, user_id: &str, resource_id: Option<&str>) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        // The user's row first: concurrent revocations of one user queue on its lock.
        match resource_id {
            None => {
                sqlx::query(
                    "UPDATE users SET epoch = epoch + 1, revoked_below = epoch + 1 WHERE id = $1",
                )
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                end_sessions(&mut tx, user_id).await?;
            }
            Some(r) => {
                sqlx::query("UPDATE users SET epoch = epoch + 1 WHERE id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO token_revocations (user_id, resource_id, epoch) \
                     SELECT id, $1, epoch FROM users WHERE id = $2 \
                     ON CONFLICT (user_id, resource_id) DO UPDATE SET epoch = excluded.epoch",
                )
                .bind(r)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            }
        }
        let done = sqlx::query(
            "UPDATE tokens SET revoked = TRUE WHERE user_id = $1 AND ($2::text IS NULL OR resource_id = $2)",
        )
        .bind(user_id)
        .bind(resource_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    async fn token_floor(&self, user_id: &str, resource_id: &str) -> Result<i64> {
        let floor: Option<i64> = sqlx::query_scalar(
            "SELECT GREATEST(u.revoked_below, COALESCE((SELECT r.epoch FROM token_revocations r \
             WHERE r.user_id = u.id AND r.resource_id = $1), 0)) FROM users u WHERE u.id = $2",
        )
        .bind(resource_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(floor.unwrap_or(0))
    }

    async fn purge_expired(&self, now_ms: i64) -> Result<u64> {
        let mut n = 0;
        // One statement per table: each is atomic, and none holds locks the others need.
        for table in ["tokens", "oauth_codes", "sessions", "token_hosts"] {
            n += sqlx::query(&format!("DELETE FROM {table} WHERE expires_ms < $1"))
                .bind(now_ms)
                .execute(&self.pool)
                .await?
                .rows_affected();
        }
        Ok(n)
    }

    async fn setting_or_init(&self, key: &str, init: &str) -> Result<String> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(init)
        .execute(&self.pool)
        .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                .bind(key)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn put_setting(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn insert_session(&self, s: &SessionRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (hash, user_id, csrf, expires_ms, epoch) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&s.hash)
        .bind(&s.user_id)
        .bind(&s.csrf)
        .bind(s.expires_ms)
        .bind(s.epoch)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session(&self, hash: &[u8]) -> Result<Option<SessionRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            crate::rows::session_cols!(),
            " FROM sessions WHERE hash = $1"
        ))
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(session_row).transpose()
    }

    async fn delete_session(&self, hash: &[u8]) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE hash = $1")
            .bind(hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn shares_on(&self, resource_id: &str) -> Result<Vec<Share>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            crate::rows::share_cols!(),
            " FROM shares WHERE resource_id = $1 ORDER BY user_id COLLATE \"C\""
        ))
        .bind(resource_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(share_row).collect()
    }

    async fn remove_share(&self, resource_id: &str, user_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM shares WHERE resource_id = $1 AND user_id = $2")
            .bind(resource_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn links_on(&self, resource_id: &str, now_ms: i64) -> Result<Vec<TokenRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            crate::rows::token_cols!(),
            " FROM tokens WHERE resource_id = $1 AND kind IN ('share', 'cshare') \
             AND NOT revoked AND expires_ms > $2 ORDER BY expires_ms, hash"
        ))
        .bind(resource_id)
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_row).collect()
    }
}

/// Deletes a user's sessions and authorization codes (their generation is void already; this
/// only frees the rows).
async fn end_sessions(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, user_id: &str) -> Result<()> {
    for table in ["sessions", "oauth_codes"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1"))
            .bind(user_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Stores one token row, every column: the one INSERT of tokens on this engine.
pub(crate) async fn insert_token_row<'e>(
    e: impl sqlx::PgExecutor<'e>,
    t: &TokenRecord,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO tokens (hash, user_id, kind, resource_id, perms, expires_ms, revoked, client, epoch, link) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&t.hash)
    .bind(&t.user_id)
    .bind(t.kind.as_str())
    .bind(&t.resource_id)
    .bind(t.perms)
    .bind(t.expires_ms)
    .bind(t.revoked)
    .bind(&t.client)
    .bind(t.epoch)
    .bind(&t.link)
    .execute(e)
    .await?;
    Ok(())
}
