//! The metadata schema of both SQL engines, written once: [`MIGRATIONS`], an ordered list of
//! scripts in SQL with a few tokens where SQLite and PostgreSQL differ, rendered for each engine
//! ([`migrations`]). Both engines count the scripts that ran with the same numbering: SQLite in
//! `PRAGMA user_version`, PostgreSQL in the table `wopid_schema` (see [`from_postgres_list`] for the
//! databases PostgreSQL's own earlier list created). [`tables`] reads the tables and columns the
//! scripts leave, for copying between engines (`transfer.rs`).
//!
//! The tokens:
//!
//! | token | SQLite | PostgreSQL |
//! | --- | --- | --- |
//! | `{int}` | `INTEGER` | `BIGINT` |
//! | `{bytes}` | `BLOB` | `BYTEA` |
//! | `{flag}` (read as a `bool`) | `INTEGER` | `BOOLEAN` |
//! | `{true}`, `{false}` | `1`, `0` | `TRUE`, `FALSE` |
//! | `{serial}` (numbered by PostgreSQL; by the statement on SQLite) | `INTEGER NOT NULL` | `BIGSERIAL` |
//! | `{nocase:COL}` (in an index: unique case-insensitively) | `COL COLLATE NOCASE` | `lower(COL)` |
//! | `{pg}` / `{sqlite}` at the start of a line | the line only on that engine | |
//!
//! Text is `TEXT` on both. Keywords are written in capitals (the reader of [`tables`] expects
//! them so). Adding a column or a table is one more script at the end of the list; a released
//! script is never edited, since databases that ran it keep what it did.

use std::sync::LazyLock;

use crate::transfer::Col;

/// The SQL engine a script is rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    Sqlite,
    Postgres,
}

/// The schema's migrations, applied in order; each engine records how many ran.
pub(crate) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT,
    password_hash TEXT,
    user_info TEXT,
    created_ms {int} NOT NULL
);
CREATE TABLE containers (
    id TEXT PRIMARY KEY,
    parent_id TEXT REFERENCES containers(id),
    owner_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    created_ms {int} NOT NULL
);
CREATE UNIQUE INDEX containers_root ON containers(owner_id) WHERE parent_id IS NULL;
CREATE UNIQUE INDEX containers_name ON containers(parent_id, {nocase:name}) WHERE parent_id IS NOT NULL;
CREATE TABLE files (
    id TEXT PRIMARY KEY,
    container_id TEXT NOT NULL REFERENCES containers(id),
    owner_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    size {int} NOT NULL,
    sha256 TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    version {int} NOT NULL,
    modified_ms {int} NOT NULL,
    lock_id TEXT,
    lock_expires_ms {int} NOT NULL DEFAULT 0,
    rev {int} NOT NULL,
    created_ms {int} NOT NULL
);
CREATE UNIQUE INDEX files_name ON files(container_id, {nocase:name});
CREATE TABLE versions (
    file_id TEXT NOT NULL,
    version {int} NOT NULL,
    blob_key TEXT NOT NULL,
    size {int} NOT NULL,
    sha256 TEXT NOT NULL,
    modified_ms {int} NOT NULL,
    author_id TEXT NOT NULL,
    PRIMARY KEY (file_id, version)
);
CREATE TABLE tokens (
    hash {bytes} PRIMARY KEY,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    perms {int} NOT NULL,
    expires_ms {int} NOT NULL,
    revoked {flag} NOT NULL DEFAULT {false}
);
CREATE INDEX tokens_user ON tokens(user_id, resource_id);
CREATE TABLE activities (
    {pg}seq BIGSERIAL PRIMARY KEY,
    file_id TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    user_id TEXT NOT NULL,
    body TEXT NOT NULL,
    received_ms {int} NOT NULL
);
CREATE INDEX activities_file ON activities(file_id);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#,
    r#"
CREATE TABLE shares (
    resource_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    can_write {flag} NOT NULL,
    PRIMARY KEY (user_id, resource_id)
);
CREATE TABLE oauth_clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    created_ms {int} NOT NULL
);
CREATE TABLE oauth_codes (
    hash {bytes} PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT,
    expires_ms {int} NOT NULL
);
CREATE TABLE sign_in_failures (
    login TEXT NOT NULL,
    at_ms {int} NOT NULL
);
CREATE INDEX sign_in_failures_login ON sign_in_failures(login, at_ms);
CREATE INDEX files_container ON files(container_id);
CREATE INDEX containers_parent ON containers(parent_id);
"#,
    r#"
