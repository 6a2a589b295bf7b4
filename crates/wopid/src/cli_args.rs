//! The command line's arguments and the configuration they make. Every flag also reads an
//! environment variable `WOPID_*`; both win over `wopid.toml`, which wins over the defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use crate::clock::SystemClock;
use crate::config::Config;
use crate::state::AppState;

#[derive(Debug, Parser)]
#[command(name = "wopid", version, about = "wopid: a WOPI host")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the WOPI server.
    Serve(ServeArgs),
    /// Manage stored files.
    #[command(subcommand)]
    Files(FilesCommand),
    /// Issue and revoke access tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Share a file or container (by id) with a user, or remove the share (`--remove`).
    Share {
        #[command(flatten)]
        store: StoreArgs,
        /// File or container id.
        target: String,
        /// Sign-in name of the user to share with.
        #[arg(long)]
        user: String,
        /// View only.
        #[arg(
            long,
            conflicts_with_all = ["write", "remove"],
            required_unless_present_any = ["write", "remove"]
        )]
        read_only: bool,
        /// View and edit.
        #[arg(long, conflicts_with = "remove")]
        write: bool,
        /// Remove the user's share instead: what it gave is refused from the next request on.
        #[arg(long)]
        remove: bool,
    },
    /// Check that the configured metadata and blob stores answer; exits 1 when one does not.
    Check {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Apply the metadata schema migrations, then exit.
    #[command(name = "migrate-db")]
    MigrateDb {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Copy an installation (every table and every version's content) into other engines.
    Migrate(MigrateArgs),
    /// Manage the OAuth 2.0 clients of the bootstrapper.
    #[command(subcommand, name = "oauth-clients")]
    OauthClients(OAuthClientsCommand),
    /// The editors' discovery documents.
    #[command(subcommand)]
    Discovery(DiscoveryCommand),
    /// Manage the keys of the management API (`/api/v1`).
    #[command(subcommand, name = "api-keys")]
    ApiKeys(ApiKeysCommand),
}

#[derive(Debug, Subcommand)]
pub enum ApiKeysCommand {
    /// Create a key and print it once (only its hash is stored).
    Add {
        #[command(flatten)]
        store: StoreArgs,
        /// What the key is for (shown in listings).
        name: String,
        /// `admin` (everything, managing API keys included) or `files` (users, files, shares,
        /// tokens and opening files).
        #[arg(long, default_value = "files", value_parser = ["admin", "files"])]
        scope: String,
        /// An origin (`https://app.example`) whose pages may embed editors opened with this key;
        /// repeat for several.
        #[arg(long = "origin")]
        origins: Vec<String>,
    },
    /// List the keys (never the keys themselves).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a key by its id: its next request is refused.
    Revoke {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DiscoveryCommand {
    /// Show each editor, where its discovery comes from, when it was fetched and what it opens.
    Show {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Fetch every editor's discovery now and store it for the servers.
    Refresh {
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user (with a root container).
    Add {
        #[command(flatten)]
        store: StoreArgs,
        /// Sign-in name.
        name: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Make the user an administrator (the first user created always is one).
        #[arg(long)]
        admin: bool,
    },
    /// Disable a user: no sign-in, and every session and token of the user void at once.
    Disable {
        #[command(flatten)]
        store: StoreArgs,
        name: String,
    },
    /// List users.
    Ls {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Set a user's password, read from the first line of standard input.
    Passwd {
        #[command(flatten)]
        store: StoreArgs,
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum OAuthClientsCommand {
    /// Register a client; prints its id as JSON.
    Add {
        #[command(flatten)]
        store: StoreArgs,
        name: String,
        /// The one redirect URI the client may use, matched exactly.
        #[arg(long)]
        redirect_uri: String,
        /// Let the client sign in without PKCE (for an old client that cannot send a
        /// `code_challenge`). By default every client must use PKCE S256: none has a secret.
        #[arg(long)]
        pkce_optional: bool,
    },
}

/// Where the data lives; shared by every command.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Configuration file (default: ./wopid.toml when it exists).
    #[arg(long, env = "WOPID_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Data folder of the embedded engines.
    #[arg(long, env = "WOPID_DATA", global = true)]
    pub data: Option<PathBuf>,
    /// Metadata engine URL (default sqlite://DATA/wopid.db).
    #[arg(long, env = "WOPID_META", global = true)]
    pub meta: Option<String>,
    /// Blob engine URL (default file://DATA/blobs).
    #[arg(long, env = "WOPID_BLOBS", global = true)]
    pub blobs: Option<String>,
    /// Separate listen address for /metrics.
    #[arg(long, env = "WOPID_METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<SocketAddr>,
    /// Bearer token /metrics requires (it is not served on --listen without one).
    #[arg(
        long,
        env = "WOPID_METRICS_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,
    /// File holding the /metrics bearer token.
    #[arg(long, env = "WOPID_METRICS_TOKEN_FILE", global = true)]
    pub metrics_token_file: Option<PathBuf>,
    /// Public base URL of the server, used in the URLs handed out.
    #[arg(long, env = "WOPID_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Address to listen on (127.0.0.1:0 picks a free port).
    #[arg(long, env = "WOPID_LISTEN", global = true)]
    pub listen: Option<SocketAddr>,
    /// Largest accepted upload in bytes.
    #[arg(long, env = "WOPID_MAX_UPLOAD_BYTES", global = true)]
    pub max_upload_bytes: Option<u64>,
    /// Lifetime of access tokens issued by primary authentication (e.g. 10h).
    #[arg(long, env = "WOPID_ACCESS_TOKEN_TTL", value_parser = humantime::parse_duration, global = true)]
    pub access_token_ttl: Option<Duration>,
    /// Lifetime of share links.
    #[arg(long, env = "WOPID_SHARE_URL_TTL", value_parser = humantime::parse_duration, global = true)]
    pub share_url_ttl: Option<Duration>,
    /// Provider id of the bootstrapper's WWW-Authenticate challenge.
    #[arg(long, env = "WOPID_OAUTH_PROVIDER_ID", global = true)]
    pub oauth_provider_id: Option<String>,
    /// An editor, NAME=DISCOVERY_URL_OR_PATH[,proof=required|optional|off] (repeatable; adds to
    /// the configuration file's; proof keys are required unless `proof=` says otherwise).
    #[arg(long = "editor", env = "WOPID_EDITORS", value_delimiter = ',', value_parser = crate::config::EditorFlag::parse, global = true)]
    pub editors: Vec<crate::config::EditorFlag>,
    /// Treat JSON lock ids with the same "S" member as one lock (older on-premises Office).
    #[arg(long, env = "WOPID_LEGACY_JSON_LOCKS", global = true)]
    pub legacy_json_locks: bool,
    /// PEM certificate chain to serve HTTPS directly (with --tls-key).
    #[arg(long, env = "WOPID_TLS_CERT", global = true)]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "WOPID_TLS_KEY", global = true)]
    pub tls_key: Option<PathBuf>,
    /// Deadline for a request's headers (e.g. 30s).
    #[arg(long, env = "WOPID_HEADER_READ_TIMEOUT", value_parser = humantime::parse_duration, global = true)]
    pub header_read_timeout: Option<Duration>,
    /// Longest wait for the next piece of a request body (e.g. 1m).
    #[arg(long, env = "WOPID_BODY_READ_TIMEOUT", value_parser = humantime::parse_duration, global = true)]
    pub body_read_timeout: Option<Duration>,
    /// Deadline for a whole request body, however steadily it arrives (e.g. 1h).
    #[arg(long, env = "WOPID_REQUEST_TIMEOUT", value_parser = humantime::parse_duration, global = true)]
    pub request_timeout: Option<Duration>,
    /// Most connections served at once; beyond them a request gets 503.
    #[arg(long, env = "WOPID_MAX_CONNECTIONS", global = true)]
    pub max_connections: Option<usize>,
    /// Trust X-Forwarded-Proto/Host when rebuilding the URL an editor signed.
    #[arg(long, env = "WOPID_TRUST_FORWARDED_HEADERS", global = true)]
    pub trust_forwarded_headers: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum FilesCommand {
    /// Store a file (PATH, or an empty file) and print its id.
    Add {
        #[command(flatten)]
        store: StoreArgs,
        /// File name, with extension.
        #[arg(long)]
        name: String,
        /// Owner's sign-in name (created when missing).
        #[arg(long, default_value = "admin")]
        user: String,
        /// Container id (default: the user's root container).
        #[arg(long)]
        container: Option<String>,
        path: Option<PathBuf>,
    },
    /// List files.
    Ls {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Write a file's current content to OUT.
    Get {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
        out: PathBuf,
    },
    /// List a file's versions.
    Versions {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
    },
    /// Make an earlier version current again (as a new version).
    Restore {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
        version: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue an access token for a file; prints JSON.
    Issue {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        file: String,
        #[arg(long, default_value = "admin")]
        user: String,
        /// View only: no writes, locks or renames.
        #[arg(long)]
        read_only: bool,
        /// No PutRelativeFile (UserCanNotWriteRelative).
        #[arg(long)]
        no_write_relative: bool,
        /// Lifetime (default: access_token_ttl).
        #[arg(long, value_parser = humantime::parse_duration)]
        ttl: Option<Duration>,
        /// The editor the token is for: its proof-key policy applies to the token's requests.
        #[arg(long = "for-editor")]
        for_editor: Option<String>,
    },

    /// Revoke every token of a user (on one file with --file).
    Revoke {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        user: String,
        #[arg(long)]
        file: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the full commented configuration with every default.
    Example,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The metadata engine to copy from (e.g. sqlite://./wopid-data/wopid.db).
    #[arg(long, env = "WOPID_MIGRATE_FROM_META")]
    pub from_meta: String,
    /// The blob engine to copy from (e.g. file://./wopid-data/blobs).
    #[arg(long, env = "WOPID_MIGRATE_FROM_BLOBS")]
    pub from_blobs: String,
    /// The metadata engine to copy to (e.g. postgres://…).
    #[arg(long, env = "WOPID_MIGRATE_TO_META")]
    pub to_meta: String,
    /// The blob engine to copy to (e.g. s3://bucket/prefix?endpoint=…).
    #[arg(long, env = "WOPID_MIGRATE_TO_BLOBS")]
    pub to_blobs: String,
}

/// Defaults, then the TOML file, then environment and flags (which clap has already merged).
pub fn load_config(store: &StoreArgs) -> anyhow::Result<Config> {
    let default_file = Path::new("wopid.toml");
    let mut c = match &store.config {
        Some(p) => Config::from_toml_file(p).with_context(|| format!("reading {}", p.display()))?,
        None if default_file.exists() => {
            Config::from_toml_file(default_file).context("reading wopid.toml")?
        }
        None => Config::default(),
    };
    if let Some(d) = &store.data {
        c.data = d.clone();
    }
    if let Some(m) = &store.meta {
        c.meta = Some(m.clone());
    }
    if let Some(b) = &store.blobs {
        c.blobs = Some(b.clone());
    }
    if let Some(m) = store.metrics_listen {
        c.metrics_listen = Some(m);
    }
    if let Some(t) = &store.metrics_token {
        c.metrics_token = Some(crate::config::Secret::new(t.as_str()));
    }
    if let Some(p) = &store.metrics_token_file {
        c.metrics_token_file = Some(p.clone());
    }
    if let Some(u) = &store.public_url {
        c.public_url = Some(u.clone());
    }
    if let Some(l) = store.listen {
        c.listen = l;
    }
    if let Some(m) = store.max_upload_bytes {
        c.max_upload_bytes = m;
    }
    if let Some(t) = store.access_token_ttl {
        c.access_token_ttl = t;
    }
    if let Some(t) = store.share_url_ttl {
        c.share_url_ttl = t;
    }
    if let Some(p) = &store.oauth_provider_id {
        c.oauth_provider_id = Some(p.clone());
    }
    for e in crate::config::EditorFlag::editors(&store.editors).map_err(anyhow::Error::msg)? {
        c.editors.retain(|old| old.name != e.name);
        c.editors.push(e);
    }
    if let Some(p) = &store.tls_cert {
        c.tls_cert = Some(p.clone());
    }
    if let Some(p) = &store.tls_key {
        c.tls_key = Some(p.clone());
    }
    if let Some(t) = store.header_read_timeout {
        c.header_read_timeout = t;
    }
    if let Some(t) = store.body_read_timeout {
        c.body_read_timeout = t;
    }
    if let Some(t) = store.request_timeout {
        c.request_timeout = t;
    }
    if let Some(n) = store.max_connections {
        c.max_connections = n;
    }
    c.legacy_json_locks |= store.legacy_json_locks;
    c.trust_forwarded_headers |= store.trust_forwarded_headers;
    Ok(c)
}

pub(crate) async fn open(store: &StoreArgs) -> anyhow::Result<AppState> {
    let c = load_config(store)?;
    let base = c.public_base(c.listen);
    AppState::open(c, Arc::new(SystemClock), base).await
}
