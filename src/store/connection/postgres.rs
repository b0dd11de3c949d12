//! Opening a PostgreSQL connection: UTC, the statement and lock timeouts, and libpq's
//! TCP timeouts.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2;

/// Prepares a new connection: `statement_timeout` bounds every statement and an idle
/// transaction, `busy_timeout` a wait for a row lock.
pub(super) fn prepare(
    conn: &mut diesel::PgConnection,
    statement_timeout: Duration,
    busy_timeout: Duration,
) -> Result<(), r2d2::Error> {
    conn.batch_execute(&format!(
        "SET TIME ZONE 'UTC'; SET statement_timeout = {}; SET lock_timeout = {};
         SET idle_in_transaction_session_timeout = {}",
        statement_timeout.as_millis(),
        busy_timeout.as_millis(),
        statement_timeout.as_millis()
    ))
    .map_err(r2d2::Error::QueryError)
}

/// libpq's connect and TCP timeouts, unless the URL sets them: a server that stops
/// answering (a cut cable, a black-holed address) fails the connection instead of
/// holding it for the kernel's default of many minutes.
pub(super) fn with_tcp_timeouts(url: &str, statement_timeout: Duration) -> String {
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
