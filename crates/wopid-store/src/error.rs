/// What a storage operation can fail with. Backend causes are kept for the log, never sent to a client.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("blob store I/O error: {0}")]
    Io(#[from] std::io::Error),
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
}

pub(crate) type Result<T, E = StoreError> = std::result::Result<T, E>;
