//! Configuration: defaults, then `wopid.toml`, then `WOPID_*` environment variables, then flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Everything `wopid serve` needs to know.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Data folder of the embedded engines (SQLite database and blob folder).
    pub data: PathBuf,
    /// Public base URL used in every URL wopid hands out (WopiSrc, share URLs). Defaults to
    /// `http://LISTEN`.
    pub public_url: Option<String>,
    /// Metadata engine URL; default `sqlite://DATA/wopid.db`.
    pub meta: Option<String>,
    /// Blob engine URL; default `file://DATA/blobs`.
    pub blobs: Option<String>,
    /// Address of a separate listener for `/metrics` (and `/healthz`, `/readyz`); when set,
    /// `/metrics` is not served on `listen`.
    pub metrics_listen: Option<SocketAddr>,
    /// Bearer token that `/metrics` requires. Without it (and without `metrics_listen`),
    /// `/metrics` is not served on `listen` at all.
    pub metrics_token: Option<Secret>,
    /// File holding `metrics_token` (its first line), for secrets mounted as files.
    pub metrics_token_file: Option<PathBuf>,
    /// PEM certificate chain for serving HTTPS directly (with `tls_key`); reloaded when the file
    /// changes. Leave unset behind a TLS-terminating proxy.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Largest file body accepted by PutFile and PutRelativeFile, in bytes (larger gets 413).
    pub max_upload_bytes: u64,
    /// Lifetime of access tokens issued by primary authentication.
    #[serde(with = "humantime_serde_compat")]
    pub access_token_ttl: Duration,
    /// Lifetime of the links GetShareUrl hands out.
    #[serde(with = "humantime_serde_compat")]
    pub share_url_ttl: Duration,
    /// How long a deleted file or folder stays in its owner's trash before it is destroyed.
    #[serde(with = "humantime_serde_compat")]
    pub trash_retention: Duration,
    /// How long a chunk or content nothing references is kept before the collector frees it: the
    /// longest a save may take between recording its content and committing its version.
    #[serde(with = "humantime_serde_compat")]
    pub chunk_grace: Duration,
    /// Provider id registered for the bootstrapper (`providerId` in its `WWW-Authenticate`
    /// challenge); letters and digits only.
    pub oauth_provider_id: Option<String>,
    /// The editors (WOPI clients) wopid works with.
    pub editors: Vec<EditorConfig>,
    /// How often discovery documents are fetched again.
    #[serde(with = "humantime_serde_compat")]
    pub discovery_refresh: Duration,
    /// Trust `X-Forwarded-Proto`/`X-Forwarded-Host` from a reverse proxy when rebuilding the URL
    /// an editor signed (proof keys). Off: the URL is rebuilt from `public_url`.
    pub trust_forwarded_headers: bool,
    /// Opt-in: treat JSON lock ids with the same `"S"` member as one lock (older on-premises
    /// Office servers). Off: lock ids are compared byte for byte.
    pub legacy_json_locks: bool,
    /// Consecutive autosaves of one editing session within this window are kept as one version
    /// of the history; "0s" keeps every save.
    #[serde(with = "humantime_serde_compat")]
    pub autosave_coalesce_window: Duration,
    /// Sign-in names of administrators (`IsAdminUser` for editors that show admin features).
    pub admins: Vec<String>,
    /// Text editors draw over documents (`WatermarkText`), if any.
    pub watermark_text: Option<String>,
    /// User-interface switches sent to editors in CheckFileInfo.
    pub ui: UiConfig,
    /// Deadline for a request's headers, from their first byte; a slower client is disconnected.
    #[serde(with = "humantime_serde_compat")]
    pub header_read_timeout: Duration,
    /// Longest wait for the next piece of a request body; a stalled upload gets 408.
    #[serde(with = "humantime_serde_compat")]
    pub body_read_timeout: Duration,
    /// Failed sign-ins from one client address (an IPv6 /64) within 15 minutes before sign-in
    /// from that address is refused for a while, whatever the name tried.
    pub sign_in_max_failures_per_address: u64,
    /// Passwords hashed or checked at once (on the blocking pool); more wait their turn. 0: the
    /// number of CPUs.
    pub password_hash_concurrency: usize,
    /// Deadline for a request's body, from the end of its headers, however steadily it arrives;
    /// a slower upload gets 408 and its connection is closed.
    #[serde(with = "humantime_serde_compat")]
    pub request_timeout: Duration,
    /// Most connections served at once; a connection beyond them is answered 503 (its
    /// `/healthz` still 200) and closed.
    pub max_connections: usize,
    /// Whether the sign-in pages (the web UI's and the bootstrapper's) take a user name and
    /// password. Off: only the OpenID Connect providers of `oidc` sign people in.
    pub password_sign_in: bool,
    /// OpenID Connect providers people can sign in through.
    pub oidc: Vec<OidcConfig>,
    /// Offer the folder hierarchy to editors: the Containers endpoint, EnumerateAncestors, the
    /// ecosystem's root container and the legacy Folders endpoint (`SupportsContainers`,
    /// `SupportsFolders`). Off: a flat file space; those operations answer 501 and
    /// CheckFileInfo does not advertise them.
    pub containers: bool,
    /// The people of this installation are business users: CheckFileInfo and
    /// CheckContainerInfo send `LicenseCheckForEditIsEnabled: true`, and Office for the web
    /// requires a business licence to edit.
    pub license_check_for_edit: bool,
    /// Receivers of wopid's events (`[[webhooks]]`), each POSTed the events it asks for.
    pub webhooks: Vec<WebhookConfig>,
    /// Deadline of one webhook delivery attempt, from connecting to the end of the answer.
    #[serde(with = "humantime_serde_compat")]
    pub webhook_timeout: Duration,
    /// Wait before the first retry of a failed webhook delivery; each further retry waits twice
    /// as long (less a random part), up to `webhook_retry_max`.
    #[serde(with = "humantime_serde_compat")]
    pub webhook_retry_initial: Duration,
    /// Longest wait between two attempts of a webhook delivery.
    #[serde(with = "humantime_serde_compat")]
    pub webhook_retry_max: Duration,
    /// A webhook delivery still failing this long after its event is dropped, with a warning.
    #[serde(with = "humantime_serde_compat")]
    pub webhook_max_age: Duration,
    /// Co-authoring: the Office collaboration service's URL
    /// (`OfficeCollaborationServiceEndpointUrl`). With `coauth_real_time_channel_url`, it
    /// switches co-authoring on: coauth locks, sequence numbers and CheckFileInfo's CSPP Plus
    /// properties. Unset: no co-authoring (those operations answer 501).
    pub coauth_collaboration_service_url: Option<String>,
    /// Co-authoring: the real-time channel's URL (`RealTimeChannelEndpointUrl`).
    pub coauth_real_time_channel_url: Option<String>,
    /// Co-authoring: where files are stored (`FileGeoLocationCode`); empty when unset.
    pub coauth_geo_location_code: Option<String>,
}

