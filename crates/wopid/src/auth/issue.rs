//! The one place that decides the permissions and expiry of every token wopid mints: fresh ones
//! (primary authentication: the host page, the bootstrapper, the CLI), tokens traded for another
//! resource, share links, and OAuth tokens.

use std::time::Duration;

use wopid_proto::Millis;
use wopid_store::ResourceKind;

use super::tokens::{self, Grant, Perms, Secret};
use crate::config::Config;
use crate::error::ApiError;
use crate::state::AppState;

/// OAuth refresh tokens last this long.
pub const REFRESH_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Why a token is minted; the policy follows from it.
#[derive(Debug, Clone, Copy)]
pub enum Purpose<'a> {
    /// Primary authentication (web sign-in, OAuth bootstrap, CLI): `perms` as decided by the
    /// user's access, for `access_token_ttl` (or `ttl` when the operator chose one), minted for
    /// the editor `client` (whose proof-key policy then applies).
    Fresh {
        client: Option<&'a str>,
        kind: ResourceKind,
        id: &'a str,
        perms: Perms,
        ttl: Option<Duration>,
    },
    /// Another resource reached from a granted one (pointers, children, new files): the same
    /// user, editor and permissions, and never a longer life.
    Traded {
        from: &'a Grant,
        kind: ResourceKind,
        id: &'a str,
    },
    /// A file opened by its host-native name with the ecosystem token it was asked with: at
    /// most that token's permissions, and its expiry.
    Derived {
        kind: ResourceKind,
        id: &'a str,
        perms: Perms,
        expires_ms: i64,
    },
    /// GetShareUrl: a link of its own for `share_url_ttl`.
    ShareLink {
        kind: ResourceKind,
        id: &'a str,
        perms: Perms,
    },
    /// The OAuth access token of a native client, for `access_token_ttl`.
    OAuthAccess { client: &'a str },
    /// Its refresh token, for [`REFRESH_TTL`].
    OAuthRefresh { client: &'a str },
}

/// What a token is minted with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms<'a> {
    pub client: Option<&'a str>,
    pub kind: ResourceKind,
    pub id: &'a str,
    pub perms: Perms,
    pub expires_ms: i64,
}

/// A minted token and its expiry.
#[derive(Debug)]
pub struct Issued {
    pub token: Secret,
    pub expires_ms: i64,
}

fn after(now: i64, ttl: Duration) -> i64 {
    Millis::from_ms(now).saturating_add(ttl).as_ms()
}

/// The expiry of a token minted by primary authentication at `now`.
pub fn fresh_expiry(state: &AppState) -> i64 {
    after(state.now_ms(), state.config.access_token_ttl)
}

impl<'a> Purpose<'a> {
    /// The policy: what a token minted at `now` for this purpose carries.
    pub fn terms(self, now: i64, config: &Config) -> Terms<'a> {
        match self {
            Self::Fresh {
                client,
                kind,
                id,
                perms,
                ttl,
            } => Terms {
                client,
                kind,
                id,
                perms,
                expires_ms: after(now, ttl.unwrap_or(config.access_token_ttl)),
            },
            Self::Traded { from, kind, id } => Terms {
                client: from.client.as_deref(),
                kind,
                id,
                perms: from.perms,
                expires_ms: from.expires_ms,
            },
            Self::Derived {
                kind,
                id,
                perms,
                expires_ms,
            } => Terms {
                client: None,
                kind,
                id,
                perms,
                expires_ms,
            },
            Self::ShareLink { kind, id, perms } => Terms {
                client: None,
                kind,
                id,
                perms,
                expires_ms: after(now, config.share_url_ttl),
            },
            Self::OAuthAccess { client } => Terms {
                client: None,
                kind: ResourceKind::OAuth,
                id: client,
                perms: Perms::READ_WRITE,
                expires_ms: after(now, config.access_token_ttl),
            },
            Self::OAuthRefresh { client } => Terms {
                client: None,
                kind: ResourceKind::Refresh,
                id: client,
                perms: Perms::READ_WRITE,
                expires_ms: after(now, REFRESH_TTL),
            },
        }
    }
}

/// Mints a token for `user_id` for `purpose`.
pub async fn issue(
    state: &AppState,
    user_id: &str,
    purpose: Purpose<'_>,
) -> Result<Issued, ApiError> {
    let t = purpose.terms(state.now_ms(), &state.config);
    let token = tokens::issue_for(
        state,
        t.client,
        user_id,
        t.kind,
        t.id,
        t.perms,
        t.expires_ms,
    )
    .await?;
    Ok(Issued {
        token,
        expires_ms: t.expires_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(perms: Perms, expires_ms: i64) -> Grant {
        Grant {
            user_id: "u".into(),
            kind: ResourceKind::File,
            resource_id: "f".into(),
            perms,
            expires_ms,
            client: Some("collabora".into()),
        }
    }

    #[test]
    fn traded_tokens_never_outlive_nor_outrank_theirs() {
        let config = Config::default();
        for (perms, expires) in [(Perms::READ_ONLY, 5_000), (Perms::READ_WRITE, 1)] {
            let from = grant(perms, expires);
            let t = Purpose::Traded {
                from: &from,
                kind: ResourceKind::Container,
                id: "c",
            }
            .terms(1_000, &config);
            assert_eq!(t.expires_ms, expires);
            assert_eq!(t.perms, perms);
            assert_eq!(t.client, Some("collabora"));
            assert_eq!((t.kind, t.id), (ResourceKind::Container, "c"));
        }
    }

    #[test]
    fn lifetimes_follow_the_configuration() {
        let config = Config::default();
        let now = 1_000;
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let fresh = Purpose::Fresh {
            client: None,
            kind: ResourceKind::File,
            id: "f",
            perms: Perms::READ_ONLY,
            ttl: None,
        };
        assert_eq!(
            fresh.terms(now, &config).expires_ms,
            now + ms(config.access_token_ttl)
        );
        let link = Purpose::ShareLink {
            kind: ResourceKind::ShareLink,
            id: "f",
            perms: Perms::READ_ONLY,
        };
        assert_eq!(
            link.terms(now, &config).expires_ms,
            now + ms(config.share_url_ttl)
        );
        let refresh = Purpose::OAuthRefresh { client: "c" }.terms(now, &config);
        assert_eq!(refresh.expires_ms, now + ms(REFRESH_TTL));
        assert_eq!(refresh.kind, ResourceKind::Refresh);
    }
}
