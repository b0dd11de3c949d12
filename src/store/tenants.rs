//! Tenants: created by the CLI and the bootstrap, looked up by name.

use diesel::prelude::*;

use super::changes::{self, Change, Entity};
use super::schema::tenants::dsl as t;
use super::{Authority, DbConnection, StoreError};
use crate::domain::TenantName;

pub fn find_id(conn: &mut DbConnection, name: &TenantName) -> Result<Option<i64>, StoreError> {
    Ok(t::tenants.select(t::id).filter(t::name.eq(name.as_str())).first(conn).optional()?)
}

/// Creates the tenant and returns its id; a taken name is `UniqueViolation`. Only the
/// command line (and the bootstrap, which is the command line's) creates tenants.
pub fn create(conn: &mut DbConnection, name: &TenantName) -> Result<i64, StoreError> {
    let created = conn.transaction(|conn| {
        diesel::insert_into(t::tenants).values(t::name.eq(name.as_str())).execute(conn)?;
        let id = t::tenants.select(t::id).filter(t::name.eq(name.as_str())).first(conn)?;
        let view = serde_json::json!({"name": name.as_str()});
        if let Some(change) = Change::between(Entity::Tenant, name.as_str(), None, Some(view)) {
            changes::record_for(conn, id, &Authority::Cli, None, change)?;
        }
        Ok::<_, StoreError>(id)
    })?;
    Ok(created)
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    Ok(t::tenants.select(t::name).order(t::name.asc()).load(conn)?)
}

pub fn count(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(t::tenants.count().get_result(conn)?)
}