/// One webhook receiver: where wopid POSTs events, which ones, and the key it signs them with.
#[derive(Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// An `http://` or `https://` URL.
    pub url: String,
    /// Event types to send (`file.saved`…); absent: every type.
    #[serde(default)]
    pub events: Option<Vec<String>>,
    /// The HMAC-SHA256 signing key, or a file holding it (its first line); one of the two.
    #[serde(default)]
    pub secret: Option<Secret>,
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a credential of the receiver in its query; the secret is redacted
        // by its own type.
        f.debug_struct("WebhookConfig")
            .field("url", &redact_query(&self.url))
            .field("events", &self.events)
            .field("secret", &self.secret)
            .field("secret_file", &self.secret_file)
            .finish()
    }
}

impl WebhookConfig {
    /// Whether this receiver asked for events of type `event`.
    pub fn wants(&self, event: &str) -> bool {
        self.events
            .as_ref()
            .is_none_or(|list| list.iter().any(|e| e == event))
    }
}

/// A URL with its query (and any user info) left out, for logs.
pub fn redact_query(url: &str) -> String {
    let no_query = url.split(['?', '#']).next().unwrap_or("");
    match (no_query.find("://"), no_query.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            format!("{}://***@{}", &no_query[..s], &no_query[at + 1..])
        }
        _ => no_query.to_owned(),
    }
}

/// A secret from the configuration: compared, never printed.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// One editor: a name, where its discovery document is, and how its proof keys are checked.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EditorConfig {
    pub name: String,
    /// `https://editor.example/hosting/discovery`, or a local file path.
    pub discovery: String,
    #[serde(default)]
    pub proof: ProofMode,
    /// Extensions (without dot) this editor opens by default.
    #[serde(default)]
    pub default_for: Vec<String>,
}

