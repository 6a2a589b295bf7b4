//! Every WOPI header name wopid reads or writes, lower-case as HTTP/2 sends them.
//!
//! The rest of wopid names headers through these constants only; the table test below keeps them
//! lower-case, valid as header names and free of duplicates.

// ---- selecting the operation ----

/// `X-WOPI-Override`: the operation of a POST (`LOCK`, `PUT`, `PUT_RELATIVE`…).
pub const OVERRIDE: &str = "x-wopi-override";
/// `X-WOPI-EcosystemOperation`: the shortcut a bootstrapper request asks for.
pub const ECOSYSTEM_OPERATION: &str = "x-wopi-ecosystemoperation";

// ---- locks ----

/// `X-WOPI-Lock`: the lock id of a request; the current lock in a 409 and in GetLock.
pub const LOCK: &str = "x-wopi-lock";
/// `X-WOPI-OldLock`: the lock UnlockAndRelock replaces (its presence turns LOCK into it).
pub const OLD_LOCK: &str = "x-wopi-oldlock";
/// `X-WOPI-LockFailureReason`: why a lock operation was refused.
pub const LOCK_FAILURE_REASON: &str = "x-wopi-lockfailurereason";

/// `X-WOPI-LockUserVisible`: Lock asks that the holder's name be shown to others who conflict.
pub const LOCK_USER_VISIBLE: &str = "x-wopi-lockuservisible";
/// `X-WOPI-ConflictingLockUsername`: the name of a user-visible lock's holder, with a 409.
pub const CONFLICTING_LOCK_USERNAME: &str = "x-wopi-conflictinglockusername";
/// `X-WOPI-ConflictingMechanism`: which kind of lock refused a request (`WOPI-Lock`,
/// `WOPI-CoauthLock`, `WOPI-CoauthExclusiveLock`).
pub const CONFLICTING_MECHANISM: &str = "x-wopi-conflictingmechanism";

// ---- coauth locks and incremental file transfer ----

/// `X-WOPI-CoauthLockId`: the coauth lock a request holds or presents.
pub const COAUTH_LOCK_ID: &str = "x-wopi-coauthlockid";
/// `X-WOPI-CoauthLockType`: `Coauth` or `CoauthExclusive`.
pub const COAUTH_LOCK_TYPE: &str = "x-wopi-coauthlocktype";
/// `X-WOPI-CoauthLockExpirationTimeout`: seconds (60 to 3600) a coauth lock lives.
pub const COAUTH_LOCK_EXPIRATION_TIMEOUT: &str = "x-wopi-coauthlockexpirationtimeout";
/// `X-WOPI-CoauthLockMetadata`: the client's text stored with its coauth lock.
pub const COAUTH_LOCK_METADATA: &str = "x-wopi-coauthlockmetadata";
/// `X-WOPI-CoauthTableVersion`: the version of the coauth table (sent, and known by a client).
pub const COAUTH_TABLE_VERSION: &str = "x-wopi-coauthtableversion";
/// `X-WOPI-SequenceNumber`: the file's content sequence number.
pub const SEQUENCE_NUMBER: &str = "x-wopi-sequencenumber";

// ---- content ----

/// `X-WOPI-ItemVersion`: the file's version after the operation.
pub const ITEM_VERSION: &str = "x-wopi-itemversion";
/// `X-WOPI-MaxExpectedSize`: GetFile answers 412 above it.
pub const MAX_EXPECTED_SIZE: &str = "x-wopi-maxexpectedsize";
/// `X-WOPI-Size`: the size of a PutRelativeFile body, informational.
pub const SIZE: &str = "x-wopi-size";
/// `X-WOPI-Editors`: the users who edited the content a PutFile saves.
pub const EDITORS: &str = "x-wopi-editors";

// ---- names and targets (UTF-7) ----

