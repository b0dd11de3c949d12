//! The migrations embedded for each backend, and bringing a database's schema up to date.

use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::{DbConnection, DbPool};
use crate::store::StoreError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
#[cfg(feature = "postgres")]
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
#[cfg(feature = "mysql")]
const MYSQL_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/mysql");

/// Why the schema could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// No connection to run the migrations on.
    #[error("{0}")]
    Connection(StoreError),
    /// A migration failed; the ones before it stay applied.
    #[error("migration failed: {0}")]
    Failed(Box<dyn std::error::Error + Send + Sync>),
}

impl DbPool {
    /// Brings the schema up to date with the migrations embedded for this backend.
    /// Applies the pending migrations and returns their names, oldest first (empty when
    /// the database was up to date).
    pub fn migrate(&self) -> Result<Vec<String>, MigrationError> {
        let mut conn = self.get().map_err(MigrationError::Connection)?;
        let applied = match &mut *conn {
            DbConnection::Sqlite(c) => apply_pending(c, SQLITE_MIGRATIONS),
            #[cfg(feature = "postgres")]
            DbConnection::Postgres(c) => apply_pending(c, POSTGRES_MIGRATIONS),
            #[cfg(feature = "mysql")]
            DbConnection::Mysql(c) => apply_pending(c, MYSQL_MIGRATIONS),
        }
        .map_err(MigrationError::Failed)?;
        if !applied.is_empty() {
            tracing::info!(applied = applied.join(","), backend = self.backend().name(), "migrations applied");
        }
        Ok(applied)
    }
}

/// Runs each pending migration in order, as `run_pending_migrations` does, keeping the names.
fn apply_pending<DB: diesel::backend::Backend>(
    conn: &mut impl MigrationHarness<DB>,
    source: EmbeddedMigrations,
) -> diesel::migration::Result<Vec<String>> {
    let pending = conn.pending_migrations(source)?;
    let mut applied = Vec::with_capacity(pending.len());
    for migration in pending {
        conn.run_migration(&migration)?;
        applied.push(migration.name().to_string());
    }
    Ok(applied)
}
