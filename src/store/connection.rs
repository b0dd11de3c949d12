//! The connection enum over every compiled-in backend, the pool that hands it out and
//! `run_db`, the one way async code reaches the database.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::wal_sync::WalSync;
use super::StoreError;

// A build without server backends has no password to hide.
#[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
mod url_secrets;
use url_secrets::UrlSecrets;

/// One database connection; the variant is chosen from the URL's scheme.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(diesel::SqliteConnection),
    #[cfg(feature = "postgres")]
    Postgres(diesel::PgConnection),
    #[cfg(feature = "mysql")]
    Mysql(diesel::MysqlConnection),
}

/// Runs `$body` with `$c` bound to the connection of `$conn`'s own backend.
///
/// Diesel's connection over several backends writes the SQL text of every statement
/// anew on each run and converts every row; on a backend's own connection a statement of
/// fixed shape is prepared once and found again by its type. The statements that run on
/// every request go this way.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::store::DbConnection::Sqlite($c) => $body,
            #[cfg(feature = "postgres")]
            $crate::store::DbConnection::Postgres($c) => $body,
            #[cfg(feature = "mysql")]
            $crate::store::DbConnection::Mysql($c) => $body,
        }
    };
}
pub(crate) use on_backend;

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
    /// driver expects. A plain path is a SQLite file. A server URL whose password is
    /// not plainly delimited is refused (`url_secrets`); no error quotes the URL.
    pub fn from_url(url: &str) -> Result<(Backend, String), String> {
        let scheme = url.split_once(':').map(|(scheme, _)| scheme.to_ascii_lowercase()).unwrap_or_default();
        if matches!(scheme.as_str(), "postgres" | "postgresql" | "mysql" | "mariadb") && !url.contains("://") {
            return Err(format!(
                "the database URL is malformed: write it {scheme}://[user[:password]@]host[:port]/database"
            ));
        }
        let (backend, target) = if let Some(path) = url.strip_prefix("sqlite://") {
            (Backend::Sqlite, path.to_owned())
        } else if let Some(path) = url.strip_prefix("sqlite:") {
            (Backend::Sqlite, path.to_owned())
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            let rest = url.split_once("://").map(|(_, rest)| rest).unwrap_or_default();
            (Backend::Mysql, format!("mysql://{rest}"))
        } else if let Some((scheme, _)) = url.split_once("://") {
            // Only a scheme is named: anything else before `://` could be a password.
            let named = !scheme.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
            return Err(match named {
                true => format!("unsupported database URL scheme '{scheme}://'"),
                false => "the database URL names no supported scheme (sqlite://, postgres://, mysql://)".to_owned(),
            });
        } else {
            (Backend::Sqlite, url.to_owned())
        };
        if target.is_empty() {
            return Err("the database URL names no database".into());
        }
        if backend != Backend::Sqlite {
            url_secrets::check_credentials(url)?;
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
    /// How long SQLite waits for the write lock, and PostgreSQL and MySQL for a row
    /// lock, before giving up (then: 503).
    busy_timeout: Duration,
    /// The longest a statement may run on PostgreSQL and MySQL (also the TCP timeout),
    /// so that a stuck query or a silent server cannot keep a connection.
    statement_timeout: Duration,
    /// Statements run on this pool's connections, for metrics and tests.
    queries: Arc<AtomicU64>,
    /// Taken out of every driver message: libpq quotes a malformed URL whole.
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    secrets: UrlSecrets,
}

impl ConnectionManager {
    /// A driver's failure to connect, with no secret of the URL in its message.
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    fn connect_error(&self, err: diesel::ConnectionError) -> r2d2::Error {
        r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(self.secrets.redact(&err.to_string())))
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        let mut conn = match self.backend {
            Backend::Sqlite => {
                create_private_file(&self.target).map_err(|e| {
                    r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(format!(
                        "cannot create the database file: {e}"
                    )))
                })?;
                let mut conn =
                    diesel::SqliteConnection::establish(&self.target).map_err(r2d2::Error::ConnectionError)?;
                // A write answered 2xx survives a power cut: a file database's commits are
                // synced by `WalSync` after the commit (NORMAL), anything else by SQLite in
                // the commit (FULL). A 1 MiB page cache per connection: the OS caches the
                // file too.
                let synchronous = if sqlite_file(&self.target).is_some() { "NORMAL" } else { "FULL" };
                conn.batch_execute(&format!("PRAGMA busy_timeout = {}", self.busy_timeout.as_millis()))
                    .and_then(|()| use_wal(&mut conn, self.busy_timeout))
                    .and_then(|()| {
                        conn.batch_execute(&format!(
                            "PRAGMA synchronous = {synchronous};
                             PRAGMA foreign_keys = ON;
                             PRAGMA cache_size = -1024;"
                        ))
                    })
                    .map_err(r2d2::Error::QueryError)?;
                DbConnection::Sqlite(conn)
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres => {
                let mut conn = diesel::PgConnection::establish(&self.target).map_err(|e| self.connect_error(e))?;
                conn.batch_execute(&format!(
                    "SET TIME ZONE 'UTC'; SET statement_timeout = {}; SET lock_timeout = {};
                     SET idle_in_transaction_session_timeout = {}",
                    self.statement_timeout.as_millis(),
                    self.busy_timeout.as_millis(),
                    self.statement_timeout.as_millis()
                ))
                .map_err(r2d2::Error::QueryError)?;
                DbConnection::Postgres(conn)
            }
            #[cfg(feature = "mysql")]
            Backend::Mysql => {
                let mut conn = diesel::MysqlConnection::establish(&self.target).map_err(|e| self.connect_error(e))?;
                let seconds = self.statement_timeout.as_secs().max(1);
                conn.batch_execute(&format!(
                    "SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION',
                     innodb_lock_wait_timeout = {}, net_read_timeout = {seconds}, net_write_timeout = {seconds}",
                    self.busy_timeout.as_secs().max(1),
                ))
                .map_err(r2d2::Error::QueryError)?;
                // MariaDB bounds every statement; MySQL only its reads.
                if conn.batch_execute(&format!("SET max_statement_time = {seconds}")).is_err() {
                    conn.batch_execute(&format!("SET max_execution_time = {}", seconds * 1000))
                        .map_err(r2d2::Error::QueryError)?;
                }
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

/// Puts the database in WAL mode (kept in the file: a no-op once done). While another
/// connection switches a new file at the same moment, as the pool's connections do at
/// start-up, SQLite answers "database is locked" at once instead of waiting: try again
/// until `wait` has passed.
fn use_wal(conn: &mut diesel::SqliteConnection, wait: Duration) -> QueryResult<()> {
    let deadline = std::time::Instant::now() + wait;
    loop {
        match conn.batch_execute("PRAGMA journal_mode = WAL") {
            Err(diesel::result::Error::DatabaseError(_, info))
                if info.message().contains("locked") && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(2));
            }
            other => return other,
        }
    }
}

/// The default longest run of one statement on PostgreSQL and MySQL.
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

/// libpq's connect and TCP timeouts, unless the URL sets them: a server that stops
/// answering (a cut cable, a black-holed address) fails the connection instead of
/// holding it for the kernel's default of many minutes.
fn with_tcp_timeouts(url: &str, statement_timeout: Duration) -> String {
    let params = [
        ("connect_timeout", "5".to_owned()),
        ("keepalives", "1".to_owned()),
        ("keepalives_idle", "10".to_owned()),
        ("keepalives_interval", "5".to_owned()),
        ("keepalives_count", "3".to_owned()),
        ("tcp_user_timeout", (statement_timeout.as_millis() + 5000).to_string()),
    ];
    let mut url = url.to_owned();
    for (name, value) in params {
        let present = url
            .split_once('?')
            .is_some_and(|(_, query)| query.split('&').any(|pair| pair.split('=').next() == Some(name)));
        if !present {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&format!("{name}={value}"));
        }
    }
    url
}

/// Creates a new SQLite database file readable by its owner only; SQLite gives its
/// `-wal` and `-shm` files the same mode. An existing file is left as it is.
fn create_private_file(target: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let Some(path) = sqlite_file(target) else {
        return Ok(());
    };
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(err),
    }
}