/// `X-WOPI-SuggestedTarget`: a name (or an extension) wopid may adjust.
pub const SUGGESTED_TARGET: &str = "x-wopi-suggestedtarget";
/// `X-WOPI-RelativeTarget`: a name used exactly, or refused.
pub const RELATIVE_TARGET: &str = "x-wopi-relativetarget";
/// `X-WOPI-OverwriteRelativeTarget`: whether an exact target may replace an existing file.
pub const OVERWRITE_RELATIVE_TARGET: &str = "x-wopi-overwriterelativetarget";
/// `X-WOPI-ValidRelativeTarget`: a free name suggested with a 409.
pub const VALID_RELATIVE_TARGET: &str = "x-wopi-validrelativetarget";
/// `X-WOPI-RequestedName`: the new name of RenameFile (without extension) and RenameContainer.
pub const REQUESTED_NAME: &str = "x-wopi-requestedname";
/// `X-WOPI-InvalidFileNameError`: why a file name was refused.
pub const INVALID_FILE_NAME_ERROR: &str = "x-wopi-invalidfilenameerror";
/// `X-WOPI-InvalidContainerNameError`: why a container name was refused.
pub const INVALID_CONTAINER_NAME_ERROR: &str = "x-wopi-invalidcontainernameerror";

// ---- sharing, containers, ecosystem ----

/// `X-WOPI-UrlType`: `ReadOnly` or `ReadWrite` share URL.
pub const URL_TYPE: &str = "x-wopi-urltype";
/// `X-WOPI-FileExtensionFilterList`: extensions EnumerateChildren keeps.
pub const FILE_EXTENSION_FILTER_LIST: &str = "x-wopi-fileextensionfilterlist";
/// `X-WOPI-HostNativeFileName`: the file GetFileWopiSrc looks up.
pub const HOST_NATIVE_FILE_NAME: &str = "x-wopi-hostnativefilename";
/// `X-WOPI-WopiSrc`: the resource a bootstrapper GET_NEW_ACCESS_TOKEN asks a token for.
pub const WOPI_SRC: &str = "x-wopi-wopisrc";

// ---- proof keys ----

/// `X-WOPI-Proof`: the request signed with the editor's current key.
pub const PROOF: &str = "x-wopi-proof";
/// `X-WOPI-ProofOld`: the request signed with the editor's previous key.
pub const PROOF_OLD: &str = "x-wopi-proofold";
/// `X-WOPI-TimeStamp`: when the editor signed, in .NET ticks.
pub const TIMESTAMP: &str = "x-wopi-timestamp";

// ---- diagnostics ----

/// `X-WOPI-ServerError`: the reason of any refusal, for people reading logs.
pub const SERVER_ERROR: &str = "x-wopi-servererror";
/// `X-WOPI-CorrelationId`: the editor's id of one request.
pub const CORRELATION_ID: &str = "x-wopi-correlationid";
/// `X-WOPI-SessionId`: the editor's id of an editing session.
pub const SESSION_ID: &str = "x-wopi-sessionid";
/// `X-WOPI-SessionContext`: the action URL's `SESSION_CONTEXT`, echoed back by the editor.
pub const SESSION_CONTEXT: &str = "x-wopi-sessioncontext";

// ---- Collabora's PutFile headers (current `X-COOL-` and older `X-LOOL-` spellings) ----

