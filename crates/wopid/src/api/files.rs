//! `/api/v1/containers` and `/api/v1/files`: folders, files, content and versions, through the
//! same use cases as the web UI and WOPI. The API acts for the resource's owner.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use futures_util::TryStreamExt as _;
use wopid_store::{BlobStream, ResourceKind};

use super::caller::Caller;
use super::model::*;
use super::problem::{Json, Path, Problem, Query};
use super::{Answer, Binary, Problems};
use crate::error::ApiError;
use crate::ops;
use crate::ops::files::Moved;
use crate::state::AppState;

fn body_stream(body: Body) -> BlobStream {
    Box::pin(body.into_data_stream().map_err(std::io::Error::other))
}

fn declared_len(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.parse().ok())
}

async fn file(state: &AppState, id: &str) -> Result<wopid_store::FileRecord, Problem> {
    Ok(ops::load(state, id).await?)
}

async fn container(state: &AppState, id: &str) -> Result<wopid_store::Container, Problem> {
    Ok(ops::containers::load(state, id).await?)
}

fn check_name(name: &str) -> Result<(), Problem> {
    match wopid_proto::names::invalid_reason(name) {
        Some(why) => Err(ApiError::Invalid(why).into()),
        None => Ok(()),
    }
}

/// A folder.
#[utoipa::path(get, path = "/api/v1/containers/{id}", tag = "files",
    params(("id" = String, Path, description = "folder id")),
    responses((status = 200, body = ContainerOut), Problems))]
pub(crate) async fn get_container(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Answer<ContainerOut> {
    Ok(axum::Json(container(&state, &id).await?.into()))
}

/// Rename a folder and/or move it into another folder.
#[utoipa::path(patch, path = "/api/v1/containers/{id}", tag = "files", request_body = FolderPatch,
    params(("id" = String, Path, description = "folder id")),
    responses((status = 200, body = ContainerOut), Problems))]
pub(crate) async fn update_container(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<FolderPatch>,
) -> Answer<ContainerOut> {
    if let Some(name) = &body.name {
        check_name(name)?;
    }
    let mut c = container(&state, &id).await?;
    if c.parent_id.is_none() {
        return Err(ApiError::Invalid("a root folder keeps its name and place").into());
    }
    if let Some(to) = &body.parent_id {
        container(&state, to).await?;
        let owner = c.owner_id.clone();
        c = ops::folders::move_to(&state, &owner, &c, to).await?;
    }
    if let Some(name) = body.name {
        let grant = ops::files::owner_grant(&state, &c.owner_id, ResourceKind::Container, &c.id);
        let name = ops::containers::rename_container(&state, &grant, &c, Ok(name)).await?;
        c = wopid_store::Container { name, ..c };
    }
    Ok(axum::Json(c.into()))
}

/// Delete an empty folder (409 when it holds anything; a root folder cannot be deleted).
#[utoipa::path(delete, path = "/api/v1/containers/{id}", tag = "files",
    params(("id" = String, Path, description = "folder id")),
    responses((status = 204, description = "deleted"), Problems))]
pub(crate) async fn delete_container(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let c = container(&state, &id).await?;
    let grant = ops::files::owner_grant(&state, &c.owner_id, ResourceKind::Container, &c.id);
    ops::containers::delete_container(&state, &grant, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a folder holds: folders first, then files, each by name.
#[utoipa::path(get, path = "/api/v1/containers/{id}/children", tag = "files",
    params(("id" = String, Path, description = "folder id"), PageQuery),
    responses((status = 200, body = ChildPage), Problems))]