CREATE TABLE sessions (
    hash {bytes} PRIMARY KEY,
    user_id TEXT NOT NULL,
    csrf TEXT NOT NULL,
    expires_ms {int} NOT NULL
);
ALTER TABLE versions ADD COLUMN editors TEXT;
ALTER TABLE versions ADD COLUMN autosave {flag} NOT NULL DEFAULT {false};
ALTER TABLE versions ADD COLUMN exit_save {flag} NOT NULL DEFAULT {false};
ALTER TABLE versions ADD COLUMN modified_by_user {flag} NOT NULL DEFAULT {true};
ALTER TABLE versions ADD COLUMN session TEXT;
"#,
    r#"
ALTER TABLE tokens ADD COLUMN client TEXT;
"#,
    r#"
ALTER TABLE users ADD COLUMN epoch {int} NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN revoked_below {int} NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN epoch {int} NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN link {bytes};
ALTER TABLE sessions ADD COLUMN epoch {int} NOT NULL DEFAULT 0;
ALTER TABLE oauth_codes ADD COLUMN epoch {int} NOT NULL DEFAULT 0;
CREATE TABLE token_revocations (
    user_id TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    epoch {int} NOT NULL,
    PRIMARY KEY (user_id, resource_id)
);
CREATE INDEX tokens_expires ON tokens(expires_ms);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_ms);
"#,
    r#"
CREATE TABLE oauth_families (
    family {bytes} PRIMARY KEY,
    revoked {flag} NOT NULL DEFAULT {false}
);
CREATE TABLE oauth_family_tokens (
    hash {bytes} PRIMARY KEY,
    family {bytes} NOT NULL
);
CREATE INDEX oauth_family_tokens_family ON oauth_family_tokens(family);
ALTER TABLE oauth_clients ADD COLUMN require_pkce {flag} NOT NULL DEFAULT {true};
"#,
    r#"
CREATE TABLE oidc_links (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_ms {int} NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX oidc_links_user ON oidc_links(user_id);
"#,
    r#"
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    seq {serial},
    url TEXT NOT NULL,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_ms {int} NOT NULL,
    attempts {int} NOT NULL DEFAULT 0,
    next_attempt_ms {int} NOT NULL,
    claim TEXT,
    last_error TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_ms);
CREATE INDEX webhook_deliveries_seq ON webhook_deliveries(seq);
"#,
    r#"
ALTER TABLE files ADD COLUMN trashed_ms {int};
ALTER TABLE files ADD COLUMN trash_id TEXT;
ALTER TABLE containers ADD COLUMN trashed_ms {int};
ALTER TABLE containers ADD COLUMN trash_id TEXT;
DROP INDEX files_name;
CREATE UNIQUE INDEX files_name ON files(container_id, {nocase:name}) WHERE trashed_ms IS NULL;
DROP INDEX containers_name;
CREATE UNIQUE INDEX containers_name ON containers(parent_id, {nocase:name}) WHERE parent_id IS NOT NULL AND trashed_ms IS NULL;
CREATE INDEX files_trash ON files(trash_id) WHERE trash_id IS NOT NULL;
CREATE INDEX containers_trash ON containers(trash_id) WHERE trash_id IS NOT NULL;
"#,
    r#"
ALTER TABLE users ADD COLUMN disabled {flag} NOT NULL DEFAULT {false};
ALTER TABLE users ADD COLUMN admin {flag} NOT NULL DEFAULT {false};
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    hash {bytes} NOT NULL,
    scope TEXT NOT NULL,
    origins TEXT NOT NULL,
    created_ms {int} NOT NULL,
    revoked {flag} NOT NULL DEFAULT {false}
);
CREATE TABLE token_hosts (
    hash {bytes} PRIMARY KEY,
    host TEXT NOT NULL,
    expires_ms {int} NOT NULL
);
CREATE INDEX shares_resource ON shares(resource_id);
-- An installation from before the flag: its first user administers it.
UPDATE users SET admin = {true} WHERE id = (SELECT id FROM users ORDER BY created_ms, id LIMIT 1);
"#,
    r#"
-- Co-authoring: the WOPI lock holder's visible name, the coauth locks (a JSON array, changed by
-- the same compare-and-swap as the WOPI lock) with their latest expiry, and the content's
-- sequence number (existing files start at 1).
ALTER TABLE files ADD COLUMN lock_user TEXT;
ALTER TABLE files ADD COLUMN coauth_locks TEXT NOT NULL DEFAULT '[]';
ALTER TABLE files ADD COLUMN coauth_expires_ms {int} NOT NULL DEFAULT 0;
ALTER TABLE files ADD COLUMN sequence_number {int} NOT NULL DEFAULT 1;
"#,
    r#"
