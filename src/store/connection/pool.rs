//! The pool of connections and `run_db`, the one way async code reaches the database.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::r2d2::{self, ManageConnection};

use super::manager::ConnectionManager;
use super::sqlite::sqlite_file;
#[cfg(any(feature = "postgres", feature = "mysql"))]
use super::url_secrets::UrlSecrets;
use super::writer::{sync_commits, CommitSignal, WriteScope, WriterQueue};
use super::{Backend, DatabaseUrlError, DbConnection};
use crate::store::wal_sync::WalSync;
use crate::store::{Authority, StoreError};

/// The default longest run of one statement on PostgreSQL and MySQL.
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

/// The pool of connections, shared by every worker.
#[derive(Clone)]
pub struct DbPool {
    pool: r2d2::Pool<ConnectionManager>,
    /// The pool's own manager, for connections that live outside the pool.
    manager: ConnectionManager,
    backend: Backend,
    queries: Arc<AtomicU64>,
    /// SQLite only: the queue of this database's writers (see `WriteScope::writer_turn`).
    writers: Option<WriterQueue>,
    /// Rung after every committed write, so that the event relay need not poll.
    committed: Arc<CommitSignal>,
    /// The id of the request being served (`-` outside one), for the change records
    /// of the writes it makes; the server sets it, the store knows no requests.
    request_id: Option<fn() -> String>,
}

impl std::fmt::Debug for DbPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbPool").field("backend", &self.backend()).finish()
    }
}

impl DbPool {
    /// Builds the pool without connecting; the first `get` connects.
    pub fn new(url: &str, size: u32, wait: Duration) -> Result<DbPool, DatabaseUrlError> {
        DbPool::with_statement_timeout(url, size, wait, DEFAULT_STATEMENT_TIMEOUT)
    }

    /// As `new`, with the longest a statement may run on PostgreSQL and MySQL.
    pub fn with_statement_timeout(
        url: &str,
        size: u32,
        wait: Duration,
        statement_timeout: Duration,
    ) -> Result<DbPool, DatabaseUrlError> {
        let (backend, target) = Backend::from_url(url)?;
        let statement_timeout = statement_timeout.max(Duration::from_secs(1));
        let target = match backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres => super::postgres::with_tcp_timeouts(&target, statement_timeout),
            _ => target,
        };
        let queries = Arc::new(AtomicU64::new(0));
        let manager = ConnectionManager {
            backend,
            #[cfg(any(feature = "postgres", feature = "mysql"))]
            secrets: UrlSecrets::of(&target),
            target,
            busy_timeout: wait.max(Duration::from_millis(100)),
            statement_timeout,
            queries: queries.clone(),
        };
        let dedicated = manager.clone();
        let pool = r2d2::Pool::builder()
            .max_size(size.max(1))
            .min_idle(Some(1))
            .connection_timeout(wait)
            // A network backend can drop a connection between two requests.
            .test_on_check_out(backend != Backend::Sqlite)
            .build_unchecked(manager);
        let writers = (backend == Backend::Sqlite).then(|| WriterQueue {
            turn: Arc::new(parking_lot::Mutex::new(())),
            wait,
            wal: sqlite_file(&dedicated.target).map(|file| Arc::new(WalSync::new(file))),
        });
        Ok(DbPool { pool, manager: dedicated, backend, queries, writers, committed: Arc::default(), request_id: None })
    }

    /// The same pool, whose write scopes carry the id that `current` names: that of
    /// the request being served, `-` outside one.
    pub fn with_request_ids(mut self, current: fn() -> String) -> DbPool {
        self.request_id = Some(current);
        self
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The database file, on SQLite with a plain path.
    pub fn sqlite_file(&self) -> Option<&std::path::Path> {
        (self.backend == Backend::Sqlite).then(|| sqlite_file(&self.manager.target)).flatten().map(std::path::Path::new)
    }

    /// The scope of a write to `tenant_id` by `authority`, through this pool's writer
    /// queue. Built while serving a request, it carries the request's id.
    pub fn write_scope(&self, tenant_id: i64, authority: Authority) -> WriteScope {
        let scope = WriteScope {
            tenant_id,
            authority,
            request_id: None,
            writers: self.writers.clone(),
            committed: self.committed.clone(),
        };
        match self.request_id {
            Some(current) => scope.with_request_id(current()),
            None => scope,
        }
    }

    /// Rung after every write of this pool's scopes commits.
    pub fn commits(&self) -> Arc<CommitSignal> {
        self.committed.clone()
    }

    /// A connection for synchronous code (the CLI, start-up). Async code uses `run_db`.
    pub fn get(&self) -> Result<r2d2::PooledConnection<ConnectionManager>, StoreError> {
        self.pool.get().map_err(StoreError::from)
    }

    /// A connection of its own for a long-lived thread, prepared as the pool's are and
    /// counted in `queries`. Blocking.
    pub fn connect_dedicated(&self) -> Result<DbConnection, StoreError> {
        self.manager.connect().map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// How long a request waits for a connection before it is answered 503.
    pub fn wait(&self) -> Duration {
        self.pool.connection_timeout()
    }

    /// Returns once every write committed through this pool is on disk. Writes through
    /// a `WriteScope` do this themselves; a write outside one calls it after its commit
    /// and before it is reported done. Blocking.
    pub fn commit_durably(&self) -> Result<(), StoreError> {
        sync_commits(self.writers.as_ref())
    }

    /// Syncs of the SQLite write-ahead log run for this pool's writes (`WalSync`);
    /// `None` where commits sync themselves.
    pub fn wal_syncs(&self) -> Option<u64> {
        self.writers.as_ref()?.wal.as_ref().map(|wal| wal.syncs().get())
    }

    /// Statements run so far on this pool's connections.
    pub fn queries(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }

    /// Connections open, and of those idle.
    pub fn state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }
}

