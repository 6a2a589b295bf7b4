//! The SQLite schema, as an ordered list of migrations.

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
pub(crate) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT,
    password_hash TEXT,
    user_info TEXT,
    created_ms INTEGER NOT NULL
);
CREATE TABLE containers (
    id TEXT PRIMARY KEY,
    parent_id TEXT REFERENCES containers(id),
    owner_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE UNIQUE INDEX containers_root ON containers(owner_id) WHERE parent_id IS NULL;
CREATE UNIQUE INDEX containers_name ON containers(parent_id, name COLLATE NOCASE) WHERE parent_id IS NOT NULL;
CREATE TABLE files (
    id TEXT PRIMARY KEY,
    container_id TEXT NOT NULL REFERENCES containers(id),
    owner_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    version INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    lock_id TEXT,
    lock_expires_ms INTEGER NOT NULL DEFAULT 0,
    rev INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE UNIQUE INDEX files_name ON files(container_id, name COLLATE NOCASE);
CREATE TABLE versions (
    file_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    blob_key TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    modified_ms INTEGER NOT NULL,
    author_id TEXT NOT NULL,
    PRIMARY KEY (file_id, version)
);
CREATE TABLE tokens (
    hash BLOB PRIMARY KEY,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    perms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tokens_user ON tokens(user_id, resource_id);
CREATE TABLE activities (
    file_id TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    user_id TEXT NOT NULL,
    body TEXT NOT NULL,
    received_ms INTEGER NOT NULL
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
    can_write INTEGER NOT NULL,
    PRIMARY KEY (user_id, resource_id)
);
CREATE TABLE oauth_clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE oauth_codes (
    hash BLOB PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT,
    expires_ms INTEGER NOT NULL
);
CREATE TABLE sign_in_failures (
    login TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX sign_in_failures_login ON sign_in_failures(login, at_ms);
CREATE INDEX files_container ON files(container_id);
CREATE INDEX containers_parent ON containers(parent_id);
"#,
    r#"
CREATE TABLE sessions (
    hash BLOB PRIMARY KEY,
    user_id TEXT NOT NULL,
    csrf TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
);
ALTER TABLE versions ADD COLUMN editors TEXT;
ALTER TABLE versions ADD COLUMN autosave INTEGER NOT NULL DEFAULT 0;
ALTER TABLE versions ADD COLUMN exit_save INTEGER NOT NULL DEFAULT 0;
ALTER TABLE versions ADD COLUMN modified_by_user INTEGER NOT NULL DEFAULT 1;
ALTER TABLE versions ADD COLUMN session TEXT;
"#,
    r#"
ALTER TABLE tokens ADD COLUMN client TEXT;
"#,
    r#"
ALTER TABLE users ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN revoked_below INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN link BLOB;
ALTER TABLE sessions ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE oauth_codes ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
CREATE TABLE token_revocations (
    user_id TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    PRIMARY KEY (user_id, resource_id)
);
CREATE INDEX tokens_expires ON tokens(expires_ms);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_ms);
"#,
    r#"
CREATE TABLE oauth_families (
    family BLOB PRIMARY KEY,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE oauth_family_tokens (
    hash BLOB PRIMARY KEY,
    family BLOB NOT NULL
);
CREATE INDEX oauth_family_tokens_family ON oauth_family_tokens(family);
ALTER TABLE oauth_clients ADD COLUMN require_pkce INTEGER NOT NULL DEFAULT 1;
"#,
    r#"
CREATE TABLE oidc_links (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX oidc_links_user ON oidc_links(user_id);
"#,
    r#"
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    url TEXT NOT NULL,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    claim TEXT,
    last_error TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_ms);
CREATE INDEX webhook_deliveries_seq ON webhook_deliveries(seq);
"#,
    r#"
ALTER TABLE files ADD COLUMN trashed_ms INTEGER;
ALTER TABLE files ADD COLUMN trash_id TEXT;
ALTER TABLE containers ADD COLUMN trashed_ms INTEGER;
ALTER TABLE containers ADD COLUMN trash_id TEXT;
DROP INDEX files_name;
CREATE UNIQUE INDEX files_name ON files(container_id, name COLLATE NOCASE) WHERE trashed_ms IS NULL;
DROP INDEX containers_name;
CREATE UNIQUE INDEX containers_name ON containers(parent_id, name COLLATE NOCASE) WHERE parent_id IS NOT NULL AND trashed_ms IS NULL;
CREATE INDEX files_trash ON files(trash_id) WHERE trash_id IS NOT NULL;
CREATE INDEX containers_trash ON containers(trash_id) WHERE trash_id IS NOT NULL;
"#,
    r#"
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    hash BLOB NOT NULL,
    scope TEXT NOT NULL,
    origins TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE token_hosts (
    hash BLOB PRIMARY KEY,
    host TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE INDEX shares_resource ON shares(resource_id);
-- An installation from before the flag: its first user administers it.
UPDATE users SET admin = 1 WHERE id = (SELECT id FROM users ORDER BY created_ms, id LIMIT 1);
"#,
    r#"
-- Co-authoring: the WOPI lock holder's visible name, the coauth locks (a JSON array, changed by
-- the same compare-and-swap as the WOPI lock) with their latest expiry, and the content's
-- sequence number (existing files start at 1).
ALTER TABLE files ADD COLUMN lock_user TEXT;
ALTER TABLE files ADD COLUMN coauth_locks TEXT NOT NULL DEFAULT '[]';
ALTER TABLE files ADD COLUMN coauth_expires_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE files ADD COLUMN sequence_number INTEGER NOT NULL DEFAULT 1;
"#,
    r#"
-- Content stored as chunks addressed by their SHA-256 (see chunks.rs).
CREATE TABLE chunks (
    sha256 TEXT PRIMARY KEY,
    chunk_id BLOB NOT NULL,
    size INTEGER NOT NULL,
    blob_key TEXT NOT NULL,
    used_ms INTEGER NOT NULL
);
CREATE INDEX chunks_chunk_id ON chunks(chunk_id);
CREATE TABLE contents (
    id TEXT PRIMARY KEY,
    file_id TEXT NOT NULL,
    used_ms INTEGER NOT NULL
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
    seq INTEGER NOT NULL,
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
