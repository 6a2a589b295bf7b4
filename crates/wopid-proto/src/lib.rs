//! The WOPI protocol as wopid implements it: pure rules, no I/O, no clock.
//!
//! Everything the specification decides lives here so that it can be table-tested and
//! property-tested in isolation: endpoints and operations, typed headers, lock decisions, name
//! rules, UTF-7, JSON bodies and the errors with their status codes and headers.

pub mod action_url;
pub mod body;
pub mod chunked;
pub mod chunking;
pub mod coauth;
pub mod containers;
pub mod cspp;
pub mod discovery;
pub mod error;
pub mod frame;
pub mod headers;
pub mod ids;
pub mod instant;
pub mod lock;
pub mod names;
pub mod op;
pub mod proof;
pub mod request;
#[cfg(test)]
mod schema;
pub mod spooky;
pub mod utf7;
pub mod wopi_header;

pub use error::ProtoError;
pub use ids::{ContainerId, FileId, UserId};
pub use instant::Millis;
pub use lock::{Conflict, LockId, LockMatch, LockOutcome, LockRequest, StoredLock};
pub use op::{Endpoint, Method, Operation};
pub use request::{Headers, Route, Target, WopiRequest};