/// `X-COOL-WOPI-IsAutosave`: the save was made by the editor's timer.
pub const COOL_IS_AUTOSAVE: &str = "x-cool-wopi-isautosave";
/// `X-LOOL-WOPI-IsAutosave`: the older spelling of [`COOL_IS_AUTOSAVE`].
pub const LOOL_IS_AUTOSAVE: &str = "x-lool-wopi-isautosave";
/// `X-COOL-WOPI-IsExitSave`: the save was made as the last user left.
pub const COOL_IS_EXIT_SAVE: &str = "x-cool-wopi-isexitsave";
/// `X-LOOL-WOPI-IsExitSave`: the older spelling of [`COOL_IS_EXIT_SAVE`].
pub const LOOL_IS_EXIT_SAVE: &str = "x-lool-wopi-isexitsave";
/// `X-COOL-WOPI-IsModifiedByUser`: the content differs from the last save by a user's edit.
pub const COOL_IS_MODIFIED_BY_USER: &str = "x-cool-wopi-ismodifiedbyuser";
/// `X-LOOL-WOPI-IsModifiedByUser`: the older spelling of [`COOL_IS_MODIFIED_BY_USER`].
pub const LOOL_IS_MODIFIED_BY_USER: &str = "x-lool-wopi-ismodifiedbyuser";
/// `X-COOL-WOPI-Timestamp`: the modification time (ISO 8601) the editor last saw.
pub const COOL_TIMESTAMP: &str = "x-cool-wopi-timestamp";
/// `X-LOOL-WOPI-Timestamp`: the older spelling of [`COOL_TIMESTAMP`].
pub const LOOL_TIMESTAMP: &str = "x-lool-wopi-timestamp";

/// Every name above.
pub const ALL: &[&str] = &[
    OVERRIDE,
    ECOSYSTEM_OPERATION,
    LOCK,
    OLD_LOCK,
    LOCK_FAILURE_REASON,
    LOCK_USER_VISIBLE,
    CONFLICTING_LOCK_USERNAME,
    CONFLICTING_MECHANISM,
    COAUTH_LOCK_ID,
    COAUTH_LOCK_TYPE,
    COAUTH_LOCK_EXPIRATION_TIMEOUT,
    COAUTH_LOCK_METADATA,
    COAUTH_TABLE_VERSION,
    SEQUENCE_NUMBER,
    ITEM_VERSION,
    MAX_EXPECTED_SIZE,
    SIZE,
    EDITORS,
    SUGGESTED_TARGET,
    RELATIVE_TARGET,
    OVERWRITE_RELATIVE_TARGET,
    VALID_RELATIVE_TARGET,
    REQUESTED_NAME,
    INVALID_FILE_NAME_ERROR,
    INVALID_CONTAINER_NAME_ERROR,
    URL_TYPE,
    FILE_EXTENSION_FILTER_LIST,
    HOST_NATIVE_FILE_NAME,
    WOPI_SRC,
    PROOF,
    PROOF_OLD,
    TIMESTAMP,
    SERVER_ERROR,
    CORRELATION_ID,
    SESSION_ID,
    SESSION_CONTEXT,
    COOL_IS_AUTOSAVE,
    LOOL_IS_AUTOSAVE,
    COOL_IS_EXIT_SAVE,
    LOOL_IS_EXIT_SAVE,
    COOL_IS_MODIFIED_BY_USER,
    LOOL_IS_MODIFIED_BY_USER,
    COOL_TIMESTAMP,
    LOOL_TIMESTAMP,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lower_case_token_chars_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for name in ALL {
            assert!(
                name.starts_with("x-wopi-")
                    || name.starts_with("x-cool-wopi-")
                    || name.starts_with("x-lool-wopi-"),
                "{name}"
            );
            // Valid for `HeaderName::from_static`: lower-case letters, digits and `-` only.
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{name}"
            );
            assert!(seen.insert(*name), "{name} listed twice");
        }
    }

    #[test]
    fn spellings_pair_up() {
        for (cool, lool) in [
            (COOL_IS_AUTOSAVE, LOOL_IS_AUTOSAVE),
            (COOL_IS_EXIT_SAVE, LOOL_IS_EXIT_SAVE),
            (COOL_IS_MODIFIED_BY_USER, LOOL_IS_MODIFIED_BY_USER),
            (COOL_TIMESTAMP, LOOL_TIMESTAMP),
        ] {
            assert_eq!(cool.replacen("x-cool-", "x-lool-", 1), lool);
        }
    }
}
