//! The database layer: one connection type over every backend, the pool, and the
//! queries. Nothing here knows about HTTP.

pub mod catalogue;
mod connection;
mod error;
pub mod profiles;
pub mod schema;
pub mod tenants;
pub mod tokens;
pub mod users;
pub mod versions;

pub use connection::{run_db, Backend, DbConnection, DbPool};
pub use error::StoreError;
pub use versions::VersionChecker;

use std::time::Duration;

use diesel::prelude::*;

/// Tries of a write transaction that hit a deadlock or serialization failure.
const WRITE_ATTEMPTS: u32 = 4;

/// An error that may say "try the transaction again".
pub trait Transient {
    fn is_transient(&self) -> bool;
}

impl Transient for StoreError {
    fn is_transient(&self) -> bool {
        matches!(self, StoreError::Transient(_))
    }
}

/// Runs `body` in a transaction holding the tenant's write lock (`lock_tenant`),
/// retrying a bounded number of times when the database reports a transient conflict.
/// After the last try the transient error is returned (the API answers 503).
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, tenant_id: i64, mut body: F) -> Result<T, E>
where
    F: FnMut(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error> + From<StoreError> + Transient,
{
    let mut attempt = 1;
    loop {
        let turn = connection::writer_turn()?;
        let result = conn.transaction(|conn| {
            lock_tenant(conn, tenant_id)?;
            body(conn)
        });
        if let Some(turn) = turn {
            parking_lot::ArcMutexGuard::unlock_fair(turn);
        }
        match result {
            Err(err) if err.is_transient() && attempt < WRITE_ATTEMPTS => {
                tracing::debug!(attempt, "transient conflict; retrying the transaction");
                std::thread::sleep(Duration::from_millis(5 << attempt));
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Takes the tenant's write lock for the rest of the transaction and raises the
/// tenant's version.
///
/// Every write of a tenant's data starts with this update: on PostgreSQL and MySQL it
/// row-locks the tenant, on SQLite it takes the database's write lock before anything is
/// read. Writes of one tenant therefore run one after another, which is what keeps the
/// default-profile rule true under concurrent requests (contract §2). The new version
/// commits with the write, so a reader that finds the version it saw before knows that
/// nothing of the tenant changed (`versions`).
pub fn lock_tenant(conn: &mut DbConnection, tenant_id: i64) -> QueryResult<()> {
    use schema::tenants::dsl as t;
    diesel::update(t::tenants.filter(t::id.eq(tenant_id))).set(t::version.eq(t::version + 1)).execute(conn).map(|_| ())
}
