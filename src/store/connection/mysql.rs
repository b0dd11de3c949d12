//! Opening a MySQL or MariaDB connection: UTC, strict mode, the lock, network and
//! statement timeouts.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2;

/// Prepares a new connection: `statement_timeout` bounds every statement and the
/// network waits, `busy_timeout` a wait for a row lock.
pub(super) fn prepare(
    conn: &mut diesel::MysqlConnection,
    statement_timeout: Duration,
    busy_timeout: Duration,
) -> Result<(), r2d2::Error> {
    let seconds = statement_timeout.as_secs().max(1);
    conn.batch_execute(&format!(
        "SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION',
         innodb_lock_wait_timeout = {}, net_read_timeout = {seconds}, net_write_timeout = {seconds}",
        busy_timeout.as_secs().max(1),
    ))
    .map_err(r2d2::Error::QueryError)?;
    // MariaDB bounds every statement; MySQL only its reads.
    if conn.batch_execute(&format!("SET max_statement_time = {seconds}")).is_err() {
        conn.batch_execute(&format!("SET max_execution_time = {}", seconds * 1000)).map_err(r2d2::Error::QueryError)?;
    }
    Ok(())
}