/// Runs `f` with a pooled connection on the blocking thread pool, never on the async
/// executor. The pool's wait bounds how long a request can queue here.
pub async fn run_db<T, E, F>(pool: &DbPool, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    let pool = pool.pool.clone();
    let queued = std::time::Instant::now();
    let joined = actix_web::rt::task::spawn_blocking(move || {
        // The wait for a blocking thread counts against the pool's wait: a request
        // never queues longer than that in all.
        let remaining = pool.connection_timeout().saturating_sub(queued.elapsed());
        if remaining.is_zero() {
            return Err(StoreError::Unavailable("no blocking thread within the wait".into()).into());
        }
        let mut conn = pool.get_timeout(remaining).map_err(StoreError::from)?;
        f(&mut conn)
    })
    .await;
    match joined {
        Ok(result) => result,
        Err(_) => Err(StoreError::Internal("database task panicked".into()).into()),
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    use super::*;

    /// A connection opened while another holds a new file's write lock, before the file
    /// is in WAL mode, waits for it and comes up in WAL mode: SQLite itself answers
    /// "database is locked" at once there, without waiting.
    #[test]
    fn a_connection_opened_during_another_write_waits_and_switches_to_wal() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("new.db");
        let mut other = diesel::SqliteConnection::establish(&path.display().to_string()).expect("open");
        // Its commit may meet the opening connection's read of the file between two of
        // its tries, and then waits for it instead of failing.
        other
            .batch_execute("PRAGMA busy_timeout = 5000; BEGIN IMMEDIATE; CREATE TABLE t (x INTEGER);")
            .expect("the other write");
        let pool = DbPool::new(&format!("sqlite://{}", path.display()), 2, Duration::from_secs(5)).expect("pool");
        let opened = std::thread::scope(|scope| {
            let opening = scope.spawn(|| pool.connect_dedicated());
            // The lock stays held for a while, so that the connection meets it.
            std::thread::sleep(Duration::from_millis(100));
            assert!(!opening.is_finished(), "the connection waits for the lock instead of failing");
            other.batch_execute("COMMIT").expect("commit");
            opening.join().expect("thread")
        });
        let DbConnection::Sqlite(mut conn) = opened.expect("connected") else { unreachable!("a SQLite pool") };
        #[derive(QueryableByName)]
        struct Mode {
            #[diesel(sql_type = diesel::sql_types::Text)]
            journal_mode: String,
        }
        let mode: Mode = diesel::sql_query("PRAGMA journal_mode").get_result(&mut conn).expect("mode");
        assert_eq!(mode.journal_mode, "wal");
    }
}
