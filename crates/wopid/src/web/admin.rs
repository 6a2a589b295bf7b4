//! The administrators' page: the users (create, reset a password, disable, enable), the editors
//! (discovery age, last refresh error, proof keys) and what the store holds. Only users marked
//! admin (`wopid users add --admin`, or the first user) reach it; everyone else gets 403.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use wopid_store::UserChange;

use super::format::{ago, size};
use super::reach::{CsrfOnly, refusal, see_other};
use super::session::SignedIn;
use crate::config::ProofMode;
use crate::error::ApiError;
use crate::ops;
use crate::ops::users::Account;
use crate::page::{html, message};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage<'a> {
    user: &'a str,
    csrf: &'a str,
    me: &'a str,
    done: Option<&'static str>,
    users: Vec<UserRow>,
    editors: Vec<EditorRow>,
    totals: TotalsRow,
}

struct UserRow {
    id: String,
    login: String,
    display_name: String,
    email: String,
    admin: bool,
    disabled: bool,
}

struct EditorRow {
    name: String,
    /// "fetched 3 hours ago", or that it never was.
    discovery: String,
    last_error: Option<String>,
    proof: &'static str,
    /// A proof policy that the discovery cannot satisfy.
    warning: Option<&'static str>,
}

struct TotalsRow {
    users: u64,
    disabled_users: u64,
    folders: u64,
    files: u64,
    versions: u64,
    current: String,
    all_versions: String,
}

#[derive(Deserialize)]
pub(crate) struct Done {
    #[serde(default)]
    done: String,
}

/// The confirmations the page shows, by code (never text from the URL).
fn confirmation(code: &str) -> Option<&'static str> {
    Some(match code {
        "created" => "The user was created.",
        "password" => "The password was changed; the user's sessions and tokens ended.",
        "disabled" => "The user was disabled; their sessions and tokens ended.",
        "enabled" => "The user was enabled.",
        _ => return None,
    })
}

/// The signed-in administrator, or the refusal page.
#[allow(clippy::result_large_err)] // the refusal page is the response, built once per request
fn admin_only(me: &SignedIn) -> Result<(), Response> {
    if me.user.admin && !me.user.disabled {
        Ok(())
    } else {
        Err(message(
            StatusCode::FORBIDDEN,
            "This page is for administrators.",
        ))
    }
}

/// What every admin form checks: an administrator, and the session's CSRF token.
#[allow(clippy::result_large_err)] // the refusal page is the response, built once per request
fn admin_form(me: &SignedIn, csrf: &str) -> Result<(), Response> {
    admin_only(me)?;
    me.check_csrf(csrf)
}

fn editor_rows(state: &AppState) -> Vec<EditorRow> {
    let now = state.now_ms();
    state
        .editors
        .all()
        .iter()
        .map(|e| {
            let loaded = e.loaded();
            let has_keys = loaded.as_ref().is_some_and(|l| l.keys.is_some());
            let proof = match e.config.proof {
                ProofMode::Required => "required",
                ProofMode::Optional => "optional",
                ProofMode::Off => "off",
            };
            let warning = if loaded.is_none() {
                Some("No discovery document yet: the editor cannot be opened.")
            } else if e.unprovable() {
                Some(
                    "Proofs are required but the discovery has no proof key: the editor cannot \
                     be used. Set its proof policy to optional (--editor NAME=URL,proof=optional).",
                )
            } else {
                None
            };
            EditorRow {
                name: e.config.name.clone(),
                discovery: match &loaded {
                    Some(l) => format!("fetched {}", ago(l.fetched_ms, now)),
                    None => "never fetched".to_owned(),
                },
                last_error: e
                    .last_error()
                    .map(|(at, err)| format!("{} ({})", err, ago(at, now))),
                proof: if has_keys {
                    proof
                } else {
                    match e.config.proof {
                        ProofMode::Off => "off",
                        _ => "no proof key",
                    }
                },
                warning,
            }
        })
        .collect()
}

pub(crate) async fn page(
    State(state): State<AppState>,
    me: SignedIn,
    Query(q): Query<Done>,
) -> Result<Response, ApiError> {
    if let Err(r) = admin_only(&me) {
        return Ok(r);
    }
    let users = ops::users::list(&state)
        .await?
        .into_iter()
        .map(|u| UserRow {
            id: u.id,
            login: u.login,
            display_name: u.display_name,
            email: u.email.unwrap_or_default(),
            admin: u.admin,
            disabled: u.disabled,
        })
        .collect();
    let t = ops::users::storage_totals(&state).await?;
    let page = AdminPage {
        user: &me.user.display_name,
        csrf: &me.csrf,
        me: &me.user.id,
        done: confirmation(&q.done),
        users,
        editors: editor_rows(&state),
        totals: TotalsRow {
            users: t.users,
            disabled_users: t.disabled_users,
            folders: t.folders,
            files: t.files,
            versions: t.versions,
            current: size(t.current_bytes),
            all_versions: size(t.version_bytes),
        },
    };
    Ok(html(StatusCode::OK, page.render()))
}

#[derive(Deserialize)]
pub(crate) struct NewUserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    admin: Option<String>,
}

fn nonempty(s: &str) -> Option<&str> {
    let s = s.trim();
    (!s.is_empty()).then_some(s)
}

pub(crate) async fn create_user(
    State(state): State<AppState>,
    me: SignedIn,
    Form(f): Form<NewUserForm>,
) -> Result<Response, ApiError> {
    if let Err(r) = admin_form(&me, &f.csrf) {
        return Ok(r);
    }
    let account = Account {
        login: f.login.trim(),
        display_name: nonempty(&f.display_name),
        email: nonempty(&f.email),
        password: nonempty(&f.password),
        admin: f.admin.is_some(),
    };
    Ok(match ops::users::create(&state, account).await {
        Ok(_) => see_other("/admin?done=created"),
        Err(e) => admin_refusal(e),
    })
}

#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
}

pub(crate) async fn reset_password(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<PasswordForm>,
) -> Result<Response, ApiError> {
    if let Err(r) = admin_form(&me, &f.csrf) {
        return Ok(r);
    }
    Ok(
        match ops::users::change(&state, &id, UserChange::default(), Some(&f.password)).await {
            Ok(_) => see_other("/admin?done=password"),
            Err(e) => admin_refusal(e),
        },
    )
}

pub(crate) async fn disable(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, ApiError> {
    set_disabled(state, me, id, f, true).await
}

pub(crate) async fn enable(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, ApiError> {
    set_disabled(state, me, id, f, false).await
}

async fn set_disabled(
    state: AppState,
    me: SignedIn,
    id: String,
    f: CsrfOnly,
    disabled: bool,
) -> Result<Response, ApiError> {
    if let Err(r) = admin_form(&me, &f.csrf) {
        return Ok(r);
    }
    if disabled && id == me.user.id {
        return Ok(message(
            StatusCode::CONFLICT,
            "You cannot disable yourself: another administrator can.",
        ));
    }
    let change = UserChange {
        disabled: Some(disabled),
        ..Default::default()
    };
    Ok(match ops::users::change(&state, &id, change, None).await {
        Ok(_) => see_other(if disabled {
            "/admin?done=disabled"
        } else {
            "/admin?done=enabled"
        }),
        Err(e) => admin_refusal(e),
    })
}

/// A refused change, as a page that leads back to the admin page.
fn admin_refusal(e: ApiError) -> Response {
    match e {
        ApiError::Invalid(why) => message(StatusCode::UNPROCESSABLE_ENTITY, why),
        e => refusal(e),
    }
}