-- Content stored as chunks addressed by their SHA-256 (see chunks.rs).
CREATE TABLE chunks (
    sha256 TEXT PRIMARY KEY,
    chunk_id {bytes} NOT NULL,
    size {int} NOT NULL,
    blob_key TEXT NOT NULL,
    used_ms {int} NOT NULL
);
CREATE INDEX chunks_chunk_id ON chunks(chunk_id);
CREATE TABLE contents (
    id TEXT PRIMARY KEY,
    file_id TEXT NOT NULL,
    used_ms {int} NOT NULL
);
CREATE INDEX contents_file ON contents(file_id);
CREATE TABLE content_streams (
    content_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    scheme TEXT NOT NULL,
    PRIMARY KEY (content_id, stream)
);
CREATE TABLE content_chunks (
    content_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    seq {int} NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (content_id, stream, seq)
);
CREATE INDEX content_chunks_sha256 ON content_chunks(sha256);
CREATE TABLE content_properties (
    content_id TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    retention TEXT NOT NULL,
    PRIMARY KEY (content_id, name)
);
CREATE TABLE dead_blobs (
    blob_key TEXT PRIMARY KEY
);
"#,
];

/// [`MIGRATIONS`] rendered for `engine`.
pub(crate) fn migrations(engine: Engine) -> &'static [String] {
    static SQLITE: LazyLock<Vec<String>> = LazyLock::new(|| render_all(Engine::Sqlite));
    static POSTGRES: LazyLock<Vec<String>> = LazyLock::new(|| render_all(Engine::Postgres));
    match engine {
        Engine::Sqlite => &SQLITE,
        Engine::Postgres => &POSTGRES,
    }
}

fn render_all(engine: Engine) -> Vec<String> {
    MIGRATIONS.iter().map(|m| render(m, engine)).collect()
}

/// One script for `engine`: its lines for the other engine left out, its tokens replaced.
pub(crate) fn render(sql: &str, engine: Engine) -> String {
    let mut out = String::with_capacity(sql.len() + sql.len() / 8);
    for line in sql.split_inclusive('\n') {
        let unmarked;
        let line = match engine_of(line) {
            None => line,
            Some((only, rest)) if only == engine => {
                unmarked = rest;
                unmarked.as_str()
            }
            Some(_) => continue,
        };
        let mut rest = line;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..]
                .find('}')
                .map(|c| open + c)
                .unwrap_or_else(|| panic!("schema: unclosed token in {line:?}"));
            out.push_str(&token(&rest[open + 1..close], engine));
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
    }
    out
}

/// The engine a line is written for (`{pg}` or `{sqlite}` before its text), and the line
/// without the marker.
fn engine_of(line: &str) -> Option<(Engine, String)> {
    for (marker, engine) in [("{pg}", Engine::Postgres), ("{sqlite}", Engine::Sqlite)] {
        let indent = line.len() - line.trim_start().len();
        if line[indent..].starts_with(marker) {
            return Some((
                engine,
                format!("{}{}", &line[..indent], &line[indent + marker.len()..]),
            ));
        }
    }
    None
}

fn token(t: &str, engine: Engine) -> String {
    let sqlite = engine == Engine::Sqlite;
    let pick = |s: &str, p: &str| if sqlite { s } else { p }.to_owned();
    match t {
        "int" => pick("INTEGER", "BIGINT"),
        "bytes" => pick("BLOB", "BYTEA"),
        "flag" => pick("INTEGER", "BOOLEAN"),
        "true" => pick("1", "TRUE"),
        "false" => pick("0", "FALSE"),
        "serial" => pick("INTEGER NOT NULL", "BIGSERIAL"),
        _ => match t.strip_prefix("nocase:") {
            Some(col) if sqlite => format!("{col} COLLATE NOCASE"),
            Some(col) => format!("lower({col})"),
            None => panic!("schema: unknown token {{{t}}}"),
        },
    }
}

/// How many PostgreSQL's own earlier list's first migration counts for in [`MIGRATIONS`]: it
/// created at once what the shared list's first four create (the same tables, columns and
/// indexes, as the upgrade tests check), and each later one is the shared list's next.
const POSTGRES_FIRST_FOLDS: i64 = 4;
/// The length of PostgreSQL's own earlier list.
const POSTGRES_LIST_LEN: i64 = 9;

/// The number of [`MIGRATIONS`] a PostgreSQL database counted by PostgreSQL's own earlier list
/// (`wopid_schema.version` written by an older wopid, `shared_list` false) has run.
pub(crate) fn from_postgres_list(version: i64) -> Option<usize> {
    match version {
        0 => Some(0),
        1..=POSTGRES_LIST_LEN => usize::try_from(version + POSTGRES_FIRST_FOLDS - 1).ok(),
        _ => None,
    }
}