/// An OpenID Connect provider (Keycloak, Entra ID, Authentik, Okta …) people sign in through.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// Short name in URLs (`/oidc/NAME/start`, `/oidc/NAME/callback`): letters, digits, - or _.
    pub name: String,
    /// Text of the sign-in button; default "Sign in with NAME".
    #[serde(default)]
    pub label: Option<String>,
    /// The issuer URL; its discovery document is `ISSUER/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    /// The client secret, or a file holding it (its first line). Neither: a public client
    /// (PKCE only).
    #[serde(default)]
    pub client_secret: Option<Secret>,
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    /// Scopes asked for besides `openid`.
    #[serde(default = "default_oidc_scopes")]
    pub scopes: Vec<String>,
    /// The ID-token claim whose value becomes the sign-in name of a new user.
    #[serde(default = "default_username_claim")]
    pub username_claim: String,
    /// The ID-token claim that lists the user's groups.
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// Only members of one of these groups may sign in; empty: everyone the provider signs in.
    #[serde(default)]
    pub allowed_groups: Vec<String>,
}

fn default_oidc_scopes() -> Vec<String> {
    vec!["profile".into(), "email".into()]
}

fn default_username_claim() -> String {
    "preferred_username".into()
}

fn default_groups_claim() -> String {
    "groups".into()
}

/// Whether requests from an editor must carry valid proof-key signatures.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ProofMode {
    /// Every request of a token minted for this editor must be signed.
    #[default]
    Required,
    /// Signatures are checked when present.
    Optional,
    /// Signatures are ignored.
    Off,
}

/// Switches editors read from CheckFileInfo.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct UiConfig {
    pub disable_print: bool,
    pub disable_export: bool,
    pub disable_copy: bool,
    pub hide_print_option: bool,
    pub hide_save_option: bool,
    pub hide_export_option: bool,
}

impl EditorConfig {
    /// Parses `NAME=URL_OR_PATH` from `--editor`.
    pub fn from_flag(flag: &str) -> Result<Self, String> {
        match EditorFlag::parse(flag)? {
            EditorFlag::Editor(e) => Ok(e),
            EditorFlag::Proof(_) => Err("expected NAME=DISCOVERY_URL_OR_PATH".into()),
        }
    }
}

/// One comma-separated item of `--editor` (or `WOPID_EDITORS`): an editor,
/// `NAME=DISCOVERY_URL_OR_PATH`, or `proof=required|optional|off` for the editor before it.
#[derive(Debug, Clone, PartialEq)]
pub enum EditorFlag {
    Editor(EditorConfig),
    Proof(ProofMode),
}

impl EditorFlag {
    pub fn parse(flag: &str) -> Result<Self, String> {
        let (name, value) = flag
            .split_once('=')
            .ok_or("expected NAME=DISCOVERY_URL_OR_PATH or proof=required|optional|off")?;
        if name == "proof" {
            return match value {
                "required" => Ok(Self::Proof(ProofMode::Required)),
                "optional" => Ok(Self::Proof(ProofMode::Optional)),
                "off" => Ok(Self::Proof(ProofMode::Off)),
                _ => Err(format!(
                    "proof={value}: expected proof=required, proof=optional or proof=off"
                )),
            };
        }
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err("the editor name must be letters, digits, - or _".into());
        }
        Ok(Self::Editor(EditorConfig {
            name: name.to_owned(),
            discovery: value.to_owned(),
            proof: ProofMode::Required,
            default_for: Vec::new(),
        }))
    }

    /// The editors the items name, each `proof=` applying to the editor before it.
    pub fn editors(flags: &[Self]) -> Result<Vec<EditorConfig>, String> {
        let mut out: Vec<EditorConfig> = Vec::new();
        for f in flags {
            match f {
                Self::Editor(e) => out.push(e.clone()),
                Self::Proof(mode) => match out.last_mut() {
                    Some(e) => e.proof = *mode,
                    None => {
                        return Err(
                            "--editor: proof= must follow NAME=DISCOVERY_URL_OR_PATH".into()
                        );
                    }
                },
            }
        }
        Ok(out)
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data: PathBuf::from("./wopid-data"),
            public_url: None,
            meta: None,
            blobs: None,
            metrics_listen: None,
            metrics_token: None,
            metrics_token_file: None,
            tls_cert: None,
            tls_key: None,
            max_upload_bytes: 1 << 30,
            access_token_ttl: Duration::from_secs(10 * 3600),
            share_url_ttl: Duration::from_secs(30 * 24 * 3600),
            trash_retention: Duration::from_secs(30 * 24 * 3600),
            chunk_grace: Duration::from_secs(3600),
            oauth_provider_id: None,
            editors: Vec::new(),
            discovery_refresh: Duration::from_secs(12 * 3600),
            trust_forwarded_headers: false,
            legacy_json_locks: false,
            autosave_coalesce_window: Duration::from_secs(10 * 60),
            admins: Vec::new(),
            watermark_text: None,
            ui: UiConfig::default(),
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(3600),
            max_connections: 512,
            sign_in_max_failures_per_address: 50,
            password_hash_concurrency: 0,
            password_sign_in: true,
            oidc: Vec::new(),
            containers: true,
            license_check_for_edit: false,
            webhooks: Vec::new(),
            webhook_timeout: Duration::from_secs(10),
            webhook_retry_initial: Duration::from_secs(10),
            webhook_retry_max: Duration::from_secs(3600),
            webhook_max_age: Duration::from_secs(3 * 24 * 3600),
            coauth_collaboration_service_url: None,
            coauth_real_time_channel_url: None,
            coauth_geo_location_code: None,
        }
    }
}

