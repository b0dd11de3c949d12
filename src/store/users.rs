//! Users of the SPCM face: a username within a tenant, an argon2id PHC hash and a
//! comma-separated permission list.

use diesel::prelude::*;

use super::changes::{self, Change, Entity};
use super::schema::{tenants, users};
use super::{write_transaction, Authority, DbConnection, StoreError, WriteScope};
use crate::domain::authority::{self, Action, Actor, Denied, Member};
use crate::domain::PermissionSet;

/// A user as its change records show it: never a password or a hash.
fn snapshot(username: &str, permissions: PermissionSet) -> serde_json::Value {
    serde_json::json!({"username": username, "permissions": permissions.names()})
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

/// The tenant's users as the write's transaction sees them.
fn members(conn: &mut DbConnection, tenant_id: i64) -> QueryResult<Vec<Member>> {
    let rows: Vec<(i64, String, String)> = users::table
        .filter(users::tenant_id.eq(tenant_id))
        .select((users::id, users::username, users::permissions))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(user_id, username, stored)| Member {
            user_id,
            username,
            permissions: PermissionSet::parse_stored(&stored),
        })
        .collect())
}

/// Who the scope's authority is, among `members`.
fn actor(scope: &WriteScope, members: &[Member], force: bool) -> Actor {
    match &scope.authority {
        Authority::Cli => Actor::Operator { force },
        Authority::User { user_id, .. } => Actor::User {
            user_id: *user_id,
            permissions: members.iter().find(|m| m.user_id == *user_id).map(|m| m.permissions).unwrap_or_default(),
        },
        Authority::Token { .. } => Actor::Token,
    }
}

/// Runs `body` in the scope's write transaction once `authority::decide` allows
/// `action` against the tenant's users as they are under the tenant's lock
/// (contract §1.2); `StoreError::Denied` otherwise, nothing written.
pub(super) fn decided<T>(
    conn: &mut DbConnection,
    scope: &WriteScope,
    action: Action,
    force: bool,
    mut body: impl FnMut(&mut DbConnection, &[Member]) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let tenant_id = scope.tenant_id;
    write_transaction(conn, scope, |conn| {
        let members = members(conn, tenant_id)?;
        authority::decide(&actor(scope, &members, force), &action, &members).map_err(StoreError::Denied)?;
        body(conn, &members)
    })
}

fn target<'a>(members: &'a [Member], username: &str) -> Result<&'a Member, StoreError> {
    members
        .iter()
        .find(|m| m.username == username)
        .ok_or_else(|| StoreError::Denied(Denied::NoSuchUser(username.to_owned())))
}

pub fn add(
    conn: &mut DbConnection,
    scope: &WriteScope,
    username: &str,
    password_hash: &str,
    permissions: PermissionSet,
) -> Result<(), StoreError> {
    let tenant_id = scope.tenant_id;
    decided(conn, scope, Action::AddUser { permissions }, false, |conn, _| {
        diesel::insert_into(users::table)
            .values((
                users::tenant_id.eq(tenant_id),
                users::username.eq(username),
                users::password_hash.eq(password_hash),
                users::permissions.eq(permissions.to_stored()),
            ))
            .execute(conn)?;
        let change = Change::between(Entity::User, username, None, Some(snapshot(username, permissions)));
        if let Some(change) = change {
            changes::record(conn, scope, change)?;
        }
        Ok(())
    })
}

/// Replaces the user's hash.
pub fn set_password(
    conn: &mut DbConnection,
    scope: &WriteScope,
    username: &str,
    password_hash: &str,
) -> Result<(), StoreError> {
    let tenant_id = scope.tenant_id;
    decided(conn, scope, Action::ResetPassword { target: username }, false, |conn, members| {
        let permissions = target(members, username)?.permissions;
        diesel::update(users::table.filter(users::tenant_id.eq(tenant_id)).filter(users::username.eq(username)))
            .set(users::password_hash.eq(password_hash))
            .execute(conn)?;
        // The password is not shown, so `before` and `after` are alike: the field is named.
        let view = snapshot(username, permissions);
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
        Ok(())
    })
}

/// Replaces the user's permissions. With `force` (the operator only), the tenant's last
/// administrator may lose the tenant-admin permission.
pub fn set_permissions(
    conn: &mut DbConnection,
    scope: &WriteScope,
    username: &str,
    permissions: PermissionSet,
    force: bool,
) -> Result<(), StoreError> {
    let tenant_id = scope.tenant_id;
    decided(conn, scope, Action::SetPermissions { target: username, permissions }, force, |conn, members| {
        let before = target(members, username)?.permissions;
        diesel::update(users::table.filter(users::tenant_id.eq(tenant_id)).filter(users::username.eq(username)))
            .set(users::permissions.eq(permissions.to_stored()))
            .execute(conn)?;
        let change = Change::between(
            Entity::User,
            username,
            Some(snapshot(username, before)),
            Some(snapshot(username, permissions)),
        );
        if let Some(change) = change {
            changes::record(conn, scope, change)?;
        }
        Ok(())
    })
}

/// Removes the user. With `force` (the operator only), even the tenant's last administrator.
pub fn remove(conn: &mut DbConnection, scope: &WriteScope, username: &str, force: bool) -> Result<(), StoreError> {
    let tenant_id = scope.tenant_id;
    decided(conn, scope, Action::RemoveUser { target: username }, force, |conn, members| {
        let permissions = target(members, username)?.permissions;
        diesel::delete(users::table.filter(users::tenant_id.eq(tenant_id)).filter(users::username.eq(username)))
            .execute(conn)?;
        if let Some(change) = Change::between(Entity::User, username, Some(snapshot(username, permissions)), None) {
            changes::record(conn, scope, change)?;
        }
        Ok(())
    })
}

/// Username and permissions of every user of the tenant, by username.
pub fn list(conn: &mut DbConnection, tenant_id: i64) -> Result<Vec<(String, PermissionSet)>, StoreError> {
    let rows: Vec<(String, String)> = users::table
        .filter(users::tenant_id.eq(tenant_id))
        .select((users::username, users::permissions))
        .order(users::username.asc())
        .load(conn)?;
    Ok(rows.into_iter().map(|(name, stored)| (name, PermissionSet::parse_stored(&stored))).collect())
}
