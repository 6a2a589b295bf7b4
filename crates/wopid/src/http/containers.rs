//! `/wopi/containers/ID`, `/wopi/folders/ID` and `/wopi/ecosystem`: each operation is one use
//! case and one response.

use axum::http::StatusCode;
use axum::response::Response;
use wopid_proto::body::{Renamed, ShareUrl};
use wopid_proto::containers::{Ancestors, CheckEcosystem, UrlBody};
use wopid_proto::request::{ContainerOp, EcosystemOp};
use wopid_store::Container;

use crate::auth::Grant;
use crate::error::ApiError;
use crate::ops;
use crate::ops::containers as c;
use crate::respond::{empty, json};
use crate::state::AppState;

pub(super) async fn dispatch(
    state: &AppState,
    grant: &Grant,
    container: Container,
    op: ContainerOp,
) -> Result<Response, ApiError> {
    let ok = StatusCode::OK;
    let it = &container;
    Ok(match op {
        ContainerOp::CheckContainerInfo => json(ok, &[], &c::info(state, it, grant)),
        ContainerOp::CreateChildContainer { target } => json(
            ok,
            &[],
            &c::create_child_container(state, grant, it, target).await?,
        ),
        ContainerOp::CreateChildFile { target } => json(
            ok,
            &[],
            &c::create_child_file(state, grant, it, target).await?,
        ),
        ContainerOp::DeleteContainer => {
            c::delete_container(state, grant, it).await?;
            empty(&[])
        }
        ContainerOp::RenameContainer { name } => {
            let name = c::rename_container(state, grant, it, name).await?;
            json(ok, &[], &Renamed { name })
        }
        ContainerOp::GetShareUrl { url_type } => {
            let share_url = c::share_url(state, grant, it, url_type).await?;
            json(ok, &[], &ShareUrl { share_url })
        }
        ContainerOp::EnumerateAncestors => {
            let ancestors_with_root_first = c::ancestors(state, grant, it).await?;
            json(
                ok,
                &[],
                &Ancestors {
                    ancestors_with_root_first,
                },
            )
        }
        ContainerOp::EnumerateChildren { filter } => json(
            ok,
            &[],
            &c::children(state, grant, it, filter.as_deref()).await?,
        ),
        ContainerOp::GetEcosystem => {
            let url = c::ecosystem_pointer(state, grant).await?;
            json(ok, &[], &UrlBody { url })
        }
        ContainerOp::CheckFolderInfo => json(ok, &[], &c::check_folder_info(grant, it)),
        ContainerOp::EnumerateFolderChildren => {
            json(ok, &[], &c::folder_children(state, grant, it).await?)
        }
    })
}

pub(super) async fn ecosystem_dispatch(
    state: &AppState,
    grant: &Grant,
    op: EcosystemOp,
) -> Result<Response, ApiError> {
    let ok = StatusCode::OK;
    Ok(match op {
        EcosystemOp::CheckEcosystem => json(
            ok,
            &[],
            &CheckEcosystem {
                supports_containers: state.config.containers,
            },
        ),
        EcosystemOp::GetRootContainer => json(
            ok,
            &[],
            &ops::ecosystem::root_container(state, grant).await?,
        ),
        EcosystemOp::GetFileWopiSrc {
            host_native_file_name,
        } => {
            let url = ops::ecosystem::file_wopi_src(state, grant, &host_native_file_name).await?;
            json(ok, &[], &UrlBody { url })
        }
    })
}
