//! The pool's connection manager: opens a connection of the chosen backend, prepares
//! it, and counts its statements.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};

#[cfg(any(feature = "postgres", feature = "mysql"))]
use super::url_secrets::UrlSecrets;
use super::{sqlite, Backend, DbConnection};

/// Opens connections of one backend for the pool, and prepares each one.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    pub(super) backend: Backend,
    pub(super) target: String,
    /// How long SQLite waits for the write lock, and PostgreSQL and MySQL for a row
    /// lock, before giving up (then: 503).
    pub(super) busy_timeout: Duration,
    /// The longest a statement may run on PostgreSQL and MySQL (also the TCP timeout),
    /// so that a stuck query or a silent server cannot keep a connection.
    pub(super) statement_timeout: Duration,
    /// Statements run on this pool's connections, for metrics and tests.
    pub(super) queries: Arc<AtomicU64>,
    /// Taken out of every driver message: libpq quotes a malformed URL whole.
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    pub(super) secrets: UrlSecrets,
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
impl ConnectionManager {
    /// A driver's failure to connect, with no secret of the URL in its message.
    fn connect_error(&self, err: diesel::ConnectionError) -> r2d2::Error {
        r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(self.secrets.redact(&err.to_string())))
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        let mut conn = match self.backend {
            Backend::Sqlite => DbConnection::Sqlite(sqlite::connect(&self.target, self.busy_timeout)?),
            #[cfg(feature = "postgres")]
            Backend::Postgres => {
                let mut conn = diesel::PgConnection::establish(&self.target).map_err(|e| self.connect_error(e))?;
                super::postgres::prepare(&mut conn, self.statement_timeout, self.busy_timeout)?;
                DbConnection::Postgres(conn)
            }
            #[cfg(feature = "mysql")]
            Backend::Mysql => {
                let mut conn = diesel::MysqlConnection::establish(&self.target).map_err(|e| self.connect_error(e))?;
                super::mysql::prepare(&mut conn, self.statement_timeout, self.busy_timeout)?;
                DbConnection::Mysql(conn)
            }
            #[allow(unreachable_patterns)]
            other => {
                return Err(r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(format!(
                    "no {} support in this build",
                    other.name()
                ))))
            }
        };
        let queries = self.queries.clone();
        conn.set_instrumentation(move |event: diesel::connection::InstrumentationEvent<'_>| {
            if let diesel::connection::InstrumentationEvent::StartQuery { .. } = event {
                queries.fetch_add(1, Ordering::Relaxed);
            }
        });
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}
