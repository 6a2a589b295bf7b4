/// What a storage operation can fail with. Backend causes are kept for the log, never sent to a client.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database error: {0}")]
    Sqlite(std::sync::Arc<rusqlite::Error>),
    /// The engine's writer has stopped (the engine is shutting down).
    #[error("the database writer has stopped")]
    WriterStopped,
    #[error("blob store I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("object store error: {0}")]
    ObjectStore(Box<object_store::Error>),
    #[error("blob not found: {0}")]
    BlobNotFound(String),
    #[error("upload larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the request body failed: {0}")]
    Body(std::io::Error),
    #[error("unsupported storage URL: {0}")]
    BadUrl(String),
    #[error("{0}")]
    Invalid(&'static str),
    /// A version commit named a content the chunk collector had freed: cut and record it again.
    #[error("the content was collected before its version was committed")]
    ContentGone,
}

impl StoreError {
    /// Whether the backend is unreachable, restarting or overloaded: a failure worth retrying
    /// later (503), as opposed to a bug or a misconfiguration.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Db(e) => match e {
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed => true,
                // SQLSTATE classes 08 (connection exception), 53 (insufficient resources),
                // 57P (operator intervention: shutdown, cannot connect now), and 57014 (a
                // statement timeout).
                sqlx::Error::Database(d) => d.code().is_some_and(|c| {
                    c.starts_with("08") || c.starts_with("53") || c.starts_with("57")
                }),
                _ => false,
            },
            StoreError::Sqlite(e) => matches!(
                e.sqlite_error_code(),
                Some(
                    rusqlite::ErrorCode::DatabaseBusy
                        | rusqlite::ErrorCode::DatabaseLocked
                        | rusqlite::ErrorCode::SystemIoFailure
                        | rusqlite::ErrorCode::DiskFull
                        | rusqlite::ErrorCode::CannotOpen
                        | rusqlite::ErrorCode::OutOfMemory
                )
            ),
            StoreError::WriterStopped | StoreError::ContentGone => true,
            StoreError::ObjectStore(e) => !matches!(
                **e,
                object_store::Error::NotFound { .. }
                    | object_store::Error::InvalidPath { .. }
                    | object_store::Error::NotSupported { .. }
                    | object_store::Error::NotImplemented
            ),
            _ => false,
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(std::sync::Arc::new(e))
    }
}

pub(crate) type Result<T, E = StoreError> = std::result::Result<T, E>;
