//! `/wopi/containers/ID`, `/wopi/folders/ID` and `/wopi/ecosystem`: dispatch on the operation.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use wopid_proto::body::ShareUrlType;
use wopid_proto::containers::{Ancestors, CheckEcosystem, UrlBody, extension_filter};
use wopid_proto::{Operation, ProtoError};

use super::wopi::{empty, h, json};
use crate::auth::Grant;
use crate::error::ApiError;
use crate::ops;
use crate::state::AppState;

pub(super) async fn container_op(
    state: &AppState,
    grant: &Grant,
    id: &str,
    op: Operation,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    use Operation as O;
    use ops::containers as c;
    let ok = StatusCode::OK;
    let resp = match op {
        O::CheckContainerInfo => json(ok, &[], &c::check_container_info(state, grant, id).await?),
        O::CreateChildContainer => {
            let created = c::create_child_container(
                state,
                grant,
                id,
                h(headers, "x-wopi-suggestedtarget"),
                h(headers, "x-wopi-relativetarget"),
            )
            .await?;
            json(ok, &[], &created)
        }
        O::CreateChildFile => {
            let created = c::create_child_file(
                state,
                grant,
                id,
                h(headers, "x-wopi-suggestedtarget"),
                h(headers, "x-wopi-relativetarget"),
                h(headers, "x-wopi-overwriterelativetarget"),
            )
            .await?;
            json(ok, &[], &created)
        }
        O::DeleteContainer => {
            c::delete_container(state, grant, id).await?;
            empty(&[])
        }
        O::RenameContainer => {
            let name =
                c::rename_container(state, grant, id, h(headers, "x-wopi-requestedname")).await?;
            json(ok, &[], &wopid_proto::body::Renamed { name })
        }
        O::GetContainerShareUrl => {
            let kind = ShareUrlType::parse(h(headers, "x-wopi-urltype")).ok_or_else(|| {
                ProtoError::NotImplemented(
                    "X-WOPI-UrlType is missing or not ReadOnly/ReadWrite".into(),
                )
            })?;
            json(
                ok,
                &[],
                &wopid_proto::body::ShareUrl {
                    share_url: c::share_url(state, grant, id, kind).await?,
                },
            )
        }
        O::EnumerateContainerAncestors => json(
            ok,
            &[],
            &Ancestors {
                ancestors_with_root_first: c::ancestors(state, grant, id).await?,
            },
        ),
        O::EnumerateChildren => {
            let filter = extension_filter(h(headers, "x-wopi-fileextensionfilterlist"));
            json(
                ok,
                &[],
                &c::children(state, grant, id, filter.as_deref()).await?,
            )
        }
        O::GetContainerEcosystem => json(
            ok,
            &[],
            &UrlBody {
                url: c::ecosystem_pointer(state, grant).await?,
            },
        ),
        O::CheckFolderInfo => json(ok, &[], &c::check_folder_info(state, grant, id).await?),
        O::EnumerateFolderChildren => json(ok, &[], &c::folder_children(state, grant, id).await?),
        other => {
            return Err(ProtoError::NotImplemented(format!(
                "{} is not available on this endpoint",
                other.name()
            ))
            .into());
        }
    };
    Ok(resp)
}

pub(super) async fn ecosystem_op(
    state: &AppState,
    grant: &Grant,
    op: Operation,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let ok = StatusCode::OK;
    let resp = match op {
        Operation::CheckEcosystem => json(
            ok,
            &[],
            &CheckEcosystem {
                supports_containers: true,
            },
        ),
        Operation::GetRootContainer => json(
            ok,
            &[],
            &ops::ecosystem::root_container(state, grant).await?,
        ),
        Operation::GetFileWopiSrc => {
            let raw = h(headers, "x-wopi-hostnativefilename").ok_or(ProtoError::BadRequest(
                "X-WOPI-HostNativeFileName is missing",
            ))?;
            let ident = std::str::from_utf8(raw)
                .map_err(|_| ProtoError::BadRequest("X-WOPI-HostNativeFileName is not UTF-8"))?;
            let url = ops::ecosystem::file_wopi_src(state, grant, ident).await?;
            json(ok, &[], &UrlBody { url })
        }
        other => {
            return Err(ProtoError::NotImplemented(format!(
                "{} is not available on this endpoint",
                other.name()
            ))
            .into());
        }
    };
    Ok(resp)
}
