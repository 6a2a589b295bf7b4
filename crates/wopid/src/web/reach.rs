//! What the signed-in user may reach (a file, a writable folder), and the answers the pages
//! share: back to the folder with a notice, or a refusal page.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use wopid_proto::ProtoError;
use wopid_store::{Container, FileRecord, ResourceKind};

use super::session::SignedIn;
use crate::auth::{Access, Grant, access};
use crate::error::ApiError;
use crate::ops;
use crate::page::message;
use crate::state::AppState;

pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

#[derive(Deserialize)]
pub(crate) struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}

#[derive(Deserialize)]
pub(crate) struct NameForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub name: String,
}

pub(crate) fn back(folder: &str, done: &str) -> Response {
    let q: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("done", done)
        .finish();
    see_other(&format!("/browse/{folder}?{q}"))
}

/// Where "back" leads from a file in `folder`: the folder when the user can reach it, else the
/// home page, whose "Shared with me" lists what others shared with them.
pub(crate) async fn back_path(
    state: &AppState,
    me: &SignedIn,
    folder: &str,
) -> Result<String, ApiError> {
    Ok(
        match access::container_access(state, &me.user.id, folder).await? {
            Access::None => "/".to_owned(),
            _ => format!("/browse/{folder}"),
        },
    )
}

pub(crate) fn refusal(e: ApiError) -> Response {
    let text = match &e {
        ApiError::Proto(ProtoError::LockConflict(_)) => {
            "The file is open in an editor (locked); try again when it is closed.".to_owned()
        }
        ApiError::Proto(ProtoError::NameExists { .. }) => {
            "That name is taken in this folder.".to_owned()
        }
        ApiError::Proto(p) if p.status() < 500 => p.to_string(),
        _ => return e.into_response(),
    };
    message(StatusCode::CONFLICT, &text)
}

/// What every form that changes a file checks first: the form's CSRF token, then the signed-in
/// user's write grant on the file.
pub(crate) async fn file_to_change(
    state: &AppState,
    me: &SignedIn,
    csrf: &str,
    id: &str,
) -> Result<(FileRecord, Grant), Response> {
    me.check_csrf(csrf)?;
    file_grant(state, me, id, true).await
}

/// The signed-in user's grant on a file: 404 without access, and without write access when
/// `write` is asked.
pub(crate) async fn file_grant(
    state: &AppState,
    me: &SignedIn,
    id: &str,
    write: bool,
) -> Result<(FileRecord, Grant), Response> {
    let not_found = || message(StatusCode::NOT_FOUND, "No such file.");
    let file = match ops::browse::file(state, id).await {
        Ok(Some(f)) => f,
        Ok(None) => return Err(not_found()),
        Err(e) => return Err(e.into_response()),
    };
    let acc = match access::file_access(state, &me.user.id, &file).await {
        Ok(a) => a,
        Err(e) => return Err(e.into_response()),
    };
    let Some(perms) = acc.perms() else {
        return Err(not_found());
    };
    if write && !perms.can_write() {
        return Err(message(
            StatusCode::FORBIDDEN,
            "You may only view this file.",
        ));
    }
    let grant = Grant {
        user_id: me.user.id.clone(),
        kind: ResourceKind::File,
        resource_id: file.id.clone(),
        perms,
        expires_ms: crate::auth::issue::fresh_expiry(state),
        client: None,
        epoch: me.epoch,
        link: None,
        token_ref: String::new(),
    };
    Ok((file, grant))
}

/// The signed-in user's writable container, or the page to answer instead.
pub(crate) async fn writable_container(
    state: &AppState,
    me: &SignedIn,
    id: &str,
) -> Result<Container, Response> {
    let acc = access::container_access(state, &me.user.id, id)
        .await
        .map_err(IntoResponse::into_response)?;
    match (acc, ops::containers::load(state, id).await) {
        (Access::Write, Ok(c)) => Ok(c),
        _ => Err(message(StatusCode::NOT_FOUND, "No such folder.")),
    }
}

/// An instant as the pages show it: `2026-01-31 14:05 UTC`.
pub(crate) fn when(ms: i64) -> String {
    let iso = wopid_proto::Millis::from_ms(ms).to_iso8601();
    match (iso.get(..10), iso.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => iso,
    }
}

/// A duration as the pages show it: whole days as `30 days`, anything else as humantime does.
pub(crate) fn span(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    match secs / 86_400 {
        1 if secs == 86_400 => "1 day".to_owned(),
        n if n > 0 && secs.is_multiple_of(86_400) => format!("{n} days"),
        _ => humantime::format_duration(d).to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn instants_and_spans_read_plainly() {
        assert_eq!(super::when(1_767_225_600_000), "2026-01-01 00:00 UTC");
        let days = |n: u64| std::time::Duration::from_secs(n * 86_400);
        assert_eq!(super::span(days(1)), "1 day");
        assert_eq!(super::span(days(30)), "30 days");
        assert_eq!(super::span(std::time::Duration::from_secs(90)), "1m 30s");
    }
}
