use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// What can go wrong below the domain, sorted by how the API answers it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection within the pool's wait, a lost connection or a lock held too long:
    /// the contract's 503.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A unique constraint refused the write.
    #[error("unique constraint violated: {0}")]
    UniqueViolation(String),
    /// Anything else: the contract's 500.
    #[error("database error: {0}")]
    Database(#[source] DieselError),
    /// A failure around the database call itself (a panicked task).
    #[error("{0}")]
    Internal(String),
}

impl StoreError {
    /// A short reason that is safe to show a client: no SQL, no values.
    pub fn public_reason(&self) -> &'static str {
        match self {
            StoreError::Unavailable(_) => "database unavailable",
            StoreError::UniqueViolation(_) => "unique constraint violated",
            StoreError::Database(_) | StoreError::Internal(_) => "database error",
        }
    }
}

impl From<DieselError> for StoreError {
    fn from(err: DieselError) -> Self {
        match &err {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                StoreError::UniqueViolation(info.constraint_name().unwrap_or("").to_owned())
            }
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                StoreError::Unavailable("connection closed".into())
            }
            DieselError::DatabaseError(_, info) if is_busy(info.message()) => {
                StoreError::Unavailable(info.message().to_owned())
            }
            _ => StoreError::Database(err),
        }
    }
}

impl From<diesel::r2d2::PoolError> for StoreError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        StoreError::Unavailable(err.to_string())
    }
}

/// SQLite's busy timeout ran out, or a server closed the connection under us.
fn is_busy(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("database is locked")
        || m.contains("database is busy")
        || m.contains("server closed the connection")
        || m.contains("server has gone away")
        || m.contains("lost connection")
}
