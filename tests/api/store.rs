//! The store's write transaction: transient conflicts are retried, a bounded number of times.

use std::cell::Cell;

use diesel::RunQueryDsl;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use spcm::store::{write_transaction, Authority, DbConnection, StoreError};

use crate::helpers::backend_tests;

backend_tests! {
    async fn transient_conflicts_are_retried_a_bounded_number_of_times(app) {
        let mut conn = app.pool.get().unwrap();
        let scope = app.pool.write_scope(1, Authority::Cli);
        let tries = Cell::new(0);
        let result: Result<&str, StoreError> = write_transaction(&mut conn, &scope, |_| {
            tries.set(tries.get() + 1);
            if tries.get() < 3 { Err(StoreError::Transient("deadlock detected".into())) } else { Ok("done") }
        });
        assert_eq!(result.unwrap(), "done");
        assert_eq!(tries.get(), 3);

        tries.set(0);
        let result: Result<(), StoreError> = write_transaction(&mut conn, &scope, |_| {
            tries.set(tries.get() + 1);
            Err(StoreError::Transient("deadlock detected".into()))
        });
        assert!(matches!(result, Err(StoreError::Transient(_))));
        assert_eq!(tries.get(), 4, "gives up after four tries");

        tries.set(0);
        let result: Result<(), StoreError> = write_transaction(&mut conn, &scope, |_| {
            tries.set(tries.get() + 1);
            Err(StoreError::UniqueViolation("x".into()))
        });
        assert!(matches!(result, Err(StoreError::UniqueViolation(_))), "{result:?}");
        assert_eq!(tries.get(), 1, "other errors are not retried");
    }
}

/// Reverts the newest migrations of `source`, down to and including `first_reverted`.
fn revert_through<DB: diesel::backend::Backend>(
    conn: &mut impl MigrationHarness<DB>,
    source: impl Fn() -> EmbeddedMigrations,
    first_reverted: &str,
) {
    loop {
        let reverted = conn.revert_last_migration(source()).expect("a migration reverts").to_string();
        if reverted == first_reverted {
            return;
        }
    }
}

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
#[cfg(feature = "postgres")]
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
#[cfg(feature = "mysql")]
const MYSQL: EmbeddedMigrations = embed_migrations!("migrations/mysql");

fn revert_schema_through(conn: &mut DbConnection, first_reverted: &str) {
    match conn {
        DbConnection::Sqlite(c) => revert_through(c, || SQLITE, first_reverted),
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => revert_through(c, || POSTGRES, first_reverted),
        #[cfg(feature = "mysql")]
        DbConnection::Mysql(c) => revert_through(c, || MYSQL, first_reverted),
    }
}

const EARLIER_PERMISSIONS: &str = "SPCM_PROVISION_PROFILE_READ_PERMISSION,SPCM_PROVISION_PROFILE_CREATE_PERMISSION,\
SPCM_PROVISION_PROFILE_UPDATE_PERMISSION,SPCM_PROVISION_PROFILE_DELETE_PERMISSION,CATALOGUE_READ_PERMISSION,\
CATALOGUE_WRITE_PERMISSION";

backend_tests! {
    async fn users_who_held_every_earlier_permission_receive_the_two_newer_ones_by_migration(app) {
        let mut conn = app.pool.get().unwrap();
        // The schema as it was before the change history, with the users it had then.
        revert_schema_through(&mut conn, "20261130000001");
        diesel::sql_query("DELETE FROM users").execute(&mut *conn).unwrap();
        for (username, permissions) in [("everything", EARLIER_PERMISSIONS), ("reader", "SPCM_PROVISION_PROFILE_READ_PERMISSION")] {
            diesel::sql_query(format!(
                "INSERT INTO users (tenant_id, username, password_hash, permissions) VALUES (1, '{username}', 'x', '{permissions}')"
            ))
            .execute(&mut *conn)
            .unwrap();
        }
        drop(conn);
        let applied = app.pool.migrate().unwrap();
        assert_eq!(applied.first().map(String::as_str), Some("2026-11-30-000001_changes"), "{applied:?}");

        let mut conn = app.pool.get().unwrap();
        let users: Vec<(String, String)> = spcm::store::users::list(&mut conn, 1)
            .unwrap()
            .into_iter()
            .map(|(name, granted)| (name, granted.to_stored()))
            .collect();
        assert_eq!(users, [
            ("everything".to_owned(), format!("{EARLIER_PERMISSIONS},SPCM_AUDIT_READ_PERMISSION,SPCM_TENANT_ADMIN_PERMISSION")),
            ("reader".to_owned(), "SPCM_PROVISION_PROFILE_READ_PERMISSION".to_owned()),
        ]);
        assert!(app.pool.migrate().unwrap().is_empty(), "up to date");
    }
}

/// The plan of `sql` as text: the index it reads, if any, is named in it. PostgreSQL is
/// told to avoid sequential scans, so that its plan of a small test table shows whether
/// an index can serve the statement at all.
fn plan_of(conn: &mut DbConnection, sql: &str) -> String {
    use diesel::sql_types::{Nullable, Text};
    use diesel::{Connection, QueryableByName};
    #[derive(QueryableByName)]
    struct SqliteStep {
        #[diesel(sql_type = Text)]
        detail: String,
    }
    #[derive(QueryableByName)]
    struct PostgresLine {
        #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
        line: String,
    }
    #[derive(QueryableByName)]
    struct MysqlRow {
        #[diesel(sql_type = Nullable<Text>)]
        key: Option<String>,
    }
    match conn {
        DbConnection::Sqlite(c) => {
            let steps: Vec<SqliteStep> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}")).load(c).unwrap();
            steps.into_iter().map(|s| s.detail).collect::<Vec<_>>().join("\n")
        }
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => c
            .transaction(|c| {
                diesel::sql_query("SET LOCAL enable_seqscan = off").execute(c)?;
                let lines: Vec<PostgresLine> = diesel::sql_query(format!("EXPLAIN {sql}")).load(c)?;
                diesel::QueryResult::Ok(lines.into_iter().map(|l| l.line).collect::<Vec<_>>().join("\n"))
            })
            .unwrap(),
        #[cfg(feature = "mysql")]
        DbConnection::Mysql(c) => {
            let rows: Vec<MysqlRow> = diesel::sql_query(format!("EXPLAIN {sql}")).load(c).unwrap();
            rows.into_iter().map(|r| r.key.unwrap_or_default()).collect::<Vec<_>>().join("\n")
        }
    }
}

backend_tests! {
    async fn ending_expired_console_sessions_reads_a_range_of_an_index_never_the_whole_table(app) {
        let mut conn = app.pool.get().unwrap();
        // The statements of `console_sessions::prune`, one per limit.
        for (column, index) in [("last_seen_at_ms", "console_sessions_last_seen"), ("created_at_ms", "console_sessions_created")] {
            let plan = plan_of(&mut conn, &format!("DELETE FROM console_sessions WHERE {column} < 1"));
            assert!(plan.contains(index), "the delete by {column} reads {index}: {plan}");
        }
        // A user's sessions, newest first, for the limit of ten.
        let plan = plan_of(&mut conn, "SELECT secret_hash FROM console_sessions WHERE user_id = 1 ORDER BY created_at_ms DESC LIMIT 10");
        assert!(plan.contains("console_sessions_user_created"), "{plan}");
    }
}
