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
    /// Primary authentication (the web host page, the CLI): `perms` as decided by the user's
    /// access, for `access_token_ttl` (or `ttl` when the operator chose one), minted for the
    /// editor `client` (whose proof-key policy then applies), in the credential generation
    /// `epoch` of the sign-in (`None`: the user's current one).
    Fresh {
        client: Option<&'a str>,
        kind: ResourceKind,
        id: &'a str,
        perms: Perms,
        ttl: Option<Duration>,
        epoch: Option<i64>,
    },
    /// Another resource reached from a granted one (pointers, children, new files, the
    /// bootstrapper's shortcuts): the same user, editor and generation, `perms` as the caller
    /// decided from the user's access, and never a longer life.
    Traded {
        from: &'a Grant,
        kind: ResourceKind,
        id: &'a str,
        perms: Perms,
    },
    /// GetShareUrl: a link of its own for `share_url_ttl`, in the caller's generation.
    ShareLink {
        from: &'a Grant,
        kind: ResourceKind,
        id: &'a str,
        perms: Perms,
    },
    /// A public link made on a sharing page: a link of its own for `ttl` (`None`: it never
    /// expires), in the caller's generation.
    PublicLink {
        from: &'a Grant,
        kind: ResourceKind,
        id: &'a str,
        perms: Perms,
        ttl: Option<Duration>,
    },
    /// A file token redeemed from the share link `link` (in clear): bound to the link, it lives
    /// no longer than the caller's token nor the link (`link_expires_ms`).
    Redeemed {
        from: &'a Grant,
        id: &'a str,
        perms: Perms,
        link: &'a str,
        link_expires_ms: i64,
    },
    /// The OAuth access token of a native client, for `access_token_ttl`.
    OAuthAccess { client: &'a str, epoch: i64 },
    /// Its refresh token, for [`REFRESH_TTL`].
    OAuthRefresh { client: &'a str, epoch: i64 },
}

/// What a token is minted with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms<'a> {
    pub client: Option<&'a str>,
    pub kind: ResourceKind,
    pub id: &'a str,
    pub perms: Perms,
    pub expires_ms: i64,
    /// `None`: the user's current credential generation.
    pub epoch: Option<i64>,
    pub link: Option<&'a str>,
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

/// The expiry of a token minted by primary authentication now.
pub fn fresh_expiry(state: &AppState) -> i64 {
    after(state.now_ms(), state.config.access_token_ttl)
}

impl<'a> Purpose<'a> {
    /// When a token minted at `now` for this purpose expires.
    pub fn expiry(&self, now: i64, config: &Config) -> i64 {
        match self {
            Self::Fresh { ttl, .. } => after(now, ttl.unwrap_or(config.access_token_ttl)),
            Self::Traded { from, .. } => from.expires_ms,
            Self::ShareLink { .. } => after(now, config.share_url_ttl),
            Self::PublicLink { ttl, .. } => ttl.map_or(i64::MAX, |t| after(now, t)),
            Self::Redeemed {
                from,
                link_expires_ms,
                ..
            } => from.expires_ms.min(*link_expires_ms),
            Self::OAuthAccess { .. } => after(now, config.access_token_ttl),
            Self::OAuthRefresh { .. } => after(now, REFRESH_TTL),
        }
    }

    /// The policy: what a token minted at `now` for this purpose carries.
    pub fn terms(self, now: i64, config: &Config) -> Terms<'a> {
        let expires_ms = self.expiry(now, config);
        let own = |client, kind, id, perms, epoch| Terms {
            client,
            kind,
            id,
            perms,
            expires_ms,
            epoch,
            link: None,
        };
        match self {
            Self::Fresh {
                client,
                kind,
                id,
                perms,
                epoch,
                ..
            } => own(client, kind, id, perms, epoch),
            Self::Traded {
                from,
                kind,
                id,
                perms,
            }
            | Self::ShareLink {
                from,
                kind,
                id,
                perms,
            }
            | Self::PublicLink {
                from,
                kind,
                id,
                perms,
                ..
            } => own(from.client.as_deref(), kind, id, perms, Some(from.epoch)),
            Self::Redeemed {
                from,
                id,
                perms,
                link,
                ..
            } => Terms {
                link: Some(link),
                ..own(
                    from.client.as_deref(),
                    ResourceKind::File,
                    id,
                    perms,
                    Some(from.epoch),
                )
            },
            Self::OAuthAccess { client, epoch } => own(
                None,
                ResourceKind::OAuth,
                client,
                Perms::READ_WRITE,
                Some(epoch),
            ),
            Self::OAuthRefresh { client, epoch } => own(
                None,
                ResourceKind::Refresh,
                client,
                Perms::READ_WRITE,
                Some(epoch),
            ),
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
    let epoch = match t.epoch {
        Some(e) => e,
        None => state.meta.user(user_id).await?.map_or(0, |u| u.epoch),
    };
    let token = tokens::mint(
        state,
        tokens::Mint {
            user_id,
            kind: t.kind,
            resource_id: t.id,
            perms: t.perms,
            expires_ms: t.expires_ms,
            client: t.client,
            epoch,
            link: t.link,
        },
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
            epoch: 7,
            link: None,
            token_ref: String::new(),
        }
    }

    #[test]
    fn public_links_expire_after_their_ttl_or_never() {
        let config = Config::default();
        let from = grant(Perms::READ_WRITE, 5_000);
        let link = |ttl| Purpose::PublicLink {
            from: &from,
            kind: ResourceKind::ShareLink,
            id: "f",
            perms: Perms::READ_ONLY,
            ttl,
        };
        let day = link(Some(Duration::from_secs(24 * 3600))).terms(1_000, &config);
        assert_eq!(day.expires_ms, 1_000 + 24 * 3_600_000);
        assert_eq!(
            (day.kind, day.id, day.perms),
            (ResourceKind::ShareLink, "f", Perms::READ_ONLY)
        );
        assert_eq!(day.epoch, Some(7));
        assert_eq!(link(None).terms(1_000, &config).expires_ms, i64::MAX);
    }

    #[test]
    fn traded_and_redeemed_tokens_never_outlive_theirs() {
        let config = Config::default();
        for (perms, expires) in [(Perms::READ_ONLY, 5_000), (Perms::READ_WRITE, 1)] {
            let from = grant(perms, expires);
            let t = Purpose::Traded {
                from: &from,
                kind: ResourceKind::Container,
                id: "c",
                perms,
            }
            .terms(1_000, &config);
            assert_eq!(t.expires_ms, expires);
            assert_eq!(t.perms, perms);
            assert_eq!(t.epoch, Some(7));
            let r = Purpose::Redeemed {
                from: &from,
                id: "f",
                perms,
                link: "l",
                link_expires_ms: expires + 1,
            }
            .terms(1_000, &config);
            assert_eq!(r.expires_ms, expires, "never past the caller's token");
            let r = Purpose::Redeemed {
                from: &from,
                id: "f",
                perms,
                link: "l",
                link_expires_ms: expires - 1,
            }
            .terms(1_000, &config);
            assert_eq!(r.expires_ms, expires - 1, "never past the link");
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
            epoch: None,
        };
        assert_eq!(
            fresh.terms(now, &config).expires_ms,
            now + ms(config.access_token_ttl)
        );
        let from = grant(Perms::READ_WRITE, 2_000);
        let link = Purpose::ShareLink {
            from: &from,
            kind: ResourceKind::ShareLink,
            id: "f",
            perms: Perms::READ_ONLY,
        };
        assert_eq!(
            link.terms(now, &config).expires_ms,
            now + ms(config.share_url_ttl)
        );
        let refresh = Purpose::OAuthRefresh {
            client: "c",
            epoch: 3,
        }
        .terms(now, &config);
        assert_eq!(refresh.expires_ms, now + ms(REFRESH_TTL));
        assert_eq!(refresh.kind, ResourceKind::Refresh);
        assert_eq!(refresh.epoch, Some(3));
    }
}
