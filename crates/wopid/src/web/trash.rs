//! The trash page: what the user deleted, restoring an item, emptying the trash.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use wopid_store::TrashKind;

use super::browse::Notice;
use super::reach::{CsrfOnly, refusal, see_other};
use super::session::SignedIn;
use crate::error::ApiError;
use crate::ops;
use crate::page::{html, message};
use crate::state::AppState;

struct Row {
    kind: &'static str,
    id: String,
    name: String,
    /// The folder it was deleted from: (id, name) while that folder is there.
    folder: Option<(String, String)>,
    deleted: String,
}

#[derive(Template)]
#[template(path = "trash.html")]
struct TrashPage<'a> {
    user: &'a str,
    csrf: &'a str,
    root: &'a str,
    rows: Vec<Row>,
    retention: String,
    notice: Option<&'a str>,
}

/// `/trash?done=…` with a notice.
fn back(done: &str) -> Response {
    let q: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("done", done)
        .finish();
    see_other(&format!("/trash?{q}"))
}

pub(crate) async fn trash(
    State(state): State<AppState>,
    me: SignedIn,
    Query(n): Query<Notice>,
) -> Result<Response, ApiError> {
    let root = ops::browse::root(&state, &me.user.id).await?;
    let rows = ops::trash::entries(&state, &me.user.id)
        .await?
        .into_iter()
        .map(|e| Row {
            kind: e.entry.kind.as_str(),
            folder: e.folder.map(|name| (e.entry.parent_id.clone(), name)),
            id: e.entry.id,
            name: e.entry.name,
            deleted: super::reach::when(e.entry.trashed_ms),
        })
        .collect();
    let notice = n.notice();
    let page = TrashPage {
        user: &me.user.display_name,
        csrf: &me.csrf,
        root: &root.id,
        rows,
        retention: super::reach::span(state.config.trash_retention),
        notice,
    };
    Ok(html(StatusCode::OK, page.render()))
}

pub(crate) async fn restore(
    State(state): State<AppState>,
    me: SignedIn,
    Path((kind, id)): Path<(String, String)>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, ApiError> {
    if let Err(r) = me.check_csrf(&f.csrf) {
        return Ok(r);
    }
    let Some(kind) = TrashKind::parse(&kind) else {
        return Ok(message(StatusCode::NOT_FOUND, "No such item in the trash."));
    };
    Ok(
        match ops::trash::restore(&state, &me.user.id, kind, &id).await {
            Ok(r) if r.in_place => back(&format!("Restored “{}” to its folder.", r.name)),
            Ok(r) => back(&format!(
                "Restored as “{}” in your root folder: its folder is gone or the name was taken.",
                r.name
            )),
            Err(ApiError::Proto(wopid_proto::ProtoError::NotFound)) => {
                message(StatusCode::NOT_FOUND, "No such item in the trash.")
            }
            Err(e) => refusal(e),
        },
    )
}

#[derive(Deserialize)]
pub(crate) struct EmptyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
}

pub(crate) async fn empty(
    State(state): State<AppState>,
    me: SignedIn,
    Form(f): Form<EmptyForm>,
) -> Result<Response, ApiError> {
    if let Err(r) = me.check_csrf(&f.csrf) {
        return Ok(r);
    }
    if f.confirm != "yes" {
        return Ok(message(
            StatusCode::BAD_REQUEST,
            "Tick “Delete these items for good” to empty the trash.",
        ));
    }
    let n = ops::trash::empty(&state, &me.user.id).await?;
    Ok(back(&match n {
        1 => "Trash emptied: 1 item deleted for good.".to_owned(),
        n => format!("Trash emptied: {n} items deleted for good."),
    }))
}