pub(crate) async fn list_children(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Answer<ChildPage> {
    container(&state, &id).await?;
    let (folders, files) = ops::browse::listing(&state, &id).await?;
    let children: Vec<ChildOut> = folders
        .into_iter()
        .map(ChildOut::folder)
        .chain(files.into_iter().map(ChildOut::file))
        .collect();
    let key = |c: &ChildOut| {
        let kind = match c.kind {
            ChildKind::Folder => '0',
            ChildKind::File => '1',
        };
        format!("{kind}{}\u{0}{}", c.name, c.id)
    };
    let (items, next_cursor) = paginate(children, key, &q)?;
    Ok(axum::Json(ChildPage { items, next_cursor }))
}

/// Create a folder (409 when the name is taken).
#[utoipa::path(post, path = "/api/v1/containers/{id}/folders", tag = "files",
    request_body = NewFolderIn, params(("id" = String, Path, description = "parent folder id")),
    responses((status = 201, body = ContainerOut), Problems))]
pub(crate) async fn create_folder(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<NewFolderIn>,
) -> Result<(StatusCode, axum::Json<ContainerOut>), Problem> {
    if let Some(why) = wopid_proto::names::invalid_reason(&body.name) {
        return Err(ApiError::Invalid(why).into());
    }
    let parent = container(&state, &id).await?;
    match ops::containers::create_named(&state, &parent.owner_id, &parent, &body.name).await? {
        Some(c) => Ok((StatusCode::CREATED, axum::Json(c.into()))),
        None => Err(Problem::new(
            StatusCode::CONFLICT,
            "a folder of this name exists",
        )),
    }
}

/// Create a file from the request body (empty or not, streamed, at most `max_upload_bytes`:
/// 413 above). A taken name gets its first free numbered variant.
#[utoipa::path(post, path = "/api/v1/containers/{id}/files", tag = "files",
    request_body(content = Binary, content_type = "application/octet-stream"),
    params(("id" = String, Path, description = "folder id"), NewFileQuery),
    responses((status = 201, body = FileOut), Problems))]
pub(crate) async fn create_file(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<NewFileQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, axum::Json<FileOut>), Problem> {
    check_name(&q.name)?;
    let parent = container(&state, &id).await?;
    let f = ops::files::add_file_for(
        &state,
        &parent.owner_id,
        &q.name,
        Some(&parent.id),
        body_stream(body),
        declared_len(&headers),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(FileOut::new(f, state.now_ms())),
    ))
}

/// A file's metadata.
#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "files",
    params(("id" = String, Path, description = "file id")),
    responses((status = 200, body = FileOut), Problems))]
pub(crate) async fn get_file(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Answer<FileOut> {
    Ok(axum::Json(FileOut::new(
        file(&state, &id).await?,
        state.now_ms(),
    )))
}

/// Rename a file (to exactly the name given) and/or move it into another folder; refused while
/// an editor holds its lock.
#[utoipa::path(patch, path = "/api/v1/files/{id}", tag = "files", request_body = FilePatch,
    params(("id" = String, Path, description = "file id")),
    responses((status = 200, body = FileOut), Problems))]
pub(crate) async fn update_file(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<FilePatch>,
) -> Answer<FileOut> {
    if let Some(name) = &body.name {
        check_name(name)?;
    }
    let mut f = file(&state, &id).await?;
    if let Some(to) = &body.container_id {
        container(&state, to).await?;
        if *to != f.container_id {
            let owner = f.owner_id.clone();
            match ops::files::move_to(&state, &owner, f, to).await? {
                Moved::Done => {}
                Moved::SourceRefused | Moved::NoTarget => {
                    return Err(Problem::forbidden(
                        "the file's owner may not write in that folder",
                    ));
                }
                Moved::NameTaken => {
                    return Err(Problem::new(
                        StatusCode::CONFLICT,
                        "a file of this name is in that folder",
                    ));
                }
            }
            f = file(&state, &id).await?;
        }
    }
    if let Some(name) = &body.name
        && *name != f.name
    {
        // The application acts for the file's owner.
        let owner = f.owner_id.clone();
        if !ops::files::rename_exact(&state, Some(&owner), f, name).await? {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "a file of this name is in its folder",
            ));
        }
        f = file(&state, &id).await?;
    }
    Ok(axum::Json(FileOut::new(f, state.now_ms())))
}

