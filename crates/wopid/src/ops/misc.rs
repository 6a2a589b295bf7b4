//! GetShareUrl, PutUserInfo, AddActivities and EnumerateAncestors.

use wopid_proto::ProtoError;
use wopid_proto::body::{
    ACTIVITY_OK, ACTIVITY_UNSUPPORTED, ActivityResponse, AddActivitiesRequest,
    AddActivitiesResponse, Ancestors, KNOWN_ACTIVITY_TYPES, Pointer, ShareUrlType,
};
use wopid_store::{ActivityRecord, FileRecord, ResourceKind};

use crate::auth::issue::{Purpose, issue};
use crate::auth::{Grant, Perms};
use crate::error::ApiError;
use crate::state::AppState;

/// Longest UserInfo accepted, as the spec bounds it.
pub const MAX_USER_INFO: usize = 1024;

/// GetShareUrl: a link of its own (not an access token) granting read or read-write access.
pub async fn share_url(
    state: &AppState,
    grant: &Grant,
    file: &FileRecord,
    kind: ShareUrlType,
) -> Result<String, ApiError> {
    let file_id = file.id.as_str();
    let perms = match kind {
        ShareUrlType::ReadOnly => Perms::READ_ONLY,
        ShareUrlType::ReadWrite if grant.perms.can_write() => Perms::READ_WRITE,
        ShareUrlType::ReadWrite => {
            return Err(ProtoError::NotImplemented(
                "ReadWrite share URL for a read-only token".into(),
            )
            .into());
        }
    };
    let link = Purpose::ShareLink {
        from: grant,
        kind: ResourceKind::ShareLink,
        id: file_id,
        perms,
    };
    let issued = issue(state, &grant.user_id, link).await?;
    Ok(format!("{}/share/{}", state.base, issued.token.expose()))
}

/// PutUserInfo: stored per user, returned by every later CheckFileInfo of that user.
pub async fn put_user_info(state: &AppState, grant: &Grant, body: &[u8]) -> Result<(), ApiError> {
    if body.len() > MAX_USER_INFO {
        return Err(ProtoError::BadRequest("UserInfo is longer than 1024 bytes").into());
    }
    let info =
        std::str::from_utf8(body).map_err(|_| ProtoError::BadRequest("UserInfo is not UTF-8"))?;
    state.meta.set_user_info(&grant.user_id, info).await?;
    Ok(())
}

/// AddActivities: records the activities wopid knows; reports the others as unsupported.
pub async fn add_activities(
    state: &AppState,
    grant: &Grant,
    file: &FileRecord,
    body: &[u8],
) -> Result<AddActivitiesResponse, ApiError> {
    let file_id = file.id.as_str();
    let req = AddActivitiesRequest::parse(body).ok_or(ProtoError::BadRequest(
        "body is not an AddActivities JSON object",
    ))?;
    let mut responses = Vec::with_capacity(req.activities.len());
    for a in req.activities {
        let status = if KNOWN_ACTIVITY_TYPES.contains(&a.kind.as_str()) {
            let record = ActivityRecord {
                file_id: file_id.to_owned(),
                activity_id: a.id.clone(),
                kind: a.kind.clone(),
                user_id: grant.user_id.clone(),
                body: serde_json::json!({"Data": a.data, "People": a.people}).to_string(),
                received_ms: state.now_ms(),
            };
            state.meta.add_activity(&record).await?;
            ACTIVITY_OK
        } else {
            ACTIVITY_UNSUPPORTED
        };
        responses.push(ActivityResponse { id: a.id, status });
    }
    Ok(AddActivitiesResponse {
        activity_responses: responses,
    })
}

/// EnumerateAncestors of a file: its containers, root first, each with a container token that
/// expires with the caller's. A token redeemed from a share link reaches the file only: none.
pub async fn ancestors(
    state: &AppState,
    grant: &Grant,
    file: &FileRecord,
) -> Result<Ancestors, ApiError> {
    let chain = if grant.link.is_some() {
        Vec::new()
    } else {
        crate::auth::access::chain(state, &file.container_id).await?
    };
    let list = super::containers::pointers_root_first(state, grant, chain).await?;
    Ok(Ancestors {
        ancestors_with_root_first: list
            .into_iter()
            .map(|p| Pointer {
                name: p.name,
                url: p.url,
            })
            .collect(),
    })
}
