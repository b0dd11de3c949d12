use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// What can go wrong below the domain, sorted by how the API answers it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection within the pool's wait, a lost connection or a lock held too long:
    /// the contract's 503.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A deadlock, serialization failure or lock wait timeout: worth another try.
    #[error("transient database conflict: {0}")]
    Transient(String),
    /// A unique constraint refused the write.
    #[error("unique constraint violated: {0}")]
    UniqueViolation(String),
    /// Anything else: the contract's 500.
    /// The cause is the source, so that `cause_chain` names it once.
    #[error("database error")]
    Database(#[source] DieselError),
    /// The writer lost its right to write while its request was arriving (contract §1.1).
    #[error("the caller may no longer write")]
    Unauthorized,
    /// A rule of who may act on whom refused the write (contract §1.2); nothing was written.
    #[error("{0}")]
    Denied(crate::domain::authority::Denied),
    /// A failure around the database call itself (a panicked task).
    #[error("{0}")]
    Internal(String),
}

impl StoreError {
    /// The database could not serve the request in time: the API answers 503.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::Transient(_))
    }

    /// The error with its source, for the log line of a 500.
    pub fn cause_chain(&self) -> String {
        match std::error::Error::source(self) {
            Some(source) => format!("{self}: {source}"),
            None => self.to_string(),
        }
    }

    /// A short reason that is safe to show a client: no SQL, no values.
    pub fn public_reason(&self) -> &'static str {
        match self {
            StoreError::Unavailable(_) | StoreError::Transient(_) => "database unavailable",
            StoreError::UniqueViolation(_) => "unique constraint violated",
            StoreError::Database(_) | StoreError::Internal(_) => "database error",
            StoreError::Unauthorized => "unauthorised",
            StoreError::Denied(_) => "forbidden",
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
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, info) => {
                StoreError::Transient(info.message().to_owned())
            }
            DieselError::DatabaseError(_, info) if is_transient(info.message()) => {
                StoreError::Transient(info.message().to_owned())
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

/// PostgreSQL's deadlock (40P01) and lock timeout (55P03) and MySQL's lock wait timeout
/// (1205) have no kind of their own.
fn is_transient(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("deadlock")
        || m.contains("lock wait timeout")
        || m.contains("lock timeout")
        || m.contains("could not serialize")
}

/// SQLite's busy timeout ran out, or a server closed the connection under us.
fn is_busy(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("database is locked")
        || m.contains("database is busy")
        || m.contains("server closed the connection")
        || m.contains("server has gone away")
        || m.contains("lost connection")
        // A statement cut by the statement timeout (PostgreSQL 57014, MariaDB 1969,
        // MySQL 3024): the database did not answer in time.
        || m.contains("statement timeout")
        || m.contains("max_statement_time")
        || m.contains("maximum statement execution time")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_conflicts_are_transient_and_busy_databases_unavailable() {
        assert!(is_transient("deadlock detected"));
        assert!(is_transient("Lock wait timeout exceeded; try restarting transaction"));
        assert!(is_transient("could not serialize access due to concurrent update"));
        assert!(is_transient("canceling statement due to lock timeout"));
        assert!(!is_transient("syntax error"));
        assert!(is_busy("canceling statement due to statement timeout"));
        assert!(is_busy("Query execution was interrupted (max_statement_time exceeded)"));
        assert!(is_busy("database is locked"));
        assert!(is_busy("MySQL server has gone away"));
    }
}