/// The file of a SQLite target, when it is a plain path (not in memory, not a URI).
fn sqlite_file(target: &str) -> Option<&str> {
    let path = target.split('?').next().unwrap_or(target);
    (!path.is_empty() && path != ":memory:" && !path.starts_with("file:")).then_some(path)
}

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
}

/// Wakes whoever waits for a write to commit (the event relay of this process).
#[derive(Debug, Default)]
pub struct CommitSignal {
    commits: parking_lot::Mutex<u64>,
    rung: parking_lot::Condvar,
}

impl CommitSignal {
    pub fn ring(&self) {
        *self.commits.lock() += 1;
        self.rung.notify_all();
    }

    /// Commits so far.
    pub fn count(&self) -> u64 {
        *self.commits.lock()
    }

    /// Waits until the count passes `seen` or `timeout` passes; returns the count.
    pub fn wait_past(&self, seen: u64, timeout: Duration) -> u64 {
        let mut commits = self.commits.lock();
        if *commits == seen {
            self.rung.wait_for(&mut commits, timeout);
        }
        *commits
    }
}

fn sync_commits(writers: Option<&WriterQueue>) -> Result<(), StoreError> {
    match writers.and_then(|queue| queue.wal.as_ref()) {
        Some(wal) => wal.commit_durably().map_err(|err| {
            tracing::error!(error = %err, "cannot sync the SQLite write-ahead log");
            StoreError::Internal("the write could not be made durable".into())
        }),
        None => Ok(()),
    }
}

