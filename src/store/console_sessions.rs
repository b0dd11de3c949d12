//! Sessions of the console (contract §8), stored so that they work across instances and
//! restarts: the SHA-256 of the cookie's secret, never the secret itself.

use diesel::prelude::*;

use super::schema::{console_sessions as s, tenants, users};
use super::{DbConnection, StoreError};

/// A session with its user and tenant as they are now.
#[derive(Debug, Clone, Queryable)]
pub struct SessionRecord {
    pub tenant_id: i64,
    pub user_id: i64,
    pub fingerprint: String,
    pub created_at_ms: i64,
    pub last_seen_at_ms: i64,
    pub tenant_name: String,
    pub username: String,
    pub password_hash: String,
    pub permissions: String,
}

pub fn create(
    conn: &mut DbConnection,
    secret_hash: &str,
    tenant_id: i64,
    user_id: i64,
    fingerprint: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    diesel::insert_into(s::table)
        .values((
            s::secret_hash.eq(secret_hash),
            s::tenant_id.eq(tenant_id),
            s::user_id.eq(user_id),
            s::fingerprint.eq(fingerprint),
            s::created_at_ms.eq(now_ms),
            s::last_seen_at_ms.eq(now_ms),
        ))
        .execute(conn)?;
    Ok(())
}

/// The session whose secret has this digest, with its user's current row; `None` when
/// there is none (or its user is gone).
pub fn find(conn: &mut DbConnection, secret_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
    Ok(s::table
        .inner_join(users::table.on(users::id.eq(s::user_id).and(users::tenant_id.eq(s::tenant_id))))
        .inner_join(tenants::table.on(tenants::id.eq(s::tenant_id)))
        .filter(s::secret_hash.eq(secret_hash))
        .select((
            s::tenant_id,
            s::user_id,
            s::fingerprint,
            s::created_at_ms,
            s::last_seen_at_ms,
            tenants::name,
            users::username,
            users::password_hash,
            users::permissions,
        ))
        .first(conn)
        .optional()?)
}

/// Marks the session used now.
pub fn touch(conn: &mut DbConnection, secret_hash: &str, now_ms: i64) -> Result<(), StoreError> {
    diesel::update(s::table.filter(s::secret_hash.eq(secret_hash))).set(s::last_seen_at_ms.eq(now_ms)).execute(conn)?;
    Ok(())
}

/// Ends the session (sign-out, expiry, a changed user).
pub fn end(conn: &mut DbConnection, secret_hash: &str) -> Result<(), StoreError> {
    diesel::delete(s::table.filter(s::secret_hash.eq(secret_hash))).execute(conn)?;
    Ok(())
}

/// Removes sessions idle since before `idle_cutoff_ms` or started before
/// `absolute_cutoff_ms`; returns how many went.
pub fn prune(conn: &mut DbConnection, idle_cutoff_ms: i64, absolute_cutoff_ms: i64) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        s::table.filter(s::last_seen_at_ms.lt(idle_cutoff_ms).or(s::created_at_ms.lt(absolute_cutoff_ms))),
    )
    .execute(conn)?)
}

/// Sessions of the tenant's users, for tests and operations.
pub fn count(conn: &mut DbConnection, tenant_id: i64) -> Result<i64, StoreError> {
    Ok(s::table.filter(s::tenant_id.eq(tenant_id)).count().get_result(conn)?)
}
