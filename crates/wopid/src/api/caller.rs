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
