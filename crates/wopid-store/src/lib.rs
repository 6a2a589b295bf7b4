//! Storage of wopid: a metadata repository and a blob store, two separate axes, each an object-safe
//! trait inside a newtype (`Meta`, `Blobs`) opened from a URL.
//!
//! Backends provide atomic primitives, never policy. A blob `put` is all-or-nothing and durable
//! before it returns; metadata changes that race go through a compare-and-swap on the file's
//! revision, so several wopid processes sharing one database need nothing else to agree.

mod api_store;
mod blob;
mod chunks;
mod deliveries;
mod disk;
mod error;
mod grants;
mod meta;
mod model;
mod postgres;
mod postgres_accounts;
mod postgres_api;
mod postgres_chunks;
mod postgres_deliveries;
mod postgres_grants;
mod postgres_trash;
mod rows;
mod s3;
mod schema;
mod sqlite;
mod sqlite_accounts;
mod sqlite_api;
mod sqlite_chunks;
mod sqlite_deliveries;
mod sqlite_grants;
mod sqlite_trash;
mod transfer;
mod trash;
mod writer;

pub use api_store::ApiStore;
pub use blob::{BlobBackend, BlobStream, Blobs, PutOutcome};
pub use chunks::{
    CONTENT_PREFIX, ChunkRecord, ChunkStore, ContentProp, NewContent, PutContent, StreamChunks,
    content_id, content_key,
};
pub use deliveries::{Delivery, NewDelivery, WebhookQueue};
pub use error::StoreError;
pub use grants::Grants;
pub use meta::{AccountStore, Cas, Meta, MetaBackend, redact_url};
pub use model::*;
pub use transfer::{Col, TABLES, Table, Transfer, Value};
pub use trash::Trash;

/// A fresh random identifier: 22 letters and digits (about 131 bits). Never starts with `-`, so
/// an id is never read as a command-line flag, and it is safe in URLs and file names.
pub fn new_id() -> String {
    use rand::Rng as _;
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(22)
        .map(char::from)
        .collect()
}
