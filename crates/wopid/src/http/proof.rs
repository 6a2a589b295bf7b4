//! Proof keys on WOPI requests: the URL the editor signed is rebuilt from the public URL (or,
//! when trusted, from `X-Forwarded-Proto`/`X-Forwarded-Host`) and the raw path and query as
//! received, and checked against the keys of the editor the token was minted for.

use axum::http::HeaderMap;
use wopid_proto::wopi_header;

use crate::auth::Grant;
use crate::config::ProofMode;
use crate::editors::{self, refresh_after_rotation};
use crate::error::ApiError;
use crate::state::AppState;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The URL the client called, as it signed it.
pub(super) fn signed_url(state: &AppState, headers: &HeaderMap, path_and_query: &str) -> String {
    if state.config.trust_forwarded_headers {
        let proto = header(headers, "x-forwarded-proto")
            .and_then(|p| p.split(',').next())
            .map(str::trim);
        let host = header(headers, "x-forwarded-host")
            .and_then(|h| h.split(',').next())
            .map(str::trim);
        if let (Some(proto), Some(host)) = (proto, host) {
            return format!("{proto}://{host}{path_and_query}");
        }
    }
    format!("{}{path_and_query}", state.base)
}

/// Checks the proof headers of a request made with `token`, as the token's editor requires.
pub(super) async fn check(
    state: &AppState,
    grant: &Grant,
    token: &str,
    headers: &HeaderMap,
    path_and_query: &str,
) -> Result<(), ApiError> {
    let mode = editors::proof_mode(state, grant.client.as_deref());
    let proof = header(headers, wopi_header::PROOF);
    match (mode, proof) {
        (ProofMode::Off, _) | (ProofMode::Optional, None) => return Ok(()),
        _ => {}
    }
    // The token's own editor, or (for tokens minted outside an editor) every editor that checks.
    let candidates: Vec<&editors::Editor> =
        match grant.client.as_deref().and_then(|c| state.editors.get(c)) {
            Some(e) => vec![e],
            None => state
                .editors
                .all()
                .iter()
                .filter(|e| e.config.proof != ProofMode::Off)
                .collect(),
        };
    let url = signed_url(state, headers, path_and_query);
    let now = state.now_ms();
    let mut reason = "no proof keys are known for this editor".to_owned();
    let mut checked = false;
    for e in candidates {
        let Some(keys) = e.loaded().and_then(|l| l.keys.clone()) else {
            continue;
        };
        checked = true;
        let verify = |keys: &wopid_proto::proof::ProofKeys| {
            wopid_proto::proof::verify(
                keys,
                token,
                &url,
                header(headers, wopi_header::TIMESTAMP),
                proof,
                header(headers, wopi_header::PROOF_OLD),
                now,
            )
        };
        match verify(&keys) {
            Ok(v) => {
                if v.refresh_discovery() {
                    refresh_after_rotation(state, e).await;
                }
                return Ok(());
            }
            Err(err) => {
                // The editor may sign with keys newer than our copy of its discovery: fetch it
                // again (at most once a minute) and check once more with what it publishes now.
                if err.refresh_discovery()
                    && refresh_after_rotation(state, e).await
                    && e.loaded()
                        .and_then(|l| l.keys.clone())
                        .is_some_and(|fresh| verify(&fresh).is_ok())
                {
                    return Ok(());
                }
                reason = format!("{}: {err}", e.config.name);
            }
        }
    }
    if !checked && mode == ProofMode::Optional {
        // Nothing to check against: a token minted outside any editor, and no editor with keys.
        return Ok(());
    }
    if !checked {
        // A configuration problem, not a forged request: say so.
        let name = grant.client.as_deref().unwrap_or("-");
        tracing::warn!(editor = %name, "{}", editors::UNPROVABLE);
        state.metrics.proof_failed(name);
        return Err(ApiError::ProofUnavailable(format!(
            "{name}: {}",
            editors::UNPROVABLE
        )));
    }
    tracing::warn!(reason = %reason, "proof key validation failed");
    state
        .metrics
        .proof_failed(grant.client.as_deref().unwrap_or("-"));

    Err(ApiError::ProofFailed(reason))
}
