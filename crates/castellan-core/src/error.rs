//! Semantic errors of the use cases. Only the binary's `http/error.rs` turns them into
//! status codes and bodies.

use crate::store::StoreError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A referenced record does not exist; `kind` names the collection.
    #[error("{kind} not found")]
    NotFound { kind: &'static str },
    /// The change would break a uniqueness or reference rule.
    #[error("{0}")]
    Conflict(String),
    /// The request is well-formed but its content is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// A search or filter string (`q`) that cannot be read; the text says why.
    #[error("{0}")]
    InvalidQuery(String),
    /// A password the connection's policy refuses; the text says what it lacks.
    #[error("{0}")]
    WeakPassword(String),
    /// The request is understood and allowed by its scopes, but would lock the operator
    /// out; the text says what to do instead.
    #[error("{0}")]
    Forbidden(String),
    /// The store cannot be reached, or the password hasher's queue is full; the request
    /// may succeed later.
    #[error("storage unavailable")]
    Unavailable,
    /// Anything else: the cause goes to the log, never to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Error::NotFound { kind: "record" },
            StoreError::Conflict(what) => Error::Conflict(what),
            StoreError::Unavailable(_) => Error::Unavailable,
            StoreError::Invalid(what) => Error::Invalid(what),
            StoreError::Other(cause) => Error::Internal(cause),
        }
    }
}
