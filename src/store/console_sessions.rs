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

/// A session to start: the digest of its secret, its user, and the fingerprint of the
/// user's row at sign-in.
#[derive(Debug, Clone, Copy)]
pub struct NewSession<'a> {
    pub secret_hash: &'a str,
    pub tenant_id: i64,
    pub user_id: i64,
    pub fingerprint: &'a str,
}

/// Starts a session at `now_ms` and ends the user's oldest sessions beyond `most`
/// (contract §1.1), in one transaction that holds the user's row: sign-ins of one user at
/// the same moment cannot together leave more.
pub fn start(conn: &mut DbConnection, new: NewSession<'_>, most: usize, now_ms: i64) -> Result<(), StoreError> {
    let kept_others = most.saturating_sub(1);
    // A sign-in's session and another's expiry can meet in a deadlock on MySQL's gap
    // locks: tried again, as every write is.
    super::retrying_transient(|| {
        conn.transaction(|conn| {
            lock_user(conn, new.tenant_id, new.user_id)?;
            diesel::insert_into(s::table)
                .values((
                    s::secret_hash.eq(new.secret_hash),
                    s::tenant_id.eq(new.tenant_id),
                    s::user_id.eq(new.user_id),
                    s::fingerprint.eq(new.fingerprint),
                    s::created_at_ms.eq(now_ms),
                    s::last_seen_at_ms.eq(now_ms),
                ))
                .execute(conn)?;
            // The user's other sessions, newest first; one more than are kept tells whether
            // any must end.
            let others: Vec<(String, i64)> = s::table
                .filter(s::user_id.eq(new.user_id))
                .filter(s::secret_hash.ne(new.secret_hash))
                .order((s::created_at_ms.desc(), s::secret_hash.desc()))
                .select((s::secret_hash, s::created_at_ms))
                .limit(kept_others as i64 + 1)
                .load(conn)?;
            // Sign-ins within one millisecond still follow each other: the new session is
            // the newest, so that "the oldest" is always one session.
            if let Some(&(_, newest)) = others.first().filter(|(_, created)| *created >= now_ms) {
                diesel::update(s::table.filter(s::secret_hash.eq(new.secret_hash)))
                    .set((s::created_at_ms.eq(newest + 1), s::last_seen_at_ms.eq(newest + 1)))
                    .execute(conn)?;
            }
            if others.len() > kept_others {
                let kept: Vec<&str> = others.iter().take(kept_others).map(|(hash, _)| hash.as_str()).collect();
                diesel::delete(
                    s::table
                        .filter(s::user_id.eq(new.user_id))
                        .filter(s::secret_hash.ne(new.secret_hash))
                        .filter(s::secret_hash.ne_all(kept)),
                )
                .execute(conn)?;
            }
            Ok(())
        })
    })
}

/// Holds the user's row until the transaction ends, so that one user's sign-ins start
/// their sessions one after another. On MySQL the tenant's row is share-locked first, as
/// every write takes the tenant before its users (`lock_tenant`): the session's foreign
/// key would take it anyway, and in the other order a user's removal could deadlock with
/// its sign-in. On SQLite the insert that follows takes the database's write lock.
#[cfg_attr(not(all(feature = "postgres", feature = "mysql")), allow(unused_variables))]
fn lock_user(conn: &mut DbConnection, tenant_id: i64, user_id: i64) -> Result<(), StoreError> {
    let user = users::table.filter(users::id.eq(user_id)).select(users::id);
    match conn {
        DbConnection::Sqlite(_) => {}
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => {
            user.for_update().first::<i64>(c).optional()?;
        }
        #[cfg(feature = "mysql")]
        DbConnection::Mysql(c) => {
            #[derive(QueryableByName)]
            struct Locked {
                // Only taking the lock matters, not the id read.
                #[diesel(sql_type = diesel::sql_types::BigInt, column_name = id)]
                _id: i64,
            }
            diesel::sql_query("SELECT id FROM tenants WHERE id = ? LOCK IN SHARE MODE")
                .bind::<diesel::sql_types::BigInt, _>(tenant_id)
                .load::<Locked>(c)?;
            user.for_update().first::<i64>(c).optional()?;
        }
    }
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
/// `absolute_cutoff_ms`; returns how many went. One statement per limit, each a range of
/// its own index (`console_sessions_last_seen`, `console_sessions_created`): never a scan
/// of the whole table, however many sessions there are.
pub fn prune(conn: &mut DbConnection, idle_cutoff_ms: i64, absolute_cutoff_ms: i64) -> Result<usize, StoreError> {
    let idle = diesel::delete(s::table.filter(s::last_seen_at_ms.lt(idle_cutoff_ms))).execute(conn)?;
    let old = diesel::delete(s::table.filter(s::created_at_ms.lt(absolute_cutoff_ms))).execute(conn)?;
    Ok(idle + old)
}

/// Sessions of the tenant's users, for tests and operations.
pub fn count(conn: &mut DbConnection, tenant_id: i64) -> Result<i64, StoreError> {
    Ok(s::table.filter(s::tenant_id.eq(tenant_id)).count().get_result(conn)?)
}