/// Delete a file with its versions; refused while an editor holds its lock.
#[utoipa::path(delete, path = "/api/v1/files/{id}", tag = "files",
    params(("id" = String, Path, description = "file id")),
    responses((status = 204, description = "deleted"), Problems))]
pub(crate) async fn delete_file(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let f = file(&state, &id).await?;
    ops::files::delete(&state, f).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The file's content, whole or one byte range (`Range: bytes=…`: 206, 416 when unsatisfiable).
#[utoipa::path(get, path = "/api/v1/files/{id}/content", tag = "files",
    params(("id" = String, Path, description = "file id"),
        ("Range" = Option<String>, Header, description = "one byte range, e.g. bytes=0-99")),
    responses(
        (status = 200, body = Binary, content_type = "application/octet-stream"),
        (status = 206, body = Binary, content_type = "application/octet-stream"),
        Problems))]
pub(crate) async fn download(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let f = file(&state, &id).await?;
    let range =
        wopid_proto::headers::RangeSpec::parse(headers.get(header::RANGE).map(|v| v.as_bytes()));
    let dl = ops::content::get_file(&state, &f, u64::MAX, range).await?;
    Ok(crate::respond::download(dl).await)
}

/// New content for the file from the request body (streamed, at most `max_upload_bytes`: 413
/// above): a new version. Refused while an editor holds the lock (409).
#[utoipa::path(put, path = "/api/v1/files/{id}/content", tag = "files",
    request_body(content = Binary, content_type = "application/octet-stream"),
    params(("id" = String, Path, description = "file id")),
    responses((status = 200, body = FileOut), Problems))]
pub(crate) async fn upload(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Answer<FileOut> {
    let f = file(&state, &id).await?;
    let owner = f.owner_id.clone();
    let f =
        ops::files::replace_content(&state, f, &owner, body_stream(body), declared_len(&headers))
            .await?;
    Ok(axum::Json(FileOut::new(f, state.now_ms())))
}

/// The file's versions, oldest first.
#[utoipa::path(get, path = "/api/v1/files/{id}/versions", tag = "files",
    params(("id" = String, Path, description = "file id"), PageQuery),
    responses((status = 200, body = VersionPage), Problems))]
pub(crate) async fn list_versions(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Answer<VersionPage> {
    let versions = ops::files::versions(&state, &id).await?;
    let (items, next_cursor) = paginate(versions, |v| format!("{:020}", v.version), &q)?;
    Ok(axum::Json(VersionPage {
        items: items.into_iter().map(VersionOut::from).collect(),
        next_cursor,
    }))
}

/// Make an earlier version's content current again, as a new version; refused while an editor
/// holds the lock.
#[utoipa::path(post, path = "/api/v1/files/{id}/versions/{version}/restore", tag = "files",
    params(("id" = String, Path, description = "file id"),
        ("version" = i64, Path, description = "the version to restore")),
    responses((status = 200, body = FileOut), Problems))]
pub(crate) async fn restore_version(
    State(state): State<AppState>,
    _caller: Caller,
    Path((id, version)): Path<(String, i64)>,
) -> Answer<FileOut> {
    let owner = file(&state, &id).await?.owner_id;
    let f = ops::files::restore(&state, Some(&owner), &id, version).await?;
    Ok(axum::Json(FileOut::new(f, state.now_ms())))
}

/// Revoke every user's tokens for this file or folder.
#[utoipa::path(post, path = "/api/v1/resources/{id}/tokens/revoke", tag = "tokens",
    params(("id" = String, Path, description = "file or folder id")),
    responses((status = 200, body = Revoked), Problems))]
pub(crate) async fn revoke_resource_tokens(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Answer<Revoked> {
    ops::shares::resource(&state, &id).await?;
    let revoked = ops::users::revoke_resource_tokens(&state, &id).await?;
    Ok(axum::Json(Revoked { revoked }))
}
