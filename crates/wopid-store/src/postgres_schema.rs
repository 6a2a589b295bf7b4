//! The PostgreSQL schema, as an ordered list of migrations: the same tables as the SQLite engine,
//! with PostgreSQL types. Names are unique case-insensitively through indexes on `lower(name)`.

/// Schema migrations, applied in order; the table `wopid_schema` records how many ran.
pub(crate) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT,
    password_hash TEXT,
    user_info TEXT,
    created_ms BIGINT NOT NULL
);
CREATE TABLE containers (
    id TEXT PRIMARY KEY,
    parent_id TEXT REFERENCES containers(id),
    owner_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX containers_root ON containers(owner_id) WHERE parent_id IS NULL;
CREATE UNIQUE INDEX containers_name ON containers(parent_id, lower(name)) WHERE parent_id IS NOT NULL;
CREATE INDEX containers_parent ON containers(parent_id);
CREATE TABLE files (
    id TEXT PRIMARY KEY,
    container_id TEXT NOT NULL REFERENCES containers(id),
    owner_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    version BIGINT NOT NULL,
    modified_ms BIGINT NOT NULL,
    lock_id TEXT,
    lock_expires_ms BIGINT NOT NULL DEFAULT 0,
    rev BIGINT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX files_name ON files(container_id, lower(name));
CREATE TABLE versions (
    file_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    blob_key TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    modified_ms BIGINT NOT NULL,
    author_id TEXT NOT NULL,
    editors TEXT,
    autosave BOOLEAN NOT NULL DEFAULT FALSE,
    exit_save BOOLEAN NOT NULL DEFAULT FALSE,
    modified_by_user BOOLEAN NOT NULL DEFAULT TRUE,
    session TEXT,
    PRIMARY KEY (file_id, version)
);
CREATE TABLE tokens (
    hash BYTEA PRIMARY KEY,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    perms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    revoked BOOLEAN NOT NULL DEFAULT FALSE,
    client TEXT
);
CREATE INDEX tokens_user ON tokens(user_id, resource_id);
CREATE TABLE activities (
    seq BIGSERIAL PRIMARY KEY,
    file_id TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    user_id TEXT NOT NULL,
    body TEXT NOT NULL,
    received_ms BIGINT NOT NULL
);
CREATE INDEX activities_file ON activities(file_id);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE shares (
    resource_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    can_write BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, resource_id)
);
CREATE TABLE oauth_clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE TABLE oauth_codes (
    hash BYTEA PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT,
    expires_ms BIGINT NOT NULL
);
CREATE TABLE sign_in_failures (
    login TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_login ON sign_in_failures(login, at_ms);
CREATE INDEX files_container ON files(container_id);
CREATE TABLE sessions (
    hash BYTEA PRIMARY KEY,
    user_id TEXT NOT NULL,
    csrf TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);
"#,
    r#"
ALTER TABLE users ADD COLUMN epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN revoked_below BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN link BYTEA;
ALTER TABLE sessions ADD COLUMN epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE oauth_codes ADD COLUMN epoch BIGINT NOT NULL DEFAULT 0;
CREATE TABLE token_revocations (
    user_id TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    epoch BIGINT NOT NULL,
    PRIMARY KEY (user_id, resource_id)
);
CREATE INDEX tokens_expires ON tokens(expires_ms);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_ms);
"#,
    r#"
CREATE TABLE oauth_families (
    family BYTEA PRIMARY KEY,
    revoked BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE oauth_family_tokens (
    hash BYTEA PRIMARY KEY,
    family BYTEA NOT NULL
);
CREATE INDEX oauth_family_tokens_family ON oauth_family_tokens(family);
ALTER TABLE oauth_clients ADD COLUMN require_pkce BOOLEAN NOT NULL DEFAULT TRUE;
"#,
    r#"
CREATE TABLE oidc_links (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX oidc_links_user ON oidc_links(user_id);
"#,
    r#"
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    seq BIGSERIAL,
    url TEXT NOT NULL,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT NOT NULL,
    claim TEXT,
    last_error TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_ms);
CREATE INDEX webhook_deliveries_seq ON webhook_deliveries(seq);
"#,
    r#"
ALTER TABLE files ADD COLUMN trashed_ms BIGINT;
ALTER TABLE files ADD COLUMN trash_id TEXT;
ALTER TABLE containers ADD COLUMN trashed_ms BIGINT;
ALTER TABLE containers ADD COLUMN trash_id TEXT;
DROP INDEX files_name;
CREATE UNIQUE INDEX files_name ON files(container_id, lower(name)) WHERE trashed_ms IS NULL;
DROP INDEX containers_name;
CREATE UNIQUE INDEX containers_name ON containers(parent_id, lower(name)) WHERE parent_id IS NOT NULL AND trashed_ms IS NULL;
CREATE INDEX files_trash ON files(trash_id) WHERE trash_id IS NOT NULL;
CREATE INDEX containers_trash ON containers(trash_id) WHERE trash_id IS NOT NULL;
"#,
    r#"
ALTER TABLE users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN admin BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    hash BYTEA NOT NULL,
    scope TEXT NOT NULL,
    origins TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    revoked BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE token_hosts (
    hash BYTEA PRIMARY KEY,
    host TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX shares_resource ON shares(resource_id);
-- An installation from before the flag: its first user administers it.
UPDATE users SET admin = TRUE WHERE id = (SELECT id FROM users ORDER BY created_ms, id LIMIT 1);
"#,
    r#"
-- Co-authoring: the WOPI lock holder's visible name, the coauth locks (a JSON array, changed by
-- the same compare-and-swap as the WOPI lock) with their latest expiry, and the content's
-- sequence number (existing files start at 1).
ALTER TABLE files ADD COLUMN lock_user TEXT;
ALTER TABLE files ADD COLUMN coauth_locks TEXT NOT NULL DEFAULT '[]';
ALTER TABLE files ADD COLUMN coauth_expires_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE files ADD COLUMN sequence_number BIGINT NOT NULL DEFAULT 1;
"#,
    r#"
-- Content stored as chunks addressed by their SHA-256 (see chunks.rs).
CREATE TABLE chunks (
    sha256 TEXT PRIMARY KEY,
    chunk_id BYTEA NOT NULL,
    size BIGINT NOT NULL,
    blob_key TEXT NOT NULL,
    used_ms BIGINT NOT NULL
);
CREATE INDEX chunks_chunk_id ON chunks(chunk_id);
CREATE TABLE contents (
    id TEXT PRIMARY KEY,
    file_id TEXT NOT NULL,
    used_ms BIGINT NOT NULL
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
    seq BIGINT NOT NULL,
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
