//! Opening a SQLite connection: a private file, WAL mode, the sync level and the
//! busy timeout.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2;

/// Opens `target` and prepares the connection; `busy_timeout` bounds the wait for the
/// write lock.
pub(super) fn connect(target: &str, busy_timeout: Duration) -> Result<diesel::SqliteConnection, r2d2::Error> {
    create_private_file(target).map_err(|e| {
        r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(format!(
            "cannot create the database file: {e}"
        )))
    })?;
    let mut conn = diesel::SqliteConnection::establish(target).map_err(r2d2::Error::ConnectionError)?;
    // A write answered 2xx survives a power cut: a file database's commits are
    // synced by `WalSync` after the commit (NORMAL), anything else by SQLite in
    // the commit (FULL). A 1 MiB page cache per connection: the OS caches the
    // file too.
    let synchronous = if sqlite_file(target).is_some() { "NORMAL" } else { "FULL" };
    conn.batch_execute(&format!("PRAGMA busy_timeout = {}", busy_timeout.as_millis()))
        .and_then(|()| use_wal(&mut conn, busy_timeout))
        .and_then(|()| {
            conn.batch_execute(&format!(
                "PRAGMA synchronous = {synchronous};
                 PRAGMA foreign_keys = ON;
                 PRAGMA cache_size = -1024;"
            ))
        })
        .map_err(r2d2::Error::QueryError)?;
    Ok(conn)
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
pub(super) fn sqlite_file(target: &str) -> Option<&str> {
    let path = target.split('?').next().unwrap_or(target);
    (!path.is_empty() && path != ":memory:" && !path.starts_with("file:")).then_some(path)
}
