//! Users of the SPCM face: a username within a tenant, an argon2id PHC hash and a
//! comma-separated permission list.

use diesel::prelude::*;

use super::changes::{self, Change, Entity};
use super::schema::{tenants, users};
use super::{write_transaction, DbConnection, StoreError, WriteScope};

/// A user as its change records show it: never a password or a hash.
fn snapshot(username: &str, permissions: &str) -> serde_json::Value {
    let granted: Vec<&str> = permissions.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
    serde_json::json!({"username": username, "permissions": granted})
}

/// The stored permissions of the tenant's user `username`.
fn permissions_of(conn: &mut DbConnection, tenant_id: i64, username: &str) -> QueryResult<Option<String>> {
    users::table
        .filter(users::tenant_id.eq(tenant_id))
        .filter(users::username.eq(username))
        .select(users::permissions)
        .first(conn)
        .optional()
}

/// What a Basic-auth login needs to know about a user.
#[derive(Debug, Clone, Queryable)]
pub struct LoginRecord {
    pub user_id: i64,
    pub tenant_id: i64,
    pub password_hash: String,
    pub permissions: String,
    /// The tenant's data version, read in the same statement as the user.
    pub tenant_version: i64,
    pub username: String,
}

/// The user `username` of tenant `tenant`, in one query.
pub fn find_login(conn: &mut DbConnection, tenant: &str, username: &str) -> Result<Option<LoginRecord>, StoreError> {
    Ok(users::table
        .inner_join(tenants::table)
        .filter(tenants::name.eq(tenant))
        .filter(users::username.eq(username))
        .select((
            users::id,
            users::tenant_id,
            users::password_hash,
            users::permissions,
            tenants::version,
            users::username,
        ))
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
        let change = Change::between(Entity::User, username, None, Some(snapshot(username, permissions)));
        if let Some(change) = change {
            changes::record(conn, scope, change)?;
        }
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
        let Some(permissions) = permissions_of(conn, tenant_id, username)? else {
            return Ok(false);
        };
        diesel::update(users::table.filter(users::tenant_id.eq(tenant_id)).filter(users::username.eq(username)))
            .set(users::password_hash.eq(password_hash))
            .execute(conn)?;
        // The password is not shown, so `before` and `after` are alike: the field is named.
        let view = snapshot(username, &permissions);
        changes::record(
            conn,
            scope,
            Change {
                entity: Entity::User,
                entity_id: username.to_owned(),
                action: changes::Action::Updated,
                changed_fields: vec!["password".to_owned()],
                before: Some(view.clone()),
                after: Some(view),
            },
        )?;
        Ok(true)
    })
}

/// Removes the user; false when there is no such user.
pub fn remove(conn: &mut DbConnection, scope: &WriteScope, username: &str) -> Result<bool, StoreError> {
    let tenant_id = scope.tenant_id;
    write_transaction(conn, scope, |conn| {
        let Some(permissions) = permissions_of(conn, tenant_id, username)? else {
            return Ok(false);
        };
        diesel::delete(users::table.filter(users::tenant_id.eq(tenant_id)).filter(users::username.eq(username)))
            .execute(conn)?;
        if let Some(change) = Change::between(Entity::User, username, Some(snapshot(username, &permissions)), None) {
            changes::record(conn, scope, change)?;
        }
        Ok(true)
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
