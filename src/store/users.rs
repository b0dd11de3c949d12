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
    let query = users::table
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
        ));
    Ok(super::on_backend!(conn, |c| query.first(c).optional())?)
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

/// What a change of a user that must leave someone holding a permission came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserChange {
    Done,
    NoSuchUser,
    /// Nobody else holds the permission to keep: refused, nothing changed.
    LastHolder,
}

/// True when a user of the tenant other than `username` holds `permission`.
fn held_by_another(conn: &mut DbConnection, tenant_id: i64, username: &str, permission: &str) -> QueryResult<bool> {
    let others: Vec<String> = users::table
        .filter(users::tenant_id.eq(tenant_id))
        .filter(users::username.ne(username))
        .select(users::permissions)
        .load(conn)?;
    Ok(others.iter().any(|granted| super::holds(granted, permission)))
}

/// Replaces the user's permissions; with `keep`, refused when the user would no longer
/// hold that permission and nobody else of the tenant does (checked in the write's
/// transaction, under the tenant's lock).
pub fn set_permissions(
    conn: &mut DbConnection,
    scope: &WriteScope,
    username: &str,
    permissions: &str,
    keep: Option<&str>,
) -> Result<UserChange, StoreError> {
    let tenant_id = scope.tenant_id;
    write_transaction(conn, scope, |conn| {
        let Some(before) = permissions_of(conn, tenant_id, username)? else {
            return Ok(UserChange::NoSuchUser);
        };
        if let Some(keep) = keep {
            let loses = super::holds(&before, keep) && !super::holds(permissions, keep);
            if loses && !held_by_another(conn, tenant_id, username, keep)? {
                return Ok(UserChange::LastHolder);
            }
        }
        diesel::update(users::table.filter(users::tenant_id.eq(tenant_id)).filter(users::username.eq(username)))
            .set(users::permissions.eq(permissions))
            .execute(conn)?;
        let change = Change::between(
            Entity::User,
            username,
            Some(snapshot(username, &before)),
            Some(snapshot(username, permissions)),
        );
        if let Some(change) = change {
            changes::record(conn, scope, change)?;
        }
        Ok(UserChange::Done)
    })
}

/// Removes the user; false when there is no such user.
pub fn remove(conn: &mut DbConnection, scope: &WriteScope, username: &str) -> Result<bool, StoreError> {
    remove_keeping(conn, scope, username, None).map(|outcome| outcome == UserChange::Done)
}

/// Removes the user; with `keep`, refused when nobody else of the tenant would hold
/// that permission.
pub fn remove_keeping(
    conn: &mut DbConnection,
    scope: &WriteScope,
    username: &str,
    keep: Option<&str>,
) -> Result<UserChange, StoreError> {
    let tenant_id = scope.tenant_id;
    write_transaction(conn, scope, |conn| {
        let Some(permissions) = permissions_of(conn, tenant_id, username)? else {
            return Ok(UserChange::NoSuchUser);
        };
        if let Some(keep) = keep {
            if super::holds(&permissions, keep) && !held_by_another(conn, tenant_id, username, keep)? {
                return Ok(UserChange::LastHolder);
            }
        }
        diesel::delete(users::table.filter(users::tenant_id.eq(tenant_id)).filter(users::username.eq(username)))
            .execute(conn)?;
        if let Some(change) = Change::between(Entity::User, username, Some(snapshot(username, &permissions)), None) {
            changes::record(conn, scope, change)?;
        }
        Ok(UserChange::Done)
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
