//! Repeated reads are answered from memory and stay exact: a write on any instance, a
//! changed password or a removed user counts on the very next read of another instance
//! sharing the database.

use reqwest::Method;
use serde_json::{json, Value};
use spcm::auth::Permission;

use crate::helpers::{backend_tests, expect_json, ADMIN_PASSWORD, PROFILES};

backend_tests! {
    async fn a_repeated_read_costs_one_statement_and_none_on_sqlite(app) {
        let id = app.create_profile("counted", false).await["id"].as_i64().unwrap();
        let first = expect_json(app.get_profile(id).await, 200).await;
        let listed = expect_json(app.list("limit=5").await, 200).await;
        // The first checks connect the version checker and, on SQLite, map the WAL index.
        for _ in 0..2 {
            expect_json(app.get_profile(id).await, 200).await;
        }
        let before = app.server_pool.queries();
        for _ in 0..5 {
            assert_eq!(expect_json(app.get_profile(id).await, 200).await, first);
            let again = app.list("limit=5").await;
            assert_eq!(again.headers()["x-total-count"], "1");
            assert_eq!(again.headers()["content-type"], "application/hal+json");
            assert_eq!(expect_json(again, 200).await, listed);
        }
        // On SQLite, nothing was committed since the last check: no statement at all.
        let expected = if app.server_pool.backend() == spcm::store::Backend::Sqlite { 0 } else { 10 };
        assert_eq!(app.server_pool.queries() - before, expected, "one version check per read, nothing else");
    }

    async fn writes_on_one_instance_count_on_the_next_read_of_another(app) {
        let other = app.another_instance().await;
        let id = app.create_profile("moving", false).await["id"].as_i64().unwrap();
        for round in 0..10 {
            let name = format!("moving-{round}");
            for _ in 0..2 {
                let seen = expect_json(other.get_profile(id).await, 200).await;
                assert_ne!(seen["name"], json!(name));
                expect_json(other.list("").await, 200).await;
            }
            expect_json(app.put_profile(id, &json!({"name": name})).await, 200).await;
            let seen = expect_json(other.get_profile(id).await, 200).await;
            assert_eq!(seen["name"], json!(name), "round {round}: the other instance reads the write at once");
            let listed = expect_json(other.list("").await, 200).await;
            assert_eq!(listed["provisioningProfileDTOList"][0]["name"], json!(name));
        }
        let listed = expect_json(other.list("").await, 200).await;
        assert_eq!(listed["length"], 1);
        app.create_profile("second", false).await;
        let listed = expect_json(other.list("").await, 200).await;
        assert_eq!(listed["length"], 2, "a created profile shows at once");
        assert_eq!(app.delete_profile(id).await.status(), 204);
        assert_eq!(other.get_profile(id).await.status(), 404, "a deleted profile is gone at once");
    }

    async fn credential_changes_count_on_the_next_cached_read_of_another_instance(app) {
        let other = app.another_instance().await;
        let id = app.create_profile("guarded", false).await["id"].as_i64().unwrap();
        let path = format!("{PROFILES}/{id}");
        app.add_user("default", "ops", "first-pw", &[Permission::ProfileRead]);
        let read = |password: &str| other.request_as(Method::GET, &path, "default", "ops", password).send();
        for _ in 0..3 {
            assert_eq!(read("first-pw").await.unwrap().status(), 200);
        }
        assert_eq!(read("wrong-pw").await.unwrap().status(), 401, "another password is not the cached one");

        app.set_password("default", "ops", "second-pw");
        assert_eq!(read("first-pw").await.unwrap().status(), 401, "the old password is refused at once");
        for _ in 0..3 {
            assert_eq!(read("second-pw").await.unwrap().status(), 200);
        }
        app.remove_user("default", "ops");
        assert_eq!(read("second-pw").await.unwrap().status(), 401, "a removed user is refused at once");

        app.add_user("default", "ops", "second-pw", &[Permission::ProfileCreate]);
        assert_eq!(read("second-pw").await.unwrap().status(), 403, "the new user's permissions count");
        assert_eq!(other.get_profile(id).await.status(), 200, "the admin still reads it");
    }

    async fn a_cached_answer_never_crosses_tenants(app) {
        let id = app.create_profile("mine", false).await["id"].as_i64().unwrap();
        let path = format!("{PROFILES}/{id}");
        for _ in 0..2 {
            assert_eq!(app.get_profile(id).await.status(), 200);
            assert_eq!(app.list("").await.status(), 200);
        }
        app.add_tenant("other");
        app.add_user("other", "admin", ADMIN_PASSWORD, &[Permission::ProfileRead]);
        for _ in 0..2 {
            let theirs = app.request_as(Method::GET, &path, "other", "admin", ADMIN_PASSWORD).send().await.unwrap();
            assert_eq!(theirs.status(), 404);
            let list = app.request_as(Method::GET, PROFILES, "other", "admin", ADMIN_PASSWORD).send().await.unwrap();
            let list: Value = expect_json(list, 200).await;
            assert_eq!(list["length"], 0);
        }
    }
}
