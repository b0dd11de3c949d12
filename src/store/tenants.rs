//! Tenants: created by the CLI and the bootstrap, looked up by name.

use diesel::prelude::*;

use super::schema::tenants::dsl as t;
use super::{DbConnection, StoreError};
use crate::domain::TenantName;

pub fn find_id(conn: &mut DbConnection, name: &TenantName) -> Result<Option<i64>, StoreError> {
    Ok(t::tenants.select(t::id).filter(t::name.eq(name.as_str())).first(conn).optional()?)
}

/// Creates the tenant and returns its id; a taken name is `UniqueViolation`.
pub fn create(conn: &mut DbConnection, name: &TenantName) -> Result<i64, StoreError> {
    conn.transaction(|conn| {
        diesel::insert_into(t::tenants).values(t::name.eq(name.as_str())).execute(conn)?;
        Ok(t::tenants.select(t::id).filter(t::name.eq(name.as_str())).first(conn)?)
    })
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    Ok(t::tenants.select(t::name).order(t::name.asc()).load(conn)?)
}

pub fn count(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(t::tenants.count().get_result(conn)?)
}
