//! The outbox of change events and the publisher's lease: the relay's queries over the
//! change history (`store::changes`).

use std::time::Duration;

use diesel::prelude::*;

use crate::store::changes::{ChangeRecord, SELECTION};
use crate::store::schema::changes::dsl as c;
use crate::store::schema::event_relay_lease::dsl as l;
use crate::store::schema::tenants;
use crate::store::{DbConnection, StoreError};

/// Changes not yet published, in id order (per tenant, commit order), at most `limit`.
pub fn waiting(conn: &mut DbConnection, limit: i64) -> Result<Vec<ChangeRecord>, StoreError> {
    Ok(c::changes
        .inner_join(tenants::table)
        .filter(c::published.eq(false))
        .order(c::id.asc())
        .limit(limit)
        .select(SELECTION)
        .load(conn)?)
}

/// Marks changes published: the broker confirmed them.
pub fn mark_published(conn: &mut DbConnection, ids: &[i64]) -> Result<(), StoreError> {
    for chunk in ids.chunks(500) {
        diesel::update(c::changes.filter(c::id.eq_any(chunk))).set(c::published.eq(true)).execute(conn)?;
    }
    Ok(())
}

/// How many changes wait to be published, and when the oldest was made (ms).
pub fn backlog(conn: &mut DbConnection) -> Result<(i64, Option<i64>), StoreError> {
    let oldest: Option<i64> =
        c::changes.filter(c::published.eq(false)).order(c::id.asc()).select(c::at_ms).first(conn).optional()?;
    if oldest.is_none() {
        return Ok((0, None));
    }
    let count = c::changes.filter(c::published.eq(false)).count().get_result(conn)?;
    Ok((count, oldest))
}

/// Removes up to `batch` changes made before `cutoff_ms`: only published ones unless
/// `any` (no publisher is configured). Returns how many went. Each batch is a short
/// statement of its own, so writes never wait long behind it.
pub fn prune(conn: &mut DbConnection, cutoff_ms: i64, any: bool, batch: i64) -> Result<usize, StoreError> {
    let mut query =
        c::changes.select(c::id).filter(c::at_ms.lt(cutoff_ms)).order(c::id.asc()).limit(batch).into_boxed();
    if !any {
        query = query.filter(c::published.eq(true));
    }
    let ids: Vec<i64> = query.load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(diesel::delete(c::changes.filter(c::id.eq_any(&ids))).execute(conn)?)
}

/// The database's clock in ms: instances agree on it even when their own clocks differ.
fn database_now_ms(conn: &mut DbConnection) -> Result<i64, StoreError> {
    #[derive(QueryableByName)]
    struct Now {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        now_ms: i64,
    }
    let now: Now = match conn {
        DbConnection::Sqlite(conn) => {
            diesel::sql_query("SELECT CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER) AS now_ms")
                .get_result(conn)?
        }
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(conn) => {
            diesel::sql_query("SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT) AS now_ms")
                .get_result(conn)?
        }
        #[cfg(feature = "mysql")]
        DbConnection::Mysql(conn) => {
            diesel::sql_query("SELECT CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED) AS now_ms").get_result(conn)?
        }
    };
    Ok(now.now_ms)
}

const LEASE: &str = "events";

/// Takes or renews the publisher's lease for `ttl`: true when `holder` holds it now.
/// One conditional UPDATE, so two instances can never both take it.
pub fn hold_lease(conn: &mut DbConnection, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
    let now = database_now_ms(conn)?;
    let taken = diesel::update(
        l::event_relay_lease.filter(l::name.eq(LEASE)).filter(l::holder.eq(holder).or(l::expires_at_ms.lt(now))),
    )
    .set((l::holder.eq(holder), l::expires_at_ms.eq(now + ttl.as_millis() as i64)))
    .execute(conn)?;
    Ok(taken == 1)
}

/// Gives the lease up, so that another instance takes over at once.
pub fn release_lease(conn: &mut DbConnection, holder: &str) -> Result<(), StoreError> {
    diesel::update(l::event_relay_lease.filter(l::name.eq(LEASE)).filter(l::holder.eq(holder)))
        .set(l::expires_at_ms.eq(0))
        .execute(conn)?;
    Ok(())
}
