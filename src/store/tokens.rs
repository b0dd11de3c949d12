//! Bearer tokens of the catalogue face, stored as SHA-256 digests of the secret.

use diesel::prelude::*;

use super::changes::{self, Change, Entity};
use super::schema::{api_tokens, tenants};
use super::users::decided;
use super::{DbConnection, StoreError, WriteScope};
use crate::domain::authority::{Action, TokenStatus};
use crate::domain::PermissionSet;

/// Unix seconds as RFC 3339 UTC.
fn rfc3339(seconds: i64) -> serde_json::Value {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map_or(serde_json::Value::Null, |at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into())
}

/// A token as its change records show it: never its secret or digest.
fn snapshot(token: &TokenRecord) -> serde_json::Value {
    serde_json::json!({
        "id": token.id,
        "permissions": token.permissions.names(),
        "createdAt": rfc3339(token.created_at),
        "expiresAt": token.expires_at.map_or(serde_json::Value::Null, rfc3339),
        "revoked": token.revoked,
    })
}

type TokenRow = (i64, String, i64, Option<i64>, bool);

const TOKEN_COLUMNS: (
    api_tokens::id,
    api_tokens::permissions,
    api_tokens::created_at,
    api_tokens::expires_at,
    api_tokens::revoked,
) = (api_tokens::id, api_tokens::permissions, api_tokens::created_at, api_tokens::expires_at, api_tokens::revoked);

fn find(conn: &mut DbConnection, tenant_id: i64, id: i64) -> QueryResult<Option<TokenRecord>> {
    let row: Option<TokenRow> = api_tokens::table
        .filter(api_tokens::tenant_id.eq(tenant_id))
        .filter(api_tokens::id.eq(id))
        .select(TOKEN_COLUMNS)
        .first(conn)
        .optional()?;
    Ok(row.map(TokenRecord::from))
}

#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub id: i64,
    pub permissions: PermissionSet,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked: bool,
}

impl From<TokenRow> for TokenRecord {
    fn from((id, stored, created_at, expires_at, revoked): TokenRow) -> Self {
        TokenRecord { id, permissions: PermissionSet::parse_stored(&stored), created_at, expires_at, revoked }
    }
}

impl TokenRecord {
    /// Where the token stands at `now` (Unix seconds).
    pub fn status(&self, now: i64) -> TokenStatus {
        TokenStatus::of(self.revoked, self.expires_at, now)
    }
}

/// A token looked up by its digest, with the name of its tenant.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub id: i64,
    pub tenant_name: String,
    pub tenant_id: i64,
    pub permissions: PermissionSet,
    pub status: TokenStatus,
}

pub fn create(
    conn: &mut DbConnection,
    scope: &WriteScope,
    token_hash: &str,
    permissions: PermissionSet,
    created_at: i64,
    expires_at: Option<i64>,
) -> Result<i64, StoreError> {
    let tenant_id = scope.tenant_id;
    decided(conn, scope, Action::CreateToken { permissions }, false, |conn, _| {
        diesel::insert_into(api_tokens::table)
            .values((
                api_tokens::tenant_id.eq(tenant_id),
                api_tokens::token_hash.eq(token_hash),
                api_tokens::permissions.eq(permissions.to_stored()),
                api_tokens::created_at.eq(created_at),
                api_tokens::expires_at.eq(expires_at),
                api_tokens::revoked.eq(false),
            ))
            .execute(conn)?;
        let id = api_tokens::table.select(api_tokens::id).filter(api_tokens::token_hash.eq(token_hash)).first(conn)?;
        let created = TokenRecord { id, permissions, created_at, expires_at, revoked: false };
        if let Some(change) = Change::between(Entity::Token, id.to_string(), None, Some(snapshot(&created))) {
            changes::record(conn, scope, change)?;
        }
        Ok(id)
    })
}

pub fn list(conn: &mut DbConnection, tenant_id: i64) -> Result<Vec<TokenRecord>, StoreError> {
    let rows: Vec<TokenRow> = api_tokens::table
        .filter(api_tokens::tenant_id.eq(tenant_id))
        .select(TOKEN_COLUMNS)
        .order(api_tokens::id.asc())
        .load(conn)?;
    Ok(rows.into_iter().map(TokenRecord::from).collect())
}

/// Marks the token revoked; false when the tenant has no such token.
pub fn revoke(conn: &mut DbConnection, scope: &WriteScope, id: i64) -> Result<bool, StoreError> {
    let tenant_id = scope.tenant_id;
    decided(conn, scope, Action::RevokeToken, false, |conn, _| {
        let Some(before) = find(conn, tenant_id, id)? else {
            return Ok(false);
        };
        diesel::update(api_tokens::table.filter(api_tokens::tenant_id.eq(tenant_id)).filter(api_tokens::id.eq(id)))
            .set(api_tokens::revoked.eq(true))
            .execute(conn)?;
        let after = TokenRecord { revoked: true, ..before.clone() };
        if let Some(change) =
            Change::between(Entity::Token, id.to_string(), Some(snapshot(&before)), Some(snapshot(&after)))
        {
            changes::record(conn, scope, change)?;
        }
        Ok(true)
    })
}

/// The token whose digest is `token_hash`, and where it stands at `now` (Unix seconds).
pub fn find_by_hash(conn: &mut DbConnection, token_hash: &str, now: i64) -> Result<Option<TokenGrant>, StoreError> {
    let row: Option<(i64, String, i64, String, Option<i64>, bool)> = api_tokens::table
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
        .optional()?;
    Ok(row.map(|(id, tenant_name, tenant_id, stored, expires_at, revoked)| TokenGrant {
        id,
        tenant_name,
        tenant_id,
        permissions: PermissionSet::parse_stored(&stored),
        status: TokenStatus::of(revoked, expires_at, now),
    }))
}
