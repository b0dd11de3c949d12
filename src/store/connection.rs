//! The connection enum over every compiled-in backend, the pool that hands it out and
//! `run_db`, the one way async code reaches the database.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::StoreError;

/// One database connection; the variant is chosen from the URL's scheme.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(diesel::SqliteConnection),
    #[cfg(feature = "postgres")]
    Postgres(diesel::PgConnection),
    #[cfg(feature = "mysql")]
    Mysql(diesel::MysqlConnection),
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
#[cfg(feature = "postgres")]
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
#[cfg(feature = "mysql")]
const MYSQL_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/mysql");

/// The database products spcm speaks to (contract §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    Mysql,
}

impl Backend {
    /// Picks the backend from the URL's scheme and returns it with the string its
    /// driver expects. A plain path is a SQLite file.
    pub fn from_url(url: &str) -> Result<(Backend, String), String> {
        let (backend, target) = if let Some(path) = url.strip_prefix("sqlite://") {
            (Backend::Sqlite, path.to_owned())
        } else if let Some(path) = url.strip_prefix("sqlite:") {
            (Backend::Sqlite, path.to_owned())
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            let rest = url.split_once("://").map(|(_, rest)| rest).unwrap_or_default();
            (Backend::Mysql, format!("mysql://{rest}"))
        } else if url.contains("://") {
            let scheme = url.split("://").next().unwrap_or_default();
            return Err(format!("unsupported database URL scheme '{scheme}://'"));
        } else {
            (Backend::Sqlite, url.to_owned())
        };
        if target.is_empty() {
            return Err("the database URL names no database".into());
        }
        if !backend.compiled_in() {
            return Err(format!(
                "this build has no {} support; rebuild with `--features {}`",
                backend.name(),
                backend.feature()
            ));
        }
        Ok((backend, target))
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
            Backend::Mysql => "MySQL",
        }
    }

    fn feature(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::Mysql => "mysql",
        }
    }

    fn compiled_in(self) -> bool {
        match self {
            Backend::Sqlite => true,
            Backend::Postgres => cfg!(feature = "postgres"),
            Backend::Mysql => cfg!(feature = "mysql"),
        }
    }
}

/// Opens connections of one backend for the pool, and prepares each one.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    backend: Backend,
    target: String,
    /// How long SQLite waits for the write lock before giving up (then: 503).
    busy_timeout: Duration,
    /// Statements run on this pool's connections, for metrics and tests.
    queries: Arc<AtomicU64>,
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        let mut conn = match self.backend {
            Backend::Sqlite => {
                let mut conn =
                    diesel::SqliteConnection::establish(&self.target).map_err(r2d2::Error::ConnectionError)?;
                // WAL + synchronous=FULL: a write answered 2xx survives a power cut. A 1 MiB
                // page cache per connection: the OS caches the file too.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {};
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = FULL;
                     PRAGMA foreign_keys = ON;
                     PRAGMA cache_size = -1024;",
                    self.busy_timeout.as_millis()
                ))
                .map_err(r2d2::Error::QueryError)?;
                DbConnection::Sqlite(conn)
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres => {
                let mut conn = diesel::PgConnection::establish(&self.target).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute("SET TIME ZONE 'UTC'").map_err(r2d2::Error::QueryError)?;
                DbConnection::Postgres(conn)
            }
            #[cfg(feature = "mysql")]
            Backend::Mysql => {
                let mut conn =
                    diesel::MysqlConnection::establish(&self.target).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute("SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'")
                    .map_err(r2d2::Error::QueryError)?;
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

/// The pool of connections, shared by every worker.
#[derive(Clone)]
pub struct DbPool {
    pool: r2d2::Pool<ConnectionManager>,
    /// The pool's own manager, for connections that live outside the pool.
    manager: ConnectionManager,
    backend: Backend,
    queries: Arc<AtomicU64>,
    /// SQLite only: the queue of this database's writers (see `writer_turn`).
    writers: Option<WriterQueue>,
}

type WriterQueue = (Arc<parking_lot::Mutex<()>>, Duration);

thread_local! {
    /// The writer queue of the pool whose connection this thread is using, set by `run_db`.
    static WRITERS: std::cell::RefCell<Option<WriterQueue>> = const { std::cell::RefCell::new(None) };
}

/// SQLite has one writer at a time. Writers of this process take turns here, first come
/// first served, instead of in SQLite's busy handler, which sleeps in growing steps and
/// lets a late writer overtake one that waited long (tail latency, needless 503s).
/// `None` on other backends and outside `run_db` (the CLI), where the busy timeout rules.
pub(crate) fn writer_turn() -> Result<Option<parking_lot::ArcMutexGuard<parking_lot::RawMutex, ()>>, StoreError> {
    let Some((queue, wait)) = WRITERS.with(|w| w.borrow().clone()) else {
        return Ok(None);
    };
    parking_lot::Mutex::try_lock_arc_for(&queue, wait)
        .map(Some)
        .ok_or_else(|| StoreError::Unavailable("no turn to write within the wait".into()))
}

/// Clears the thread's writer queue when the database call ends, even by a panic.
struct WritersSet;

impl WritersSet {
    fn enter(queue: Option<WriterQueue>) -> WritersSet {
        WRITERS.with(|w| *w.borrow_mut() = queue);
        WritersSet
    }
}

impl Drop for WritersSet {
    fn drop(&mut self) {
        WRITERS.with(|w| *w.borrow_mut() = None);
    }
}

impl DbPool {
    /// Builds the pool without connecting; the first `get` connects.
    pub fn new(url: &str, size: u32, wait: Duration) -> Result<DbPool, String> {
        let (backend, target) = Backend::from_url(url)?;
        let queries = Arc::new(AtomicU64::new(0));
        let manager = ConnectionManager {
            backend,
            target,
            busy_timeout: wait.max(Duration::from_millis(100)),
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
        let writers = (backend == Backend::Sqlite).then(|| (Arc::new(parking_lot::Mutex::new(())), wait));
        Ok(DbPool { pool, manager: dedicated, backend, queries, writers })
    }

    pub fn backend(&self) -> Backend {
        self.backend
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

    /// Statements run so far on this pool's connections.
    pub fn queries(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }

    /// Connections open, and of those idle.
    pub fn state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }

    /// Brings the schema up to date with the migrations embedded for this backend.
    pub fn migrate(&self) -> Result<(), String> {
        let mut conn = self.get().map_err(|e| e.to_string())?;
        let applied = match &mut *conn {
            DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
            #[cfg(feature = "postgres")]
            DbConnection::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()),
            #[cfg(feature = "mysql")]
            DbConnection::Mysql(c) => c.run_pending_migrations(MYSQL_MIGRATIONS).map(|v| v.len()),
        }
        .map_err(|e| format!("migration failed: {e}"))?;
        if applied > 0 {
            tracing::info!(applied, backend = self.backend.name(), "migrations applied");
        }
        Ok(())
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
    let (pool, writers) = (pool.pool.clone(), pool.writers.clone());
    let joined = actix_web::rt::task::spawn_blocking(move || {
        let _writers = WritersSet::enter(writers);
        let mut conn = pool.get().map_err(StoreError::from)?;
        f(&mut conn)
    })
    .await;
    match joined {
        Ok(result) => result,
        Err(_) => Err(StoreError::Internal("database task panicked".into()).into()),
    }
}