impl Config {
    /// Reads a TOML file over the defaults.
    pub fn from_toml_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        Ok(toml::from_str(&text)?)
    }

    pub fn meta_url(&self) -> String {
        self.meta
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data.join("wopid.db").display()))
    }

    pub fn blobs_url(&self) -> String {
        self.blobs
            .clone()
            .unwrap_or_else(|| format!("file://{}", self.data.join("blobs").display()))
    }

    /// Reads the secrets given as files (`metrics_token_file`) into their options.
    pub fn resolve_secrets(&mut self) -> anyhow::Result<()> {
        if let Some(path) = &self.metrics_token_file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!("reading metrics_token_file {}: {e}", path.display())
            })?;
            let token = text.lines().next().unwrap_or("").trim();
            anyhow::ensure!(
                !token.is_empty(),
                "metrics_token_file {} is empty",
                path.display()
            );
            self.metrics_token = Some(Secret::new(token));
        }
        if self
            .metrics_token
            .as_ref()
            .is_some_and(|t| t.0.trim().is_empty())
        {
            anyhow::bail!("metrics_token is empty");
        }
        let mut names = std::collections::HashSet::new();
        for p in &mut self.oidc {
            anyhow::ensure!(
                !p.name.is_empty()
                    && p.name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "oidc provider name {:?}: letters, digits, - or _ only",
                p.name
            );
            anyhow::ensure!(
                names.insert(p.name.clone()),
                "oidc provider {} is configured twice",
                p.name
            );
            anyhow::ensure!(
                !p.issuer.is_empty() && !p.client_id.is_empty(),
                "oidc provider {}: issuer and client_id are required",
                p.name
            );
            if let Some(path) = &p.client_secret_file {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!("reading client_secret_file {}: {e}", path.display())
                })?;
                let secret = text.lines().next().unwrap_or("").trim();
                anyhow::ensure!(
                    !secret.is_empty(),
                    "client_secret_file {} is empty",
                    path.display()
                );
                p.client_secret = Some(Secret::new(secret));
            }
        }
        anyhow::ensure!(
            self.password_sign_in || !self.oidc.is_empty(),
            "password_sign_in = false needs at least one [[oidc]] provider"
        );
        self.resolve_coauth()?;
        self.resolve_webhooks()
    }

    /// Whether co-authoring is on: both of its endpoint URLs are configured.
    pub fn coauth(&self) -> Option<CoauthEndpoints<'_>> {
        match (
            &self.coauth_collaboration_service_url,
            &self.coauth_real_time_channel_url,
        ) {
            (Some(service), Some(channel)) => Some(CoauthEndpoints {
                service,
                channel,
                geo_location_code: self.coauth_geo_location_code.as_deref().unwrap_or(""),
            }),
            _ => None,
        }
    }

    /// The co-authoring URLs are absolute http(s) URLs, and given both or neither.
    fn resolve_coauth(&self) -> anyhow::Result<()> {
        for (name, url) in [
            (
                "coauth_collaboration_service_url",
                &self.coauth_collaboration_service_url,
            ),
            (
                "coauth_real_time_channel_url",
                &self.coauth_real_time_channel_url,
            ),
        ] {
            if let Some(u) = url {
                let parsed =
                    reqwest::Url::parse(u).map_err(|e| anyhow::anyhow!("{name} {u:?}: {e}"))?;
                anyhow::ensure!(
                    matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some(),
                    "{name} {u:?}: an absolute http:// or https:// URL is required"
                );
            }
        }
        anyhow::ensure!(
            self.coauth_collaboration_service_url.is_some()
                == self.coauth_real_time_channel_url.is_some(),
            "co-authoring needs both coauth_collaboration_service_url and \
             coauth_real_time_channel_url (or neither)"
        );
        Ok(())
    }

    /// Checks every `[[webhooks]]` entry and reads its `secret_file`: an http(s) URL, configured
    /// once, known event types, and exactly one non-empty secret.
    fn resolve_webhooks(&mut self) -> anyhow::Result<()> {
        let mut urls = std::collections::HashSet::new();
        for w in &mut self.webhooks {
            let shown = redact_query(&w.url);
            let parsed = reqwest::Url::parse(&w.url)
                .map_err(|e| anyhow::anyhow!("webhook url {shown}: {e}"))?;
            anyhow::ensure!(
                matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some(),
                "webhook url {shown}: only http:// and https:// URLs are accepted"
            );
            anyhow::ensure!(
                urls.insert(w.url.clone()),
                "webhook {shown} is configured twice"
            );
            if let Some(events) = &w.events {
                anyhow::ensure!(
                    !events.is_empty(),
                    "webhook {shown}: events = [] sends nothing; leave it out to send every event"
                );
                for e in events {
                    anyhow::ensure!(
                        crate::webhooks::EVENT_TYPES.contains(&e.as_str()),
                        "webhook {shown}: unknown event type {e:?} (known: {})",
                        crate::webhooks::EVENT_TYPES.join(", ")
                    );
                }
            }
            match (&w.secret, &w.secret_file) {
                (Some(_), Some(_)) => {
                    anyhow::bail!("webhook {shown}: set secret or secret_file, not both")
                }
                (None, None) => {
                    anyhow::bail!("webhook {shown}: a secret or secret_file is required")
                }
                (None, Some(path)) => {
                    let text = std::fs::read_to_string(path).map_err(|e| {
                        anyhow::anyhow!("reading webhook secret_file {}: {e}", path.display())
                    })?;
                    let secret = text.lines().next().unwrap_or("").trim();
                    anyhow::ensure!(
                        !secret.is_empty(),
                        "webhook secret_file {} is empty",
                        path.display()
                    );
                    w.secret = Some(Secret::new(secret));
                }
                (Some(s), None) => {
                    anyhow::ensure!(
                        !s.0.trim().is_empty(),
                        "webhook {shown}: the secret is empty"
                    )
                }
            }
        }
        for (name, d) in [
            ("webhook_timeout", self.webhook_timeout),
            ("webhook_retry_initial", self.webhook_retry_initial),
            ("webhook_retry_max", self.webhook_retry_max),
            ("webhook_max_age", self.webhook_max_age),
        ] {
            anyhow::ensure!(!d.is_zero(), "{name} must be more than 0s");
        }
        Ok(())
    }

    /// The public base URL without a trailing slash, for a server bound to `bound`.
    pub fn public_base(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None if self.tls_cert.is_some() => format!("https://{bound}"),
            None => format!("http://{bound}"),
        }
    }
}

