//! Bearer tokens of the catalogue face, stored as SHA-256 digests of the secret.

use diesel::prelude::*;

use super::schema::{api_tokens, tenants};
use super::{write_transaction, DbConnection, StoreError, WriteScope};

#[derive(Debug, Clone, Queryable)]
pub struct TokenRecord {
    pub id: i64,
    pub permissions: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked: bool,
}

/// A token looked up by its digest, with the name of its tenant.
#[derive(Debug, Clone, Queryable)]
pub struct TokenGrant {
    pub id: i64,
    pub tenant_name: String,
    pub tenant_id: i64,
    pub permissions: String,
    pub expires_at: Option<i64>,
    pub revoked: bool,
}

pub fn create(
    conn: &mut DbConnection,
    scope: &WriteScope,
    token_hash: &str,
    permissions: &str,
    created_at: i64,
    expires_at: Option<i64>,
) -> Result<i64, StoreError> {
    let tenant_id = scope.tenant_id;
    write_transaction(conn, scope, |conn| {
        diesel::insert_into(api_tokens::table)
            .values((
                api_tokens::tenant_id.eq(tenant_id),
                api_tokens::token_hash.eq(token_hash),
                api_tokens::permissions.eq(permissions),
                api_tokens::created_at.eq(created_at),
                api_tokens::expires_at.eq(expires_at),
                api_tokens::revoked.eq(false),
            ))
            .execute(conn)?;
        Ok(api_tokens::table.select(api_tokens::id).filter(api_tokens::token_hash.eq(token_hash)).first(conn)?)
    })
}

pub fn list(conn: &mut DbConnection, tenant_id: i64) -> Result<Vec<TokenRecord>, StoreError> {
    Ok(api_tokens::table
        .filter(api_tokens::tenant_id.eq(tenant_id))
        .select((
            api_tokens::id,
            api_tokens::permissions,
            api_tokens::created_at,
            api_tokens::expires_at,
            api_tokens::revoked,
        ))
        .order(api_tokens::id.asc())
        .load(conn)?)
}

/// Marks the token revoked; false when the tenant has no such token.
pub fn revoke(conn: &mut DbConnection, scope: &WriteScope, id: i64) -> Result<bool, StoreError> {
    let tenant_id = scope.tenant_id;
    write_transaction(conn, scope, |conn| {
        let changed =
            diesel::update(api_tokens::table.filter(api_tokens::tenant_id.eq(tenant_id)).filter(api_tokens::id.eq(id)))
                .set(api_tokens::revoked.eq(true))
                .execute(conn)?;
        Ok(changed > 0)
    })
}

pub fn find_by_hash(conn: &mut DbConnection, token_hash: &str) -> Result<Option<TokenGrant>, StoreError> {
    Ok(api_tokens::table
        .inner_join(tenants::table)
        .filter(api_tokens::token_hash.eq(token_hash))
        .select((
            api_tokens::id,
            tenants::name,
            api_tokens::tenant_id,
            api_tokens::permissions,
            api_tokens::expires_at,
            api_tokens::revoked,
        ))
        .first(conn)
        .optional()?)
}
