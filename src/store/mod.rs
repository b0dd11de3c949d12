//! The database layer: one connection type over every backend, the pool, and the
//! queries. Nothing here knows about HTTP.

pub mod catalogue;
pub mod changes;
mod connection;
pub mod console_sessions;
mod error;
pub mod idempotency;
pub mod profiles;
pub mod schema;
pub mod tenants;
pub mod tokens;
pub mod users;
pub mod versions;
mod wal_index;
mod wal_sync;

pub(crate) use connection::on_backend;
pub use connection::{
    run_db, Backend, CommitSignal, DatabaseUrlError, DbConnection, DbPool, MigrationError, WriteScope,
};
pub use error::StoreError;
pub use versions::VersionChecker;

use std::time::Duration;

use diesel::prelude::*;

use crate::domain::authority::TokenStatus;
use crate::domain::{Permission, PermissionSet};

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

/// Who is writing. It is checked again inside the write's transaction, after the
/// tenant's lock is taken, so that a user removed, a password changed or a token revoked
/// while the request's body was arriving writes nothing (contract §1.1).
#[derive(Debug, Clone)]
pub enum Authority {
    /// The command line, run by whoever may open the database.
    Cli,
    /// A user of the SPCM face: still there, with the hash its password was verified
    /// against, and still holding `permission`.
    User { user_id: i64, username: String, password_hash: String, permission: Permission },
    /// A bearer token of the catalogue face: still neither revoked nor expired, and
    /// still holding `permission`.
    Token { token_id: i64, permission: Permission },
}

/// `Ok` when `authority` may still write to the scope's tenant; `StoreError::Unauthorized` otherwise.
fn check_authority(conn: &mut DbConnection, tenant_id: i64, authority: &Authority) -> Result<(), StoreError> {
    let allowed = match authority {
        Authority::Cli => true,
        Authority::User { user_id, password_hash, permission, .. } => {
            use schema::users::dsl as u;
            let query = u::users
                .filter(u::id.eq(user_id))
                .filter(u::tenant_id.eq(tenant_id))
                .select((u::password_hash, u::permissions));
            let row: Option<(String, String)> = on_backend!(conn, |c| query.first(c).optional())?;
            row.is_some_and(|(hash, stored)| {
                hash == *password_hash && PermissionSet::parse_stored(&stored).contains(*permission)
            })
        }
        Authority::Token { token_id, permission } => {
            use schema::api_tokens::dsl as k;
            let row: Option<(String, Option<i64>, bool)> = k::api_tokens
                .filter(k::id.eq(token_id))
                .filter(k::tenant_id.eq(tenant_id))
                .select((k::permissions, k::expires_at, k::revoked))
                .first(conn)
                .optional()?;
            // A clock before 1970 counts every token as expired.
            let now = crate::clock::unix_secs().unwrap_or(i64::MAX);
            row.is_some_and(|(stored, expires_at, revoked)| {
                TokenStatus::of(revoked, expires_at, now).is_active()
                    && PermissionSet::parse_stored(&stored).contains(*permission)
            })
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(StoreError::Unauthorized)
    }
}

/// Runs `body` in a transaction holding the tenant's write lock (`lock_tenant`), after
/// checking that the scope's authority may still write, retrying a bounded number of
/// times when the database reports a transient conflict. After the last try the
/// transient error is returned (the API answers 503).
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, scope: &WriteScope, mut body: F) -> Result<T, E>
where
    F: FnMut(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error> + From<StoreError> + Transient,
{
    retrying_transient(|| {
        let turn = scope.writer_turn()?;
        let result = conn.transaction(|conn| {
            lock_tenant(conn, scope.tenant_id)?;
            check_authority(conn, scope.tenant_id, &scope.authority)?;
            body(conn)
        });
        drop(turn);
        let result = match result {
            Ok(value) => scope.commit_durably().map(|()| value).map_err(E::from),
            Err(err) => Err(err),
        };
        if result.is_ok() {
            scope.committed.ring();
        }
        result
    })
}

/// Runs `attempt` again, a bounded number of times with a short pause, while it fails
/// with a transient conflict (a deadlock, a serialization failure, a lock wait timeout);
/// after the last try its error is returned (the API answers 503).
pub(crate) fn retrying_transient<T, E: Transient>(mut attempt: impl FnMut() -> Result<T, E>) -> Result<T, E> {
    let mut tries = 1;
    loop {
        match attempt() {
            Err(err) if err.is_transient() && tries < WRITE_ATTEMPTS => {
                tracing::debug!(attempt = tries, "transient conflict; retrying the transaction");
                std::thread::sleep(Duration::from_millis(5 << tries));
                tries += 1;
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
    let raise = diesel::update(t::tenants.filter(t::id.eq(tenant_id))).set(t::version.eq(t::version + 1));
    on_backend!(conn, |c| raise.execute(c)).map(|_| ())
}
