//! The typed request: a `/wopi/...` request parsed once into the operation it asks for, each
//! variant carrying its arguments already read from the headers.
//!
//! Parsing happens in two steps so that every refusal comes at the point the protocol (and
//! wopid's behaviour) puts it:
//!
//! 1. [`Route::parse`] — before the access token is looked at: a path that names no endpoint is
//!    404, a method/override that names no operation is 501.
//! 2. [`Route::into_request`] — after the token, proof and access checks: the arguments. Header
//!    errors decided before the operation's own checks (a malformed lock id, an
//!    `X-WOPI-MaxExpectedSize` that is not a number, an unknown `X-WOPI-UrlType`, a missing
//!    `X-WOPI-HostNativeFileName`) are returned here.
//!
//! Some arguments are refused only after the operation's own checks (write permission, the
//! resource existing, its lock): the target names of PutRelativeFile, CreateChildContainer,
//! CreateChildFile, the requested names of RenameFile and RenameContainer, and the bootstrapper's
//! shortcuts. They are parsed here too, but carried as a [`Deferred`] value that the use case
//! unwraps with `?` at the point the refusal belongs.
//!
//! [`WopiRequest::parse`] does both steps, for callers that do not care about that order.

mod coauth;
mod container;
mod file;

pub use crate::coauth::Presented;
pub use coauth::{CoauthOp, CoauthOperation};
pub use container::{BootstrapOp, ContainerOp, EcosystemOp};
pub use file::{FileOp, PutFile, SaveFlags, SeenModified, lock_user_visible, presented_lock};

use crate::error::ProtoError;
use crate::ids::{ContainerId, FileId};
use crate::op::{Endpoint, Method, Operation};
use crate::wopi_header as h;

/// The headers of a request, looked up by lower-case name (the first value when repeated).
/// wopid implements it for its HTTP header map; tests use a slice of pairs.
pub trait Headers {
    fn get(&self, name: &str) -> Option<&[u8]>;
}

impl<H: Headers + ?Sized> Headers for &H {
    fn get(&self, name: &str) -> Option<&[u8]> {
        (**self).get(name)
    }
}

/// Name/value pairs; names compare case-insensitively, as HTTP's do.
impl Headers for [(&str, &[u8])] {
    fn get(&self, name: &str) -> Option<&[u8]> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// Name/value pairs; names compare case-insensitively, as HTTP's do.
impl Headers for [(String, Vec<u8>)] {
    fn get(&self, name: &str) -> Option<&[u8]> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

/// An argument whose refusal the use case surfaces itself, after its permission, existence and
/// lock checks (see the module documentation).
pub type Deferred<T> = Result<T, ProtoError>;

/// The resource family a request addresses; each has its own token kind and access check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `/wopi/files/ID[/contents|/ancestry|/ecosystem_pointer]`.
    File(FileId),
    /// `/wopi/containers/ID[/…]` and the legacy `/wopi/folders/ID[/children]`.
    Container(ContainerId),
    /// `/wopi/ecosystem[/root_container_pointer]`.
    Ecosystem,
}

/// Step 1: the resource and the operation, known before the access token is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub target: Target,
    /// Never `Operation::Unknown`: that is refused by [`Route::parse`].
    pub operation: Operation,
}

impl Route {
    /// Reads the path below `/wopi/` (as the router decoded it), the method and the selector
    /// headers (`X-WOPI-Override`, `X-WOPI-OldLock`). No endpoint is 404; no operation is 501.
    pub fn parse(
        method: Method,
        rest: &str,
        headers: &(impl Headers + ?Sized),
    ) -> Result<Self, ProtoError> {
        let endpoint = Endpoint::parse(rest).ok_or(ProtoError::NotFound)?;
        let operation = Operation::parse(
            method,
            &endpoint,
            headers.get(h::OVERRIDE),
            headers.get(h::OLD_LOCK).is_some(),
        );
        if let Operation::Unknown(what) = &operation {
            return Err(ProtoError::NotImplemented(format!(
                "unsupported operation: {what}"
            )));
        }
        let target = match &endpoint {
            Endpoint::File(id)
            | Endpoint::FileContents(id)
            | Endpoint::FileAncestry(id)
            | Endpoint::FileEcosystem(id) => {
                Target::File(FileId::parse(id).ok_or(ProtoError::NotFound)?)
            }
            Endpoint::Container(id)
            | Endpoint::ContainerAncestry(id)
            | Endpoint::ContainerChildren(id)
            | Endpoint::ContainerEcosystem(id)
            | Endpoint::Folder(id)
            | Endpoint::FolderChildren(id) => {
                Target::Container(ContainerId::parse(id).ok_or(ProtoError::NotFound)?)
            }
            Endpoint::Ecosystem | Endpoint::EcosystemRootContainer => Target::Ecosystem,
        };
        Ok(Self { target, operation })
    }

    /// Step 2: the operation's arguments. Errors here are the ones decided before the
    /// operation's own permission, existence and lock checks; later ones are carried as
    /// [`Deferred`].
    pub fn into_request(
        self,
        headers: &(impl Headers + ?Sized),
    ) -> Result<WopiRequest, ProtoError> {
        let op = self.operation;
        Ok(match self.target {
            Target::File(id) => WopiRequest::File {
                op: FileOp::parse(&op, headers)?.ok_or_else(|| {
                    ProtoError::NotImplemented(format!("{} is not implemented", op.name()))
                })?,
                id,
            },
            Target::Container(id) => WopiRequest::Container {
                op: ContainerOp::parse(&op, headers)?.ok_or_else(|| not_here(&op))?,
                id,
            },
            Target::Ecosystem => WopiRequest::Ecosystem(
                EcosystemOp::parse(&op, headers)?.ok_or_else(|| not_here(&op))?,
            ),
        })
    }
}

fn not_here(op: &Operation) -> ProtoError {
    ProtoError::NotImplemented(format!("{} is not available on this endpoint", op.name()))
}

/// A `/wopi/...` request with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WopiRequest {
    File { id: FileId, op: FileOp },
    Container { id: ContainerId, op: ContainerOp },
    Ecosystem(EcosystemOp),
}

impl WopiRequest {
    /// Both steps at once: [`Route::parse`] then [`Route::into_request`].
    pub fn parse(
        method: Method,
        rest: &str,
        headers: &(impl Headers + ?Sized),
    ) -> Result<Self, ProtoError> {
        Route::parse(method, rest, headers)?.into_request(headers)
    }

    /// The operation's tag, for logs and metrics.
    pub fn operation(&self) -> Operation {
        match self {
            Self::File { op, .. } => op.operation(),
            Self::Container { op, .. } => op.operation(),
            Self::Ecosystem(op) => op.operation(),
        }
    }

    pub fn target(&self) -> Target {
        match self {
            Self::File { id, .. } => Target::File(id.clone()),
            Self::Container { id, .. } => Target::Container(id.clone()),
            Self::Ecosystem(_) => Target::Ecosystem,
        }
    }
}

#[cfg(test)]
mod tests;
