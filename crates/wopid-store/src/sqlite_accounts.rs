//! The SQLite engine's `AccountStore`: tokens, shares, sign-in data, OAuth, sessions, settings.

use async_trait::async_trait;
use rusqlite::params;

use crate::error::Result;
use crate::meta::AccountStore;
use crate::model::*;
use crate::rows::{self, auth_code_cols, session_cols, share_cols, token_cols};
use crate::sqlite::{SqliteMeta, all, exec, one};

const SETTING: &str = "SELECT value FROM settings WHERE key = ?1";

#[async_trait]
impl AccountStore for SqliteMeta {
    async fn password_hash(&self, user_id: &str) -> Result<Option<String>> {
        let h = self.read(|c| {
            one(
                c,
                "SELECT password_hash FROM users WHERE id = ?1",
                [user_id],
                |r| Ok(r.get::<_, Option<String>>(0)?),
            )
        })?;
        Ok(h.flatten())
    }

    async fn set_password_hash(&self, user_id: &str, hash: &str) -> Result<()> {
        let (user_id, hash) = (user_id.to_owned(), hash.to_owned());
        self.writer
            .write(move |c| {
                exec(
                    c,
                    "UPDATE users SET password_hash = ?1, epoch = epoch + 1, revoked_below = epoch + 1 \
                     WHERE id = ?2",
                    [&hash, &user_id],
                )?;
                end_sessions(c, &user_id)
            })
            .await
    }

    async fn oidc_user(&self, issuer: &str, subject: &str) -> Result<Option<String>> {
        self.read(|c| {
            one(
                c,
                "SELECT user_id FROM oidc_links WHERE issuer = ?1 AND subject = ?2",
                [issuer, subject],
                |r| Ok(r.get::<_, String>(0)?),
            )
        })
    }

    async fn create_oidc_user(
        &self,
        issuer: &str,
        subject: &str,
        u: &NewUser,
        now_ms: i64,
    ) -> Result<bool> {
        let (issuer, subject, u) = (issuer.to_owned(), subject.to_owned(), u.clone());
        self.writer
            .write(move |c| {
                // The one writer runs this alone: nothing can link the identity or take the name
                // between the check and the inserts, so a refusal leaves nothing behind.
                let linked = one(
                    c,
                    "SELECT 1 FROM oidc_links WHERE issuer = ?1 AND subject = ?2",
                    [&issuer, &subject],
                    |_| Ok(()),
                )?;
                if linked.is_some() {
                    return Ok(false);
                }
                let res = c
                    .prepare_cached(
                        "INSERT INTO users (id, login, display_name, email, password_hash, created_ms) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )?
                    .execute(params![
                        u.id,
                        u.login,
                        u.display_name,
                        u.email,
                        u.password_hash,
                        now_ms
                    ]);
                match res {
                    Ok(_) => {}
                    Err(e) if crate::sqlite::is_unique_violation(&e) => return Ok(false),
                    Err(e) => return Err(e.into()),
                }
                exec(
                    c,
                    "INSERT INTO oidc_links (issuer, subject, user_id, created_ms) \
                     VALUES (?1, ?2, ?3, ?4)",
                    params![issuer, subject, u.id, now_ms],
                )?;
                Ok(true)
            })
            .await
    }

    async fn put_share(&self, sh: &Share) -> Result<()> {
        let sh = sh.clone();
        self.writer
            .write(move |c| {
                exec(
                    c,
                    "INSERT INTO shares (resource_id, user_id, can_write) VALUES (?1, ?2, ?3) \
                     ON CONFLICT(user_id, resource_id) DO UPDATE SET can_write = excluded.can_write",
                    params![sh.resource_id, sh.user_id, sh.can_write],
                )?;
                Ok(())
            })
            .await
    }

    async fn shares_of(&self, user_id: &str) -> Result<Vec<Share>> {
        self.read(|c| {
            all(
                c,
                concat!(
                    "SELECT ",
                    share_cols!(),
                    " FROM shares WHERE user_id = ?1 ORDER BY resource_id"
                ),
                [user_id],
                |r| rows::share(r),
            )
        })
    }

    async fn shares(&self, user_id: &str, resource_ids: &[String]) -> Result<Vec<Share>> {
        if resource_ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks = (2..resource_ids.len() + 2)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            concat!(
                "SELECT ",
                share_cols!(),
                " FROM shares WHERE user_id = ?1 AND resource_id IN ({})"
            ),
            marks
        );
        let mut values: Vec<&str> = Vec::with_capacity(resource_ids.len() + 1);
        values.push(user_id);
        values.extend(resource_ids.iter().map(String::as_str));
        self.read(|c| {
            all(c, &sql, rusqlite::params_from_iter(values), |r| {
                rows::share(r)
            })
        })
    }

