//! The SQLite engine's `Grants`. Each method is one write of the group-commit writer, so it runs
//! inside the writer's transaction and holds SQLite's write lock from its first step; a step that
//! must leave nothing behind when it answers "no" rolls back to a savepoint of its own.

use async_trait::async_trait;
use rusqlite::{Connection, params};

use crate::error::Result;
use crate::grants::{self, Grants};
use crate::model::{Rotation, TokenRecord};
use crate::sqlite::{SqliteMeta, exec, one};
use crate::sqlite_accounts::insert_token_row;

/// Runs `f` in a savepoint and rolls it back when `f` answers `keep = false`.
fn undone_unless<R>(c: &Connection, f: impl FnOnce(&Connection) -> Result<(bool, R)>) -> Result<R> {
    exec(c, "SAVEPOINT grant_step", [])?;
    let out = f(c);
    if !matches!(out, Ok((true, _))) {
        exec(c, "ROLLBACK TO grant_step", [])?;
    }
    exec(c, "RELEASE grant_step", [])?;
    out.map(|(_, r)| r)
}

fn insert_tokens(c: &Connection, family: &[u8], tokens: &[TokenRecord]) -> Result<()> {
    for t in tokens {
        insert_token_row(c, t)?;
        exec(c, grants::ADD_FAMILY_TOKEN, params![t.hash, family])?;
    }
    Ok(())
}

/// Marks `family` revoked (creating its row when `create`) and revokes its tokens.
fn revoke_family(c: &Connection, family: &[u8], create: bool) -> Result<u64> {
    let sql = if create {
        "INSERT INTO oauth_families (family, revoked) VALUES (?1, 1) \
         ON CONFLICT(family) DO UPDATE SET revoked = 1"
    } else {
        "UPDATE oauth_families SET revoked = 1 WHERE family = ?1"
    };
    if exec(c, sql, [family])? == 0 {
        return Ok(0);
    }
    let n = exec(
        c,
        "UPDATE tokens SET revoked = 1 WHERE hash = ?1 \
         OR hash IN (SELECT hash FROM oauth_family_tokens WHERE family = ?1)",
        [family],
    )?;
    Ok(n as u64)
}

/// Creates the family when missing; whether it is revoked.
fn family_revoked(c: &Connection, family: &[u8]) -> Result<bool> {
    exec(
        c,
        "INSERT INTO oauth_families (family, revoked) VALUES (?1, 0) ON CONFLICT(family) DO NOTHING",
        [family],
    )?;
    Ok(one(
        c,
        "SELECT revoked FROM oauth_families WHERE family = ?1",
        [family],
        |r| Ok(r.get::<_, bool>(0)?),
    )?
    .unwrap_or(false))
}

#[async_trait]
impl Grants for SqliteMeta {
    async fn reserve_sign_in(
        &self,
        keys: &[(&str, u64)],
        now_ms: i64,
        since_ms: i64,
    ) -> Result<bool> {
        let keys: Vec<(String, u64)> = keys.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect();
        self.writer
            .write(move |c| {
                exec(
                    c,
                    "DELETE FROM sign_in_failures WHERE at_ms < ?1",
                    [since_ms],
                )?;
                for (key, limit) in &keys {
                    let n: i64 = c
                        .prepare_cached(grants::COUNT_FAILURES)?
                        .query_row(params![key, since_ms], |r| r.get(0))?;
                    if u64::try_from(n).unwrap_or(0) >= *limit {
                        return Ok(false);
                    }
                }
                for (key, _) in &keys {
                    exec(c, grants::ADD_FAILURE, params![key, now_ms])?;
                }
                Ok(true)
            })
            .await
    }

    async fn release_sign_in(&self, keys: &[&str], at_ms: i64) -> Result<()> {
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        self.writer
            .write(move |c| {
                for key in &keys {
                    exec(
                        c,
                        "DELETE FROM sign_in_failures WHERE rowid = \
                         (SELECT rowid FROM sign_in_failures WHERE login = ?1 AND at_ms = ?2 LIMIT 1)",
                        params![key, at_ms],
                    )?;
                }
                Ok(())
            })
            .await
    }

    async fn insert_family_tokens(&self, family: &[u8], tokens: &[TokenRecord]) -> Result<bool> {
        let (family, tokens) = (family.to_vec(), tokens.to_vec());
        self.writer
            .write(move |c| {
                undone_unless(c, |c| {
                    if family_revoked(c, &family)? {
                        return Ok((false, false));
                    }
                    insert_tokens(c, &family, &tokens)?;
                    Ok((true, true))
                })
            })
            .await
    }

    async fn rotate_refresh_token(
        &self,
        old: &[u8],
        now_ms: i64,
        new: &[TokenRecord],
    ) -> Result<Rotation> {
        let (old, new) = (old.to_vec(), new.to_vec());
        self.writer
            .write(move |c| {
                undone_unless(c, |c| {
                    let rotated = exec(
                        c,
                        "UPDATE tokens SET revoked = 1 \
                         WHERE hash = ?1 AND kind = 'refresh' AND revoked = 0 AND expires_ms > ?2",
                        params![old, now_ms],
                    )? == 1;
                    let family: Option<Vec<u8>> =
                        one(c, grants::FAMILY_OF, [&old], |r| Ok(r.get(0)?))?;
                    let family = family.unwrap_or_else(|| old.clone());
                    if rotated {
                        if family_revoked(c, &family)? {
                            return Ok((false, Rotation::Invalid));
                        }
                        insert_tokens(c, &family, &new)?;
                        return Ok((true, Rotation::Rotated));
                    }
                    let used: Option<bool> =
                        one(c, grants::REFRESH_REVOKED, [&old], |r| Ok(r.get(0)?))?;
                    if used == Some(true) {
                        revoke_family(c, &family, true)?;
                        return Ok((true, Rotation::Reused));
                    }
                    Ok((false, Rotation::Invalid))
                })
            })
            .await
    }

    async fn revoke_token_family(&self, family: &[u8]) -> Result<u64> {
        let family = family.to_vec();
        self.writer
            .write(move |c| revoke_family(c, &family, false))
            .await
    }
}
