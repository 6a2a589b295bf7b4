//! The CheckFileInfo properties of co-authoring hosts ("CSPP Plus").
//!
//! The validator accepts a CheckFileInfo body that matches one of two schemas: the plain one
//! forbids these properties, the "Plus" one requires all of them. So they are sent all together
//! or not at all: [`WithCsppPlus`] adds them to a [`CheckFileInfo`] when co-authoring is on.

use serde::Serialize;

use crate::body::CheckFileInfo;

/// `SharingStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SharingStatus {
    /// Only the owner has access.
    Private,
    /// Somebody else has access too.
    Shared,
}

/// The co-authoring properties of CheckFileInfo.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct CsppPlus {
    pub supports_coauth: bool,
    pub supports_chunked_file_transfer: bool,
    /// The file's content sequence number (see [`crate::coauth::check_sequence`]), at most
    /// 2³¹−1.
    pub sequence_number: u32,
    /// When the access token expires, milliseconds since the Unix epoch (`access_token_ttl`).
    pub access_token_expiry: i64,
    /// The host's clock, milliseconds since the Unix epoch.
    pub server_time: i64,
    pub sharing_status: SharingStatus,
    /// Where the file is stored (a configured code); empty when not configured.
    pub file_geo_location_code: String,
    /// Absolute URL of the Office collaboration service.
    pub office_collaboration_service_endpoint_url: String,
    /// Absolute URL of the real-time channel.
    pub real_time_channel_endpoint_url: String,
}

/// A CheckFileInfo body with the co-authoring properties when there are some.
#[derive(Debug, Clone, Serialize)]
pub struct WithCsppPlus<'a> {
    #[serde(flatten)]
    pub info: &'a CheckFileInfo<'a>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub plus: Option<&'a CsppPlus>,
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> CsppPlus {
        CsppPlus {
            supports_coauth: true,
            supports_chunked_file_transfer: true,
            sequence_number: 7,
            access_token_expiry: 1_700_000_600_000,
            server_time: 1_700_000_000_000,
            sharing_status: SharingStatus::Private,
            file_geo_location_code: String::new(),
            office_collaboration_service_endpoint_url: "https://ocs.example.com/".into(),
            real_time_channel_endpoint_url: "https://rtc.example.com/".into(),
        }
    }

    #[test]
    fn all_or_nothing() {
        let info = CheckFileInfo {
            base_file_name: "a.wopitest",
            owner_id: "o",
            size: 0,
            user_id: "u",
            version: "1".into(),
            ..Default::default()
        };
        let plain = serde_json::to_value(WithCsppPlus {
            info: &info,
            plus: None,
        })
        .expect("json");
        assert_eq!(plain, serde_json::to_value(&info).expect("json"));
        let plus = sample();
        let v = serde_json::to_value(WithCsppPlus {
            info: &info,
            plus: Some(&plus),
        })
        .expect("json");
        for key in [
            "SupportsCoauth",
            "SupportsChunkedFileTransfer",
            "SequenceNumber",
            "AccessTokenExpiry",
            "ServerTime",
            "SharingStatus",
            "FileGeoLocationCode",
            "OfficeCollaborationServiceEndpointUrl",
            "RealTimeChannelEndpointUrl",
            "BaseFileName",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
        assert_eq!(v["SharingStatus"], "Private");
        assert_eq!(v["SequenceNumber"], 7);
    }
}