    async fn add_oauth_client(&self, cl: &OAuthClient) -> Result<()> {
        let cl = cl.clone();
        self.writer
            .write(move |c| {
                exec(
                    c,
                    concat!(
                        "INSERT INTO oauth_clients (",
                        rows::oauth_client_cols!(),
                        ", created_ms) VALUES (?1, ?2, ?3, ?4, 0)"
                    ),
                    params![cl.id, cl.name, cl.redirect_uri, cl.require_pkce],
                )?;
                Ok(())
            })
            .await
    }

    async fn oauth_client(&self, id: &str) -> Result<Option<OAuthClient>> {
        self.read(|c| {
            one(
                c,
                concat!(
                    "SELECT ",
                    rows::oauth_client_cols!(),
                    " FROM oauth_clients WHERE id = ?1"
                ),
                [id],
                |r| rows::oauth_client(r),
            )
        })
    }

    async fn insert_auth_code(&self, code: &AuthCode) -> Result<()> {
        let a = code.clone();
        self.writer
            .write(move |c| {
                exec(
                    c,
                    concat!(
                        "INSERT INTO oauth_codes (",
                        auth_code_cols!(),
                        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                    ),
                    params![
                        a.hash,
                        a.client_id,
                        a.user_id,
                        a.redirect_uri,
                        a.code_challenge,
                        a.expires_ms,
                        a.epoch
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn take_auth_code(&self, hash: &[u8]) -> Result<Option<AuthCode>> {
        let hash = hash.to_vec();
        self.writer
            .write(move |c| {
                let code = one(
                    c,
                    concat!(
                        "DELETE FROM oauth_codes WHERE hash = ?1 RETURNING ",
                        auth_code_cols!()
                    ),
                    [&hash],
                    |r| rows::auth_code(r),
                )?;
                if code.is_some() {
                    // The code's tokens will form a family named by the code: created with the
                    // code's redemption, so a replay of the code always finds it to revoke.
                    exec(
                        c,
                        "INSERT INTO oauth_families (family, revoked) VALUES (?1, 0) ON CONFLICT (family) DO NOTHING",
                        [&hash],
                    )?;
                }
                Ok(code)
            })
            .await
    }

    async fn insert_token(&self, t: &TokenRecord) -> Result<()> {
        let t = t.clone();
        self.writer.write(move |c| insert_token_row(c, &t)).await
    }

    async fn token(&self, hash: &[u8]) -> Result<Option<TokenRecord>> {
        self.read(|c| {
            one(
                c,
                concat!("SELECT ", token_cols!(), " FROM tokens WHERE hash = ?1"),
                [hash],
                |r| rows::token(r),
            )
        })
    }

    async fn token_file(&self, hash: &[u8], file_id: &str) -> Result<Option<TokenFile>> {
        self.read(|c| {
            one(c, rows::TOKEN_FILE, params![hash, file_id], |r| {
                rows::token_file(r)
            })
        })
    }

    async fn revoke_token(&self, hash: &[u8]) -> Result<()> {
        let hash = hash.to_vec();
        self.writer
            .write(move |c| {
                exec(c, "UPDATE tokens SET revoked = 1 WHERE hash = ?1", [hash])?;
                Ok(())
            })
            .await
    }

    async fn revoke_tokens(&self, user_id: &str, resource_id: Option<&str>) -> Result<u64> {
        let (user_id, resource_id) = (user_id.to_owned(), resource_id.map(str::to_owned));
        self.writer
            .write(move |c| {
                let n = exec(
                    c,
                    "UPDATE tokens SET revoked = 1 WHERE user_id = ?1 AND (?2 IS NULL OR resource_id = ?2)",
                    params![user_id, resource_id],
                )?;
                match &resource_id {
                    None => {
                        exec(
                            c,
                            "UPDATE users SET epoch = epoch + 1, revoked_below = epoch + 1 WHERE id = ?1",
                            [&user_id],
                        )?;
                        end_sessions(c, &user_id)?;
                    }
                    Some(r) => {
                        exec(c, "UPDATE users SET epoch = epoch + 1 WHERE id = ?1", [&user_id])?;
                        exec(
                            c,
                            "INSERT INTO token_revocations (user_id, resource_id, epoch) \
                             SELECT id, ?1, epoch FROM users WHERE id = ?2 \
                             ON CONFLICT(user_id, resource_id) DO UPDATE SET epoch = excluded.epoch",
                            [r, &user_id],
                        )?;
                    }
                }
                Ok(n as u64)
            })
            .await
    }

    async fn token_floor(&self, user_id: &str, resource_id: &str) -> Result<i64> {
        let floor = self.read(|c| {
            one(
                c,
                "SELECT MAX(u.revoked_below, COALESCE((SELECT r.epoch FROM token_revocations r \
                 WHERE r.user_id = u.id AND r.resource_id = ?1), 0)) FROM users u WHERE u.id = ?2",
                [resource_id, user_id],
                |r| Ok(r.get::<_, i64>(0)?),
            )
        })?;
        Ok(floor.unwrap_or(0))
    }

    async fn purge_expired(&self, now_ms: i64) -> Result<u64> {
        self.writer
            .write(move |c| {
                let mut n = 0;
                for sql in [
                    "DELETE FROM tokens WHERE expires_ms < ?1",
                    "DELETE FROM oauth_codes WHERE expires_ms < ?1",
                    "DELETE FROM sessions WHERE expires_ms < ?1",
                    "DELETE FROM token_hosts WHERE expires_ms < ?1",
                ] {
                    n += exec(c, sql, [now_ms])? as u64;
                }
                Ok(n)
            })
            .await
    }

    async fn setting_or_init(&self, key: &str, init: &str) -> Result<String> {
        let (key, init) = (key.to_owned(), init.to_owned());
        self.writer
            .write(move |c| {
                exec(
                    c,
                    "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO NOTHING",
                    [&key, &init],
                )?;
                Ok(c.prepare_cached(SETTING)?.query_row([&key], |r| r.get(0))?)
            })
            .await
    }

    async fn setting(&self, key: &str) -> Result<Option<String>> {
        self.read(|c| one(c, SETTING, [key], |r| Ok(r.get(0)?)))
    }

    async fn put_setting(&self, key: &str, value: &str) -> Result<()> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.writer
            .write(move |c| {
                exec(
                    c,
                    "INSERT INTO settings (key, value) VALUES (?1, ?2) \
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [key, value],
                )?;
                Ok(())
            })
            .await
    }

    async fn insert_session(&self, s: &SessionRecord) -> Result<()> {
        let s = s.clone();
        self.writer
            .write(move |c| {
                exec(
                    c,
                    concat!(
                        "INSERT INTO sessions (",
                        session_cols!(),
                        ") VALUES (?1, ?2, ?3, ?4, ?5)"
                    ),
                    params![s.hash, s.user_id, s.csrf, s.expires_ms, s.epoch],
                )?;
                Ok(())
            })
            .await
    }

    async fn session(&self, hash: &[u8]) -> Result<Option<SessionRecord>> {
        self.read(|c| {
            one(
                c,
                concat!("SELECT ", session_cols!(), " FROM sessions WHERE hash = ?1"),
                [hash],
                |r| rows::session(r),
            )
        })
    }

    async fn delete_session(&self, hash: &[u8]) -> Result<()> {
        let hash = hash.to_vec();
        self.writer
            .write(move |c| {
                exec(c, "DELETE FROM sessions WHERE hash = ?1", [hash])?;
                Ok(())
            })
            .await
    }

    async fn shares_on(&self, resource_id: &str) -> Result<Vec<Share>> {
        self.read(|c| {
            all(
                c,
                concat!(
                    "SELECT ",
                    share_cols!(),
                    " FROM shares WHERE resource_id = ?1 ORDER BY user_id"
                ),
                [resource_id],
                |r| rows::share(r),
            )
        })
    }

    async fn remove_share(&self, resource_id: &str, user_id: &str) -> Result<bool> {
        let (resource_id, user_id) = (resource_id.to_owned(), user_id.to_owned());
        self.writer
            .write(move |c| {
                Ok(exec(
                    c,
                    "DELETE FROM shares WHERE resource_id = ?1 AND user_id = ?2",
                    [resource_id, user_id],
                )? == 1)
            })
            .await
    }

    async fn links_on(&self, resource_id: &str, now_ms: i64) -> Result<Vec<TokenRecord>> {
        self.read(|c| {
            all(
                c,
                concat!(
                    "SELECT ",
                    token_cols!(),
                    " FROM tokens WHERE resource_id = ?1 AND kind IN ('share', 'cshare') \
                     AND revoked = 0 AND expires_ms > ?2 ORDER BY expires_ms, hash"
                ),
                params![resource_id, now_ms],
                |r| rows::token(r),
            )
        })
    }
}

/// Deletes a user's sessions and authorization codes (their generation is void already; this
/// only frees the rows).
/// Stores one token row, every column: the one INSERT of tokens on this engine.
pub(crate) fn insert_token_row(c: &rusqlite::Connection, t: &TokenRecord) -> Result<()> {
    exec(
        c,
        concat!(
            "INSERT INTO tokens (",
            token_cols!(),
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ),
        params![
            t.hash,
            t.user_id,
            t.kind.as_str(),
            t.resource_id,
            t.perms,
            t.expires_ms,
            t.revoked,
            t.client,
            t.epoch,
            t.link
        ],
    )?;
    Ok(())
}

fn end_sessions(c: &rusqlite::Connection, user_id: &str) -> Result<()> {
    exec(c, "DELETE FROM sessions WHERE user_id = ?1", [user_id])?;
    exec(c, "DELETE FROM oauth_codes WHERE user_id = ?1", [user_id])?;
    Ok(())
}
