//! The SQLite engine's `ApiStore`.

use async_trait::async_trait;
use rusqlite::{OptionalExtension as _, params};

use crate::api_store::ApiStore;
use crate::error::Result;
use crate::model::{ApiKey, ContainerDeletion, StorageTotals, User, UserChange};
use crate::rows::{self, api_key_cols, user_cols};
use crate::sqlite::{SqliteMeta, all, exec, one};

#[async_trait]
impl ApiStore for SqliteMeta {
    async fn insert_api_key(&self, k: &ApiKey) -> Result<()> {
        let k = k.clone();
        self.writer
            .write(move |c| {
                exec(
                    c,
                    "INSERT INTO api_keys (id, name, hash, scope, origins, created_ms, revoked) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        k.id,
                        k.name,
                        k.hash,
                        k.scope,
                        k.origins.join("\n"),
                        k.created_ms,
                        k.revoked
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKey>> {
        self.read(|c| {
            one(
                c,
                concat!("SELECT ", api_key_cols!(), " FROM api_keys WHERE id = ?1"),
                [id],
                |r| rows::api_key(r),
            )
        })
    }

    async fn api_keys(&self) -> Result<Vec<ApiKey>> {
        self.read(|c| {
            all(
                c,
                concat!(
                    "SELECT ",
                    api_key_cols!(),
                    " FROM api_keys ORDER BY created_ms, id"
                ),
                [],
                |r| rows::api_key(r),
            )
        })
    }

    async fn revoke_api_key(&self, id: &str) -> Result<bool> {
        let id = id.to_owned();
        self.writer
            .write(move |c| {
                Ok(exec(c, "UPDATE api_keys SET revoked = 1 WHERE id = ?1", [&id])? > 0)
            })
            .await
    }

    async fn change_user(&self, user_id: &str, ch: &UserChange) -> Result<Option<User>> {
        let (user_id, ch) = (user_id.to_owned(), ch.clone());
        self.writer
            .write(move |c| {
                let was_disabled: Option<bool> = c
                    .query_row("SELECT disabled FROM users WHERE id = ?1", [&user_id], |r| {
                        r.get(0)
                    })
                    .optional()?;
                let Some(was_disabled) = was_disabled else {
                    return Ok(None);
                };
                let (set_email, email) = match &ch.email {
                    Some(e) => (true, e.clone()),
                    None => (false, None),
                };
                exec(
                    c,
                    "UPDATE users SET display_name = COALESCE(?2, display_name), \
                     email = CASE WHEN ?3 THEN ?4 ELSE email END, \
                     disabled = COALESCE(?5, disabled), admin = COALESCE(?6, admin) WHERE id = ?1",
                    params![user_id, ch.display_name, set_email, email, ch.disabled, ch.admin],
                )?;
                if ch.disabled == Some(true) && !was_disabled {
                    exec(
                        c,
                        "UPDATE users SET epoch = epoch + 1, revoked_below = epoch + 1 WHERE id = ?1",
                        [&user_id],
                    )?;
                    exec(c, "UPDATE tokens SET revoked = 1 WHERE user_id = ?1", [&user_id])?;
                    exec(c, "DELETE FROM sessions WHERE user_id = ?1", [&user_id])?;
                    exec(c, "DELETE FROM oauth_codes WHERE user_id = ?1", [&user_id])?;
                }
                one(
                    c,
                    concat!("SELECT ", user_cols!(), " FROM users WHERE id = ?1"),
                    [&user_id],
                    |r| rows::user(r),
                )
            })
            .await
    }

    async fn delete_user(&self, user_id: &str) -> Result<ContainerDeletion> {
        let user_id = user_id.to_owned();
        self.writer
            .write(move |c| {
                let exists: Option<i64> = c
                    .query_row("SELECT 1 FROM users WHERE id = ?1", [&user_id], |r| {
                        r.get(0)
                    })
                    .optional()?;
                if exists.is_none() {
                    return Ok(ContainerDeletion::Missing);
                }
                let owns: i64 =
                    c.query_row(crate::api_store::USER_OWNS, [&user_id], |r| r.get(0))?;
                if owns > 0 {
                    return Ok(ContainerDeletion::NotEmpty);
                }
                for sql in crate::api_store::DELETE_USER {
                    exec(c, sql, [&user_id])?;
                }
                Ok(ContainerDeletion::Deleted)
            })
            .await
    }

    async fn put_token_host(&self, hash: &[u8], host: &str, expires_ms: i64) -> Result<()> {
        let (hash, host) = (hash.to_vec(), host.to_owned());
        self.writer
            .write(move |c| {
                exec(
                    c,
                    "INSERT INTO token_hosts (hash, host, expires_ms) VALUES (?1, ?2, ?3)",
                    params![hash, host, expires_ms],
                )?;
                Ok(())
            })
            .await
    }

    async fn revoke_resource_tokens(&self, resource_id: &str) -> Result<u64> {
        let resource_id = resource_id.to_owned();
        self.writer
            .write(move |c| {
                exec(
                    c,
                    "UPDATE users SET epoch = epoch + 1 \
                     WHERE id IN (SELECT user_id FROM tokens WHERE resource_id = ?1)",
                    [&resource_id],
                )?;
                exec(
                    c,
                    "INSERT INTO token_revocations (user_id, resource_id, epoch) \
                     SELECT id, ?1, epoch FROM users \
                     WHERE id IN (SELECT user_id FROM tokens WHERE resource_id = ?1) \
                     ON CONFLICT(user_id, resource_id) DO UPDATE SET epoch = excluded.epoch",
                    [&resource_id],
                )?;
                let n = exec(
                    c,
                    "UPDATE tokens SET revoked = 1 WHERE resource_id = ?1 AND NOT revoked",
                    [&resource_id],
                )?;
                Ok(n as u64)
            })
            .await
    }

    async fn storage_totals(&self) -> Result<StorageTotals> {
        self.read(|c| {
            let t = one(c, crate::api_store::STORAGE_TOTALS, [], |r| {
                crate::api_store::storage_totals(r)
            })?;
            Ok(t.unwrap_or_default())
        })
    }
}