/// A table as the migrations leave it: its columns both engines have, in order, and its primary
/// key (empty without one).
#[derive(Debug)]
pub(crate) struct TableDef {
    pub(crate) name: &'static str,
    pub(crate) cols: Vec<(&'static str, Col)>,
    pub(crate) key: Vec<&'static str>,
}

/// Every table of the schema, in the order the migrations create them (so a table comes after
/// those it references), by replaying each `CREATE TABLE`, `ALTER TABLE` and `DROP TABLE` of
/// [`MIGRATIONS`]. Lines for one engine only are not read: those columns are not shared.
pub(crate) fn tables() -> Result<Vec<TableDef>, String> {
    let mut tables = Vec::new();
    for sql in MIGRATIONS {
        let words = words(sql);
        for statement in words.split(|w| *w == ";") {
            replay(&mut tables, statement)?;
        }
    }
    Ok(tables)
}

/// The words of a script: names, keywords, tokens, quoted strings and punctuation, without
/// comments and without the lines for one engine only.
fn words(sql: &'static str) -> Vec<&'static str> {
    const PUNCT: &[u8] = b"(),;=";
    let mut out = Vec::new();
    for line in sql.lines() {
        let line = line.split("--").next().unwrap_or("");
        if engine_of(line).is_some() {
            continue;
        }
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let start = i;
            if b[i].is_ascii_whitespace() {
                i += 1;
                continue;
            } else if b[i] == b'\'' {
                i += 1 + line[i + 1..]
                    .find('\'')
                    .map_or(line.len() - i - 1, |e| e + 1);
            } else if PUNCT.contains(&b[i]) {
                i += 1;
            } else {
                while i < b.len()
                    && !b[i].is_ascii_whitespace()
                    && !PUNCT.contains(&b[i])
                    && b[i] != b'\''
                {
                    i += 1;
                }
            }
            out.push(&line[start..i]);
        }
    }
    out
}

fn col_type(table: &str, col: &str, ty: &str) -> Result<Col, String> {
    match ty {
        "{int}" | "{serial}" => Ok(Col::Int),
        "TEXT" => Ok(Col::Text),
        "{bytes}" => Ok(Col::Bytes),
        "{flag}" => Ok(Col::Bool),
        _ => Err(format!(
            "schema: {table}.{col}: type {ty} is none of TEXT, {{int}}, {{bytes}}, {{flag}}, {{serial}}"
        )),
    }
}

fn find<'a>(tables: &'a mut [TableDef], name: &str) -> Result<&'a mut TableDef, String> {
    tables
        .iter_mut()
        .find(|t| t.name == name)
        .ok_or_else(|| format!("schema: no table {name}"))
}

fn replay(tables: &mut Vec<TableDef>, st: &[&'static str]) -> Result<(), String> {
    match st {
        ["CREATE", "TABLE", name, "(", body @ .., ")"] => {
            let mut t = TableDef {
                name,
                cols: Vec::new(),
                key: Vec::new(),
            };
            let mut depth = 0usize;
            let items = body.split(|w| {
                match *w {
                    "(" => depth += 1,
                    ")" => depth = depth.saturating_sub(1),
                    _ => {}
                }
                *w == "," && depth == 0
            });
            for item in items {
                match item {
                    ["PRIMARY", "KEY", "(", cols @ .., ")"] => {
                        t.key = cols.iter().copied().filter(|c| *c != ",").collect();
                    }
                    ["UNIQUE" | "CHECK" | "FOREIGN" | "CONSTRAINT", ..] => {}
                    [col, ty, rest @ ..] => {
                        t.cols.push((col, col_type(name, col, ty)?));
                        if rest.windows(2).any(|w| w == ["PRIMARY", "KEY"]) {
                            t.key = vec![col];
                        }
                    }
                    _ => return Err(format!("schema: {name}: cannot read {item:?}")),
                }
            }
            tables.push(t);
        }
        ["ALTER", "TABLE", name, "ADD", "COLUMN", col, ty, ..] => {
            let c = col_type(name, col, ty)?;
            find(tables, name)?.cols.push((col, c));
        }
        ["ALTER", "TABLE", name, "DROP", "COLUMN", col] => {
            find(tables, name)?.cols.retain(|(c, _)| c != col);
        }
        ["ALTER", "TABLE", name, "RENAME", "COLUMN", old, "TO", new] => {
            let t = find(tables, name)?;
            for c in t.cols.iter_mut().filter(|(c, _)| c == old) {
                c.0 = new;
            }
            for k in t.key.iter_mut().filter(|k| *k == old) {
                *k = new;
            }
        }
        ["ALTER", "TABLE", name, "RENAME", "TO", new] => find(tables, name)?.name = new,
        ["DROP", "TABLE", name] => tables.retain(|t| t.name != *name),
        ["ALTER" | "DROP", "TABLE", ..] | ["CREATE", "TABLE", ..] => {
            return Err(format!("schema: cannot read {st:?}"));
        }
        // Indexes and data.
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
