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
    /// Largest file body accepted by PutFile and PutRelativeFile, in bytes (larger gets 413).
    pub max_upload_bytes: u64,
    /// Lifetime of access tokens issued by primary authentication.
    #[serde(with = "humantime_serde_compat")]
    pub access_token_ttl: Duration,
    /// Lifetime of the links GetShareUrl hands out.
    #[serde(with = "humantime_serde_compat")]
    pub share_url_ttl: Duration,
    /// Deadline for a request's headers, from their first byte; a slower client is disconnected.
    #[serde(with = "humantime_serde_compat")]
    pub header_read_timeout: Duration,
    /// Longest wait for the next piece of a request body; a stalled upload gets 408.
    #[serde(with = "humantime_serde_compat")]
    pub body_read_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data: PathBuf::from("./wopid-data"),
            public_url: None,
            meta: None,
            blobs: None,
            max_upload_bytes: 1 << 30,
            access_token_ttl: Duration::from_secs(10 * 3600),
            share_url_ttl: Duration::from_secs(30 * 24 * 3600),
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(60),
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

    /// The public base URL without a trailing slash, for a server bound to `bound`.
    pub fn public_base(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => format!("http://{bound}"),
        }
    }
}

/// The example configuration printed by `wopid config example`; a test checks it parses to the
/// defaults, so it cannot drift from the code.
pub const EXAMPLE: &str = r#"# wopid configuration. Every option can also be set as an environment variable
# WOPID_<NAME IN UPPER CASE> or as a command-line flag --<name-with-dashes>;
# flags win over the environment, the environment over this file.

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

# Largest file accepted by PutFile and PutRelativeFile, in bytes; larger gets 413.
max_upload_bytes = 1073741824

# Lifetime of access tokens issued by primary authentication (e.g. "10h", "30m").
access_token_ttl = "10h"

# Lifetime of the links GetShareUrl hands out.
share_url_ttl = "30days"

# Deadline for a request's headers, from their first byte; a slower client is disconnected.
header_read_timeout = "30s"

# Longest wait for the next piece of a request body; a stalled upload gets 408 and is discarded.
body_read_timeout = "1m"
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
    fn example_parses_to_defaults() {
        let parsed: Config = toml::from_str(EXAMPLE).expect("example parses");
        assert_eq!(parsed, Config::default());
    }
}
