//! `Caller`: the API key a request presents (`Authorization: Bearer <key>`), read from the
//! store on every request, so a revoked key is refused at once.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use wopid_store::ApiKey;

use super::problem::Problem;
use crate::auth::api_key::{self, Scope};
use crate::state::AppState;

/// The verified key of a request.
pub struct Caller {
    pub key: ApiKey,
    pub scope: Scope,
}

impl Caller {
    /// 403 unless the key has the `admin` scope.
    pub fn require_admin(&self) -> Result<(), Problem> {
        match self.scope {
            Scope::Admin => Ok(()),
            Scope::Files => Err(Problem::forbidden(
                "this API key's scope (files) does not allow managing API keys",
            )),
        }
    }
}

impl Caller {
    /// 403 unless the key may change this user's account: a `files` key manages ordinary users,
    /// never an administrator's account (its password, its tokens, disabling or deleting it).
    pub fn may_manage(&self, user: &wopid_store::User) -> Result<(), Problem> {
        if user.admin && self.scope != Scope::Admin {
            return Err(Problem::forbidden(
                "only an admin-scoped API key may change an administrator's account",
            ));
        }
        Ok(())
    }

    /// 403 unless the key may make (or unmake) administrators: only an `admin` key.
    pub fn may_set_admin(&self, admin: Option<bool>) -> Result<(), Problem> {
        if admin.is_some() && self.scope != Scope::Admin {
            return Err(Problem::forbidden(
                "only an admin-scoped API key may set the administrator flag",
            ));
        }
        Ok(())
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim);
        let Some(presented) = presented.filter(|k| !k.is_empty() && k.len() <= 256) else {
            return Err(Problem::unauthorized(
                "send an API key as Authorization: Bearer <key>",
            ));
        };
        match api_key::verify(state, presented).await {
            Ok(Some((key, scope))) => Ok(Self { key, scope }),
            Ok(None) => Err(Problem::unauthorized("unknown or revoked API key")),
            Err(e) => Err(e.into()),
        }
    }
}
