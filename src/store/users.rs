//! Users of the SPCM face: a username within a tenant, an argon2id PHC hash and a
//! comma-separated permission list.

use diesel::prelude::*;

use super::schema::{tenants, users};
use super::{write_transaction, DbConnection, StoreError, WriteScope};

/// What a Basic-auth login needs to know about a user.
#[derive(Debug, Clone, Queryable)]
pub struct LoginRecord {
    pub user_id: i64,
    pub tenant_id: i64,
    pub password_hash: String,
    pub permissions: String,
    /// The tenant's data version, read in the same statement as the user.
    pub tenant_version: i64,
}

/// The user `username` of tenant `tenant`, in one query.
pub fn find_login(conn: &mut DbConnection, tenant: &str, username: &str) -> Result<Option<LoginRecord>, StoreError> {
    Ok(users::table
        .inner_join(tenants::table)
        .filter(tenants::name.eq(tenant))
        .filter(users::username.eq(username))
        .select((users::id, users::tenant_id, users::password_hash, users::permissions, tenants::version))
        .first(conn)
        .optional()?)
}

pub fn add(
    conn: &mut DbConnection,
    scope: &WriteScope,
    username: &str,
    password_hash: &str,
    permissions: &str,
) -> Result<(), StoreError> {
    let tenant_id = scope.tenant_id;
    write_transaction(conn, scope, |conn| {
        diesel::insert_into(users::table)
            .values((
                users::tenant_id.eq(tenant_id),
                users::username.eq(username),
                users::password_hash.eq(password_hash),
                users::permissions.eq(permissions),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Replaces the user's hash; false when there is no such user.
pub fn set_password(
    conn: &mut DbConnection,
    scope: &WriteScope,
    username: &str,
    password_hash: &str,
) -> Result<bool, StoreError> {
    let tenant_id = scope.tenant_id;
    write_transaction(conn, scope, |conn| {
        let changed =
            diesel::update(users::table.filter(users::tenant_id.eq(tenant_id)).filter(users::username.eq(username)))
                .set(users::password_hash.eq(password_hash))
                .execute(conn)?;
        Ok(changed > 0)
    })
}

/// Removes the user; false when there is no such user.
pub fn remove(conn: &mut DbConnection, scope: &WriteScope, username: &str) -> Result<bool, StoreError> {
    let tenant_id = scope.tenant_id;
    write_transaction(conn, scope, |conn| {
        let removed =
            diesel::delete(users::table.filter(users::tenant_id.eq(tenant_id)).filter(users::username.eq(username)))
                .execute(conn)?;
        Ok(removed > 0)
    })
}

/// Username and permissions of every user of the tenant, by username.
pub fn list(conn: &mut DbConnection, tenant_id: i64) -> Result<Vec<(String, String)>, StoreError> {
    Ok(users::table
        .filter(users::tenant_id.eq(tenant_id))
        .select((users::username, users::permissions))
        .order(users::username.asc())
        .load(conn)?)
}
