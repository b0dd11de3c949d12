//! Idempotency keys (contract §2.2): the first request with a key is processed and its
//! answer kept; a retry with the same key and request gets that answer again, and writes
//! nothing. Keys live in the database so that a retry to another instance, or after a
//! restart, is answered the same way.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::schema::idempotency_keys as k;
use super::{DbConnection, StoreError};

/// How long a key's answer is given again.
pub const KEPT_MS: i64 = 24 * 3600 * 1000;
/// Keys kept per tenant; beyond, the oldest are forgotten first.
pub const MOST_PER_TENANT: i64 = 10_000;
/// Bytes of answers kept per tenant (a 207 of 1,000 items is about 400 KB); beyond, the
/// oldest keys are forgotten first.
pub const BYTES_PER_TENANT: i64 = 64 * 1024 * 1024;
/// A key still unanswered this long after it came is taken as abandoned (its request
/// ended without an answer being kept, as in a crash): its next request is processed.
pub const ABANDONED_MS: i64 = 120 * 1000;

/// What the first request with a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begun {
    /// The first of its key: process it, then `answer` or `forget`.
    First,
    /// Answered before: give this answer again.
    Answered { status: u16, answer: String },
    /// The key came with another request.
    OtherRequest,
    /// The first request with the key is still being processed.
    Running,
}

/// Records the key (`scope_hash`: tenant, caller and key hashed together) for the
/// request `request_hash` at `now_ms`, unless it is known; forgets the tenant's keys
/// older than `KEPT_MS` and beyond `MOST_PER_TENANT`.
pub fn begin(
    conn: &mut DbConnection,
    tenant_id: i64,
    scope_hash: &str,
    request_hash: &str,
    now_ms: i64,
) -> Result<Begun, StoreError> {
    // Two first requests at once: one inserts, the other finds its row on the next try.
    for _ in 0..2 {
        match conn.transaction(|conn| begin_once(conn, tenant_id, scope_hash, request_hash, now_ms)) {
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => continue,
            other => return Ok(other?),
        }
    }
    Ok(Begun::Running)
}

fn begin_once(
    conn: &mut DbConnection,
    tenant_id: i64,
    scope_hash: &str,
    request_hash: &str,
    now_ms: i64,
) -> QueryResult<Begun> {
    forget_old(conn, tenant_id, now_ms)?;
    let found: Option<(String, i64, Option<i32>, Option<String>)> = k::table
        .filter(k::scope_hash.eq(scope_hash))
        .select((k::request_hash, k::created_at_ms, k::status, k::answer))
        .first(conn)
        .optional()?;
    match found {
        None => {
            diesel::insert_into(k::table)
                .values((
                    k::scope_hash.eq(scope_hash),
                    k::tenant_id.eq(tenant_id),
                    k::request_hash.eq(request_hash),
                    k::created_at_ms.eq(now_ms),
                ))
                .execute(conn)?;
            Ok(Begun::First)
        }
        Some((stored, ..)) if stored != request_hash => Ok(Begun::OtherRequest),
        Some((_, _, Some(status), Some(answer))) => {
            Ok(Begun::Answered { status: u16::try_from(status).unwrap_or(500), answer })
        }
        Some((_, created_at_ms, ..)) if now_ms - created_at_ms < ABANDONED_MS => Ok(Begun::Running),
        Some(_) => {
            // Abandoned: this request takes it over.
            diesel::update(k::table.filter(k::scope_hash.eq(scope_hash)))
                .set((k::created_at_ms.eq(now_ms), k::status.eq(None::<i32>), k::answer.eq(None::<String>)))
                .execute(conn)?;
            Ok(Begun::First)
        }
    }
}

/// Forgets the tenant's keys older than `KEPT_MS`, and its oldest beyond
/// `MOST_PER_TENANT`: two range reads of the (tenant, created) index.
fn forget_old(conn: &mut DbConnection, tenant_id: i64, now_ms: i64) -> QueryResult<()> {
    let of_tenant = k::tenant_id.eq(tenant_id);
    diesel::delete(k::table.filter(of_tenant).filter(k::created_at_ms.lt(now_ms - KEPT_MS))).execute(conn)?;
    let oldest_kept: Option<i64> = k::table
        .filter(of_tenant)
        .order(k::created_at_ms.desc())
        .select(k::created_at_ms)
        .offset(MOST_PER_TENANT - 1)
        .first(conn)
        .optional()?;
    if let Some(oldest_kept) = oldest_kept {
        diesel::delete(k::table.filter(of_tenant).filter(k::created_at_ms.lt(oldest_kept))).execute(conn)?;
    }
    Ok(())
}

/// Keeps the answer of the key's first request, then forgets the tenant's oldest keys
/// while their answers take more than `budget` bytes (`BYTES_PER_TENANT`).
pub fn answer(
    conn: &mut DbConnection,
    tenant_id: i64,
    scope_hash: &str,
    status: u16,
    answer: &str,
    budget: i64,
) -> Result<(), StoreError> {
    let bytes = i64::try_from(answer.len()).unwrap_or(i64::MAX);
    conn.transaction(|conn| {
        diesel::update(k::table.filter(k::scope_hash.eq(scope_hash)).filter(k::status.is_null()))
            .set((k::status.eq(Some(i32::from(status))), k::answer.eq(Some(answer)), k::answer_bytes.eq(bytes)))
            .execute(conn)?;
        // Newest first: the keys whose answers still fit are kept, the older forgotten.
        let of_tenant = k::tenant_id.eq(tenant_id);
        let sizes: Vec<(i64, i64)> = k::table
            .filter(of_tenant)
            .order(k::created_at_ms.desc())
            .select((k::created_at_ms, k::answer_bytes))
            .load(conn)?;
        let mut kept = 0i64;
        let first_over = sizes.into_iter().find(|(_, bytes)| {
            kept = kept.saturating_add(*bytes);
            kept > budget
        });
        if let Some((created_at_ms, _)) = first_over {
            diesel::delete(k::table.filter(of_tenant).filter(k::created_at_ms.le(created_at_ms))).execute(conn)?;
        }
        Ok::<_, DieselError>(())
    })?;
    Ok(())
}

/// Forgets a key whose request got an answer to try again (a 5xx, 408 or 429): its
/// retry is processed.
pub fn forget(conn: &mut DbConnection, scope_hash: &str) -> Result<(), StoreError> {
    diesel::delete(k::table.filter(k::scope_hash.eq(scope_hash)).filter(k::status.is_null())).execute(conn)?;
    Ok(())
}