/// SQLite's writers of one database in this process.
#[derive(Debug, Clone)]
struct WriterQueue {
    turn: Arc<parking_lot::Mutex<()>>,
    /// The longest a writer waits for its turn.
    wait: Duration,
    /// Syncs commits to a database file (`None` in memory: SQLite syncs, if anything).
    wal: Option<Arc<WalSync>>,
}

/// What a write needs besides its connection: the tenant, who writes (checked again in
/// the transaction) and, on SQLite, the queue of the database's writers.
#[derive(Debug, Clone)]
pub struct WriteScope {
    pub tenant_id: i64,
    pub authority: super::Authority,
    /// The request that writes, for its change records.
    pub request_id: Option<String>,
    writers: Option<WriterQueue>,
    pub(crate) committed: Arc<CommitSignal>,
}

impl WriteScope {
    /// The same scope, for the request `request_id` (`-` stands for none).
    pub fn with_request_id(mut self, request_id: String) -> WriteScope {
        self.request_id = (request_id != "-").then_some(request_id);
        self
    }

    /// SQLite has one writer at a time. Writers of this process take turns here instead
    /// of in SQLite's busy handler, which sleeps in growing steps and lets a late writer
    /// overtake one that waited long (tail latency, needless 503s). The turn passes to
    /// whichever writer is running when it is free, and parking_lot hands it to the
    /// longest waiter at least every half millisecond, so none waits long. `None` on
    /// other backends.
    pub(crate) fn writer_turn(
        &self,
    ) -> Result<Option<parking_lot::ArcMutexGuard<parking_lot::RawMutex, ()>>, StoreError> {
        let Some(queue) = &self.writers else {
            return Ok(None);
        };
        parking_lot::Mutex::try_lock_arc_for(&queue.turn, queue.wait)
            .map(Some)
            .ok_or_else(|| StoreError::Unavailable("no turn to write within the wait".into()))
    }

    /// Returns once the scope's committed writes are on disk (`WalSync`); at once where
    /// the commit itself synced.
    pub(crate) fn commit_durably(&self) -> Result<(), StoreError> {
        sync_commits(self.writers.as_ref())
    }
}

impl DbPool {
    /// Builds the pool without connecting; the first `get` connects.
    pub fn new(url: &str, size: u32, wait: Duration) -> Result<DbPool, String> {
        DbPool::with_statement_timeout(url, size, wait, DEFAULT_STATEMENT_TIMEOUT)
    }

    /// As `new`, with the longest a statement may run on PostgreSQL and MySQL.
    pub fn with_statement_timeout(
        url: &str,
        size: u32,
        wait: Duration,
        statement_timeout: Duration,
    ) -> Result<DbPool, String> {
        let (backend, target) = Backend::from_url(url)?;
        let statement_timeout = statement_timeout.max(Duration::from_secs(1));
        let target = match backend {
            Backend::Postgres => with_tcp_timeouts(&target, statement_timeout),
            _ => target,
        };
        let queries = Arc::new(AtomicU64::new(0));
        let manager = ConnectionManager {
            backend,
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
        Ok(DbPool { pool, manager: dedicated, backend, queries, writers, committed: Arc::default() })
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
    pub fn write_scope(&self, tenant_id: i64, authority: super::Authority) -> WriteScope {
        WriteScope {
            tenant_id,
            authority,
            request_id: None,
            writers: self.writers.clone(),
            committed: self.committed.clone(),
        }
        .with_request_id(crate::telemetry::current_request_id())
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

    /// Brings the schema up to date with the migrations embedded for this backend.
    /// Applies the pending migrations and returns their names, oldest first (empty when
    /// the database was up to date).
    pub fn migrate(&self) -> Result<Vec<String>, String> {
        let mut conn = self.get().map_err(|e| e.to_string())?;
        let applied = match &mut *conn {
            DbConnection::Sqlite(c) => apply_pending(c, SQLITE_MIGRATIONS),
            #[cfg(feature = "postgres")]
            DbConnection::Postgres(c) => apply_pending(c, POSTGRES_MIGRATIONS),
            #[cfg(feature = "mysql")]
            DbConnection::Mysql(c) => apply_pending(c, MYSQL_MIGRATIONS),
        }
        .map_err(|e| format!("migration failed: {e}"))?;
        if !applied.is_empty() {
            tracing::info!(applied = applied.join(","), backend = self.backend.name(), "migrations applied");
        }
        Ok(applied)
    }
}

/// Runs each pending migration in order, as `run_pending_migrations` does, keeping the names.
fn apply_pending<DB: diesel::backend::Backend>(
    conn: &mut impl MigrationHarness<DB>,
    source: EmbeddedMigrations,
) -> diesel::migration::Result<Vec<String>> {
    let pending = conn.pending_migrations(source)?;
    let mut applied = Vec::with_capacity(pending.len());
    for migration in pending {
        conn.run_migration(&migration)?;
        applied.push(migration.name().to_string());
    }
    Ok(applied)
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