/// The co-authoring endpoints CheckFileInfo advertises (see [`Config::coauth`]).
#[derive(Debug, Clone, Copy)]
pub struct CoauthEndpoints<'a> {
    pub service: &'a str,
    pub channel: &'a str,
    pub geo_location_code: &'a str,
}

/// The example configuration printed by `wopid config example`; a test checks it parses to the
/// defaults, so it cannot drift from the code.
pub const EXAMPLE: &str = r#"# wopid configuration. Most options can also be set as an environment variable
# WOPID_<NAME IN UPPER CASE> or as a command-line flag --<name-with-dashes> (docs/config.md
# lists which); flags win over the environment, the environment over this file.

# Address to listen on.
listen = "127.0.0.1:8080"

# Data folder of the embedded engines (SQLite database and blob folder).
data = "./wopid-data"

# Public base URL used in every URL wopid hands out (WopiSrc, share URLs).
# Set it when wopid runs behind a reverse proxy. Default: http://<listen>.
# public_url = "https://wopi.example.com"

# Metadata engine. Default: sqlite://<data>/wopid.db
# meta = "sqlite://./wopid-data/wopid.db"

# Blob engine. Default: file://<data>/blobs
# blobs = "file://./wopid-data/blobs"

# A separate address for the Prometheus /metrics (with /healthz and /readyz).
# When set, /metrics is served only there. Default: none.
# metrics_listen = "127.0.0.1:9090"

