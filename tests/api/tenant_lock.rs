//! PostgreSQL creates a profile that does not take the default in one statement: the
//! tenant's lock, the check of the caller, the insert and its change record. A write
//! holding the tenant's lock makes that statement wait; what that write changed about
//! the caller counts once it commits.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};
use spcm::auth::Permission;

use crate::helpers::{backend_matrix, expect_json, spawn_app, wait_until, TestApp, TestBackend, PROFILES};

const PASSWORD: &str = "writer-Secret-1";

/// A connection of the test's own that holds the tenant `default`'s lock (as every
/// write of the tenant does) until it commits.
fn hold_tenant_lock(app: &TestApp) -> diesel::PgConnection {
    let mut conn = diesel::PgConnection::establish(&app.db.url).expect("connect");
    conn.batch_execute("BEGIN; UPDATE tenants SET version = version + 1 WHERE name = 'default'").expect("lock");
    conn
}

/// The one number `sql` (a `SELECT count(*) AS n …`) answers, on a connection of its own.
fn count(app: &TestApp, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = diesel::PgConnection::establish(&app.db.url).expect("connect");
    diesel::sql_query(sql).get_result::<Count>(&mut conn).expect(sql).n
}

/// Sessions of the database waiting for a lock.
fn lock_waiters(app: &TestApp) -> i64 {
    count(
        app,
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
}

/// POSTs `name` as `writer` while the test holds the tenant's lock; once the POST waits
/// for it, runs `meanwhile` in the lock's transaction and commits. The POST's answer.
async fn create_behind_a_write(app: &TestApp, name: &str, meanwhile: &str) -> (u16, Value) {
    let mut holder = hold_tenant_lock(app);
    let post = app
        .request_as(Method::POST, PROFILES, "default", "writer", PASSWORD)
        .json(&json!({"name": name, "defaultProfile": false, "locale": "en"}))
        .send();
    let post = tokio::spawn(post);
    wait_until("the POST to wait for the tenant's lock", std::time::Duration::from_secs(10), async || {
        lock_waiters(app) == 1
    })
    .await;
    holder.batch_execute(meanwhile).expect("the other write");
    holder.batch_execute("COMMIT").expect("commit");
    let response = post.await.expect("task").expect("answer");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn app_with_writer(backend: TestBackend) -> TestApp {
    let app = spawn_app(backend).await;
    app.add_user("default", "writer", PASSWORD, &[Permission::ProfileRead, Permission::ProfileCreate]);
    // The writer's login is verified once, so that the writes below check it in the database only.
    let seen = app.request_as(Method::GET, PROFILES, "default", "writer", PASSWORD).send().await.expect("sent");
    assert_eq!(seen.status(), 200);
    app
}

backend_matrix! {
    on [postgres];
    async fn creates_a_profile_in_one_statement_behind_the_tenants_other_writes(backend) {
        let app = app_with_writer(backend).await;

        // Nothing about the writer changes meanwhile: the create waits, then happens.
        let (status, created) = create_behind_a_write(&app, "after-a-wait", "SELECT 1").await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["name"], "after-a-wait");
        assert_eq!(created["locale"], "en");
        assert_eq!(created["defaultProfile"], false);
        let id = created["id"].as_i64().expect("id");
        assert_eq!(expect_json(app.get_profile(id).await, 200).await, created);

        let entity_id = id.to_string();
        // Its change record says what the profile became, who made it, and nothing more.
        let history = expect_json(app.request(Method::GET, "/pcc/spcm/changes").send().await.expect("sent"), 200).await;
        let records: Vec<&Value> = history["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .filter(|c| c["entity"] == "provisionProfile" && c["entityId"] == entity_id.as_str())
            .collect();
        assert_eq!(records.len(), 1, "{history}");
        assert_eq!(records[0]["action"], "created");
        assert_eq!(records[0]["actor"]["name"], "writer");
        assert_eq!(records[0]["after"]["name"], "after-a-wait");
        assert_eq!(records[0]["after"]["id"], id);
        assert_eq!(records[0]["before"], Value::Null);
        assert!(records[0]["requestId"].is_string(), "{}", records[0]);

        // One statement for the write itself: the pool ran the login's read, the profile's
        // id, and the write (and a check of each connection it took).
        let before = app.server_pool.queries();
        let created = app
            .request_as(Method::POST, PROFILES, "default", "writer", PASSWORD)
            .json(&json!({"name": "counted", "defaultProfile": false}))
            .send()
            .await
            .expect("sent");
        assert_eq!(created.status(), 201);
        let statements = app.server_pool.queries() - before;
        assert!(statements <= 5, "{statements} statements for one create");

        // A name already taken is a 409 from the statement, and nothing more is written.
        let taken = app
            .request_as(Method::POST, PROFILES, "default", "writer", PASSWORD)
            .json(&json!({"name": "counted", "defaultProfile": false}))
            .send()
            .await
            .expect("sent");
        assert_eq!(taken.status(), 409);
        assert_eq!(app.names("").await, ["after-a-wait", "counted"]);
    }

    async fn create_waiting_for_the_tenant_sees_the_callers_rights_as_that_write_left_them(backend) {
        let app = app_with_writer(backend).await;
        let cases = [
            ("password", "UPDATE users SET password_hash = 'changed' WHERE username = 'writer'"),
            (
                "permission",
                "UPDATE users SET permissions = 'SPCM_PROVISION_PROFILE_READ_PERMISSION' WHERE username = 'writer'",
            ),
            ("removal", "DELETE FROM users WHERE username = 'writer'"),
        ];
        for (what, meanwhile) in cases {
            let (status, body) = create_behind_a_write(&app, &format!("after-{what}"), meanwhile).await;
            assert!(matches!(status, 401 | 403), "{what}: {status} {body}");
            assert_eq!(app.names("").await, Vec::<String>::new(), "{what}: nothing written");
            // Back as it was for the next case.
            let mut conn = diesel::PgConnection::establish(&app.db.url).expect("connect");
            conn.batch_execute("DELETE FROM users WHERE username = 'writer'").expect("reset");
            app.add_user("default", "writer", PASSWORD, &[Permission::ProfileRead, Permission::ProfileCreate]);
        }
        let changes = count(&app, "SELECT count(*) AS n FROM changes WHERE entity = 'provisionProfile'");
        assert_eq!(changes, 0, "no change record of a write that did not happen");
    }
}
