//! The database layer: one connection type over every backend, the pool, and the
//! queries. Nothing here knows about HTTP.

mod connection;
mod error;
pub mod profiles;
pub mod schema;
pub mod tenants;
pub mod tokens;
pub mod users;

pub use connection::{run_db, Backend, DbConnection, DbPool};
pub use error::StoreError;

use diesel::prelude::*;

/// Takes the tenant's write lock for the rest of the transaction.
///
/// Every write of a tenant's profiles starts with this no-op update: on PostgreSQL and
/// MySQL it row-locks the tenant, on SQLite it takes the database's write lock before
/// anything is read. Writes of one tenant therefore run one after another, which is what
/// keeps the default-profile rule true under concurrent requests (contract §2).
pub fn lock_tenant(conn: &mut DbConnection, tenant_id: i64) -> QueryResult<()> {
    use schema::tenants::dsl as t;
    diesel::update(t::tenants.filter(t::id.eq(tenant_id)))
        .set(t::name.eq(t::name))
        .execute(conn)
        .map(|_| ())
}