# Bearer token /metrics requires (Authorization: Bearer TOKEN), or a file holding it. Without
# one and without metrics_listen, /metrics is not served at all. Default: none.
# metrics_token = "a long random string"
# metrics_token_file = "/etc/wopid/metrics-token"

# Serve HTTPS directly: a PEM certificate chain and its key. A renewed certificate is picked
# up without a restart. Leave unset behind a TLS-terminating proxy (and set public_url).
# tls_cert = "/etc/wopid/cert.pem"
# tls_key = "/etc/wopid/key.pem"

# Largest file accepted by PutFile and PutRelativeFile, in bytes; larger gets 413.
max_upload_bytes = 1073741824

# Lifetime of access tokens issued by primary authentication (e.g. "10h", "30m").
access_token_ttl = "10h"

# Lifetime of the links GetShareUrl hands out.
share_url_ttl = "30days"

# How long a deleted file or folder stays in its owner's trash before it is
# destroyed for good.
trash_retention = "30days"

# How long a stored chunk (a part of a zip-based document) or content that no
# version references any more is kept before it is freed: the longest a save
# may take between storing its chunks and committing its version.
chunk_grace = "1h"

# Provider id registered for the bootstrapper, sent as providerId in its
# WWW-Authenticate challenge (letters and digits only). Default: none.
# oauth_provider_id = "tpwopid"

# How often the editors' discovery documents are fetched again.
discovery_refresh = "12h"

# Trust X-Forwarded-Proto / X-Forwarded-Host from a reverse proxy when rebuilding the URL an
# editor signed, and the last X-Forwarded-For hop as the client address of the sign-in throttle.
# Leave off unless a proxy you control sets them; public_url is used otherwise.
trust_forwarded_headers = false

# Opt-in: treat JSON lock ids with the same "S" member as one lock (older on-premises Office
# servers). Off: lock ids are compared byte for byte, as the protocol prescribes.
legacy_json_locks = false

# Consecutive autosaves of one editing session within this window are kept as one version of
# the history; "0s" keeps every save as its own version.
autosave_coalesce_window = "10m"

# Sign-in names of administrators (IsAdminUser in CheckFileInfo).
admins = []

# Text editors draw over documents (WatermarkText). Default: none.
# watermark_text = "Confidential"

# The editors wopid works with; repeat the table for each. `discovery` is the editor's
# discovery URL or a local file; `proof` is "required" (default), "optional" or "off";
# `default_for` lists the extensions this editor opens by default.
# [[editors]]
# name = "collabora"
# discovery = "https://collabora.example.com/hosting/discovery"
# proof = "required"
# default_for = ["odt", "ods", "odp"]

# Deadline for a request's headers, from their first byte; a slower client is disconnected.
header_read_timeout = "30s"

# Longest wait for the next piece of a request body; a stalled upload gets 408 and is discarded.
body_read_timeout = "1m"

# Deadline for a whole request body, from the end of its headers, however steadily it arrives;
# a slower upload gets 408, is discarded and its connection closed. Generous for large uploads.
request_timeout = "1h"

# Most connections served at once; one more is answered 503 (with Retry-After; /healthz still
# answers 200) and closed. Keep it below the process's file descriptor limit.
max_connections = 512

# Failed sign-ins from one client address (an IPv6 /64) within 15 minutes before sign-in from
# that address is refused for a while, whatever the name tried (each name also gets 5). The
# address is the connection's peer, or the last X-Forwarded-For hop with trust_forwarded_headers.
sign_in_max_failures_per_address = 50

# Passwords hashed or checked at once, on the blocking pool; more wait their turn.
# 0: the number of CPUs.
password_hash_concurrency = 0

# Whether the sign-in pages (the web UI's and the bootstrapper's one for native Office
# clients) take a user name and password. Off: only the [[oidc]] providers sign people in.
password_sign_in = true

# Offer the folder hierarchy to editors (the Containers endpoint, EnumerateAncestors, the
# ecosystem's root container, the legacy Folders endpoint). Off: a flat file space; those
# operations answer 501 and CheckFileInfo does not advertise them.
containers = true

# The people of this installation are business users: editors are told
# LicenseCheckForEditIsEnabled, and Office for the web then requires a business licence to edit.
license_check_for_edit = false

# OpenID Connect providers people sign in through (single sign-on); repeat the table for each.
# Register ISSUER's client with the redirect URI <public_url>/oidc/<name>/callback. Users are
# created on their first sign-in and found again by the provider's `sub`, never by name.
# [[oidc]]
# name = "keycloak"
# label = "Sign in with your company account"
# issuer = "https://sso.example.com/realms/example"
# client_id = "wopid"
# client_secret_file = "/etc/wopid/oidc-secret"
# scopes = ["profile", "email"]
# username_claim = "preferred_username"
# groups_claim = "groups"
# allowed_groups = ["office"]

# Receivers of wopid's events (webhooks); repeat the table for each. wopid POSTs each event as
# JSON, signed with the secret: X-Wopid-Signature: sha256=HEX(HMAC-SHA256(secret,
# "<X-Wopid-Timestamp>.<body>")). `events` lists the types to send (absent: all of them):
# file.created, file.saved, file.renamed, file.moved, file.deleted, file.locked,
# file.unlocked, container.created, container.renamed, container.deleted, share.created,
# share.changed, share.removed. Give the secret as `secret_file` (its first line) or `secret`.
# [[webhooks]]
# url = "https://app.example.com/wopid-events"
# events = ["file.saved", "file.deleted"]
# secret_file = "/etc/wopid/webhook-secret"

# Deadline of one webhook delivery attempt.
webhook_timeout = "10s"

# A failed delivery (no answer, or not 2xx) is retried after webhook_retry_initial, then after
# twice as long each time (less a random part), waiting at most webhook_retry_max.
webhook_retry_initial = "10s"
webhook_retry_max = "1h"

# A delivery still failing this long after its event is dropped, with a warning in the log.
webhook_max_age = "3days"

# Co-authoring (coauth locks, sequence numbers and the CSPP Plus properties of CheckFileInfo),
# on when both endpoint URLs are set: the Office collaboration service and the real-time
# channel the editors use, and optionally the storage location code. Default: off.
# coauth_collaboration_service_url = "https://ocs.example.com/"
# coauth_real_time_channel_url = "https://rtc.example.com/"
# coauth_geo_location_code = "EUR"

# User-interface switches sent to editors in CheckFileInfo.
[ui]
disable_print = false
disable_export = false
disable_copy = false
hide_print_option = false
hide_save_option = false
hide_export_option = false
"#;

mod humantime_serde_compat {
    use std::time::Duration;

    use serde::Deserialize as _;

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coauth_needs_both_absolute_urls() {
        let with = |service: Option<&str>, channel: Option<&str>| {
            let mut c = Config {
                coauth_collaboration_service_url: service.map(str::to_owned),
                coauth_real_time_channel_url: channel.map(str::to_owned),
                ..Config::default()
            };
            c.resolve_secrets().map(|()| c.coauth().is_some())
        };
        assert!(!with(None, None).expect("off"));
        assert!(
            with(
                Some("https://ocs.example.com/"),
                Some("http://rtc.example.com/x")
            )
            .expect("on")
        );
        assert!(with(Some("https://ocs.example.com/"), None).is_err());
        assert!(with(None, Some("https://rtc.example.com/")).is_err());
        assert!(with(Some("/relative"), Some("https://rtc.example.com/")).is_err());
        assert!(
            with(
                Some("ftp://ocs.example.com/"),
                Some("https://rtc.example.com/")
            )
            .is_err()
        );
    }

    #[test]
    fn example_parses_to_defaults() {
        let parsed: Config = toml::from_str(EXAMPLE).expect("example parses");
        assert_eq!(parsed, Config::default());
    }
}
