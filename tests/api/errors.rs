//! Every row of the contract's error table (§2), and the order in which they are checked.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use spcm::auth::Permission;
use spcm::config::Settings;

use crate::helpers::{backend_tests, expect_json, raw_exchange, raw_request, spawn_with, ADMIN_PASSWORD, PROFILES};

async fn assert_unauthorized(response: reqwest::Response, case: &str) {
    assert_eq!(response.status(), 401, "{case}");
    assert_eq!(response.headers()["www-authenticate"], r#"Basic realm="spcm""#, "{case}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"message": "unauthorised; bad username or password", "errorCode": 401}), "{case}");
}

backend_tests! {
    async fn bad_or_missing_credentials_are_401(app) {
        app.add_tenant("other");
        app.add_user("other", "ops", "ops-pw", &[Permission::ProfileRead]);
        let url = app.url(PROFILES);
        let cases = [
            ("no Authorization", app.client.get(&url).header("tenant", "default")),
            ("malformed Authorization", app.client.get(&url).header("tenant", "default").header("authorization", "Basic !!!")),
            ("another scheme", app.client.get(&url).header("tenant", "default").bearer_auth("token")),
            ("unknown tenant", app.request_as(Method::GET, PROFILES, "nobody", "admin", ADMIN_PASSWORD)),
            ("impossible tenant name", app.request_as(Method::GET, PROFILES, "no such/tenant", "admin", ADMIN_PASSWORD)),
            ("user of another tenant", app.request_as(Method::GET, PROFILES, "default", "ops", "ops-pw")),
            ("wrong password", app.request_as(Method::GET, PROFILES, "default", "admin", "wrong")),
            ("unknown user", app.request_as(Method::GET, PROFILES, "default", "ghost", ADMIN_PASSWORD)),
        ];
        for (case, request) in cases {
            assert_unauthorized(request.send().await.unwrap(), case).await;
        }
    }

    async fn malformed_requests_are_400(app) {
        let cases: Vec<(&str, reqwest::RequestBuilder)> = vec![
            ("no tenant header", app.client.get(app.url(PROFILES)).basic_auth("admin", Some(ADMIN_PASSWORD))),
            ("id not an integer", app.request(Method::GET, &format!("{PROFILES}/abc"))),
            ("id not an integer on PUT", app.request(Method::PUT, &format!("{PROFILES}/1.5")).json(&json!({}))),
            ("id not an integer on DELETE", app.request(Method::DELETE, &format!("{PROFILES}/x"))),
            ("body not JSON", app.request(Method::POST, PROFILES).header("content-type", "application/json").body("{name:")),
            ("empty body", app.request(Method::POST, PROFILES).header("content-type", "application/json")),
            ("JSON scalar body", app.request(Method::POST, PROFILES).json(&json!("chaCha"))),
            ("array on PUT with an id", app.request(Method::PUT, &format!("{PROFILES}/1")).json(&json!([]))),
            ("object on PUT without an id", app.request(Method::PUT, PROFILES).json(&json!({"name": "x"}))),
            ("limit 0", app.request(Method::GET, &format!("{PROFILES}?limit=0"))),
            ("limit 1001", app.request(Method::GET, &format!("{PROFILES}?limit=1001"))),
            ("negative offset", app.request(Method::GET, &format!("{PROFILES}?offset=-1"))),
            ("offset not a number", app.request(Method::GET, &format!("{PROFILES}?offset=ten"))),
            ("defaultProfile not a boolean", app.request(Method::GET, &format!("{PROFILES}?defaultProfile=yes"))),
            ("unknown subscriberType", app.request(Method::GET, &format!("{PROFILES}?subscriberType=HYBRID"))),
            ("repeated parameter", app.request(Method::GET, &format!("{PROFILES}?limit=1&limit=2"))),
            ("bulk delete without ids", app.request(Method::DELETE, PROFILES)),
            ("bulk delete with a bad id", app.request(Method::DELETE, &format!("{PROFILES}?id=1&id=x"))),
        ];
        for (case, request) in cases {
            let body = expect_json(request.send().await.unwrap(), 400).await;
            assert_eq!(body["errorCode"], 400, "{case}");
            assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{case}: {body}");
        }
    }

    async fn missing_permissions_are_403_naming_the_permission(app) {
        app.add_user("default", "reader", "reader-pw", &[Permission::ProfileRead]);
        app.add_user("default", "nobody", "nobody-pw", &[]);
        let id = app.create_profile("target", false).await["id"].as_i64().unwrap();
        let one = format!("{PROFILES}/{id}");
        let cases = [
            ("nobody", Method::GET, PROFILES.to_owned(), None, "SPCM_PROVISION_PROFILE_READ_PERMISSION"),
            ("nobody", Method::GET, one.clone(), None, "SPCM_PROVISION_PROFILE_READ_PERMISSION"),
            ("reader", Method::POST, PROFILES.to_owned(), Some(json!({"name": "x", "defaultProfile": false})), "SPCM_PROVISION_PROFILE_CREATE_PERMISSION"),
            ("reader", Method::PUT, one.clone(), Some(json!({"name": "y"})), "SPCM_PROVISION_PROFILE_UPDATE_PERMISSION"),
            ("reader", Method::PUT, PROFILES.to_owned(), Some(json!([{"id": id, "name": "y"}])), "SPCM_PROVISION_PROFILE_UPDATE_PERMISSION"),
            ("reader", Method::DELETE, one.clone(), None, "SPCM_PROVISION_PROFILE_DELETE_PERMISSION"),
            ("reader", Method::DELETE, format!("{PROFILES}?id={id}"), None, "SPCM_PROVISION_PROFILE_DELETE_PERMISSION"),
        ];
        for (user, method, path, body, permission) in cases {
            let mut request = app.request_as(method.clone(), &path, "default", user, &format!("{user}-pw"));
            if let Some(body) = body {
                request = request.json(&body);
            }
            let body = expect_json(request.send().await.unwrap(), 403).await;
            assert_eq!(body, json!({"message": format!("forbidden; missing {permission}"), "errorCode": 403}), "{user} {method} {path}");
        }
        let reader = app.request_as(Method::GET, &one, "default", "reader", "reader-pw").send().await.unwrap();
        assert_eq!(reader.status(), 200, "the reader may read");
        assert_eq!(expect_json(app.get_profile(id).await, 200).await["name"], "target", "nothing changed");
    }

    async fn a_non_json_content_type_is_415(app) {
        let response = app.request(Method::POST, PROFILES).header("content-type", "text/plain").body("{}").send().await.unwrap();
        let body = expect_json(response, 415).await;
        assert_eq!(body["errorCode"], 415);
        let response = app.request(Method::PUT, &format!("{PROFILES}/1")).header("content-type", "image/png").body("{}").send().await.unwrap();
        assert_eq!(response.status(), 415);
        // XML is a representation of its own: read, and refused for what it says.
        let response = app.request(Method::PUT, &format!("{PROFILES}/1")).header("content-type", "application/xml").body("<a/>").send().await.unwrap();
        assert_eq!(response.status(), 400);
    }

    async fn validation_failures_are_412_listing_every_field(app) {
        let body = expect_json(app.post_profile(&json!({})).await, 412).await;
        assert_eq!(body, json!({"errors": [
            {"field": "name", "description": "name is mandatory"},
            {"field": "defaultProfile", "description": "defaultProfile is mandatory"}
        ]}));

        let bad = json!({
            "name": 42, "defaultProfile": "yes", "locale": "not a locale", "initialCorePlanName": "x".repeat(101),
            "subscriberClass": ["gold"], "subscriberType": "HYBRID", "dpsEnabled": 1, "dpsNotification": null,
            "eosNotification": "false", "paygNotification": {}
        });
        let body = expect_json(app.post_profile(&bad).await, 412).await;
        let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["name", "defaultProfile", "locale", "initialCorePlanName", "subscriberClass",
            "subscriberType", "dpsEnabled", "dpsNotification", "eosNotification", "paygNotification"]);
        assert!(body["errors"].as_array().unwrap().iter().all(|e| e["description"].as_str().is_some_and(|d| !d.is_empty())));

        let cases = [
            (json!({"name": "", "defaultProfile": false}), "name"),
            (json!({"name": "   ", "defaultProfile": false}), "name"),
            (json!({"name": "x".repeat(101), "defaultProfile": false}), "name"),
            (json!({"name": "tab\there", "defaultProfile": false}), "name"),
            (json!({"name": "ok", "defaultProfile": null}), "defaultProfile"),
            (json!({"name": "ok", "defaultProfile": false, "subscriberClass": "x".repeat(101)}), "subscriberClass"),
        ];
        for (body, field) in cases {
            let errors = expect_json(app.post_profile(&body).await, 412).await;
            assert_eq!(errors["errors"][0]["field"], field, "{body}");
        }

        let id = app.create_profile("valid", false).await["id"].as_i64().unwrap();
        let cases = [
            (json!({"name": null}), "name"),
            (json!({"defaultProfile": null}), "defaultProfile"),
            (json!({"dpsEnabled": null}), "dpsEnabled"),
            (json!({"id": id + 1}), "id"),
            (json!({"id": "one"}), "id"),
            (json!({"locale": 5}), "locale"),
        ];
        for (body, field) in cases {
            let errors = expect_json(app.put_profile(id, &body).await, 412).await;
            assert_eq!(errors["errors"][0]["field"], field, "{body}");
        }
        assert_eq!(app.list("").await.json::<Value>().await.unwrap()["length"], 1, "nothing stored by a 412");
    }

    async fn unknown_profiles_are_404(app) {
        let expected = json!({"message": "provisioning profile 424242 not found", "errorCode": 404});
        assert_eq!(expect_json(app.get_profile(424242).await, 404).await, expected);
        assert_eq!(expect_json(app.put_profile(424242, &json!({"name": "x"})).await, 404).await, expected);
        assert_eq!(expect_json(app.delete_profile(424242).await, 404).await, expected);
    }

    async fn a_taken_name_is_409(app) {
        app.create_profile("chaCha", false).await;
        let id = app.create_profile("turkeySauce", false).await["id"].as_i64().unwrap();
        let body = expect_json(app.post_profile(&json!({"name": "chaCha", "defaultProfile": false})).await, 409).await;
        assert_eq!(body, json!({"message": "name 'chaCha' already exists", "errorCode": 409}));
        let body = expect_json(app.put_profile(id, &json!({"name": " chaCha "})).await, 409).await;
        assert_eq!(body["errorCode"], 409);
        let renamed_to_itself = app.put_profile(id, &json!({"name": "turkeySauce"})).await;
        assert_eq!(renamed_to_itself.status(), 200, "keeping one's own name is no conflict");
    }

    async fn checks_follow_the_contract_order(app) {
        app.add_user("default", "reader", "reader-pw", &[Permission::ProfileRead]);
        // 401 before 400: bad credentials with a bad id.
        let response = app.request_as(Method::GET, &format!("{PROFILES}/abc"), "default", "admin", "wrong").send().await.unwrap();
        assert_eq!(response.status(), 401);
        // 403 before 408, 413, 415 and 412: a reader posting anything. The body announced
        // is too large, of the wrong type, and never sent: the head alone decides.
        let reader = ("default", "reader", "reader-pw");
        let headers = [("content-type", "text/plain"), ("content-length", "2097152")];
        let response = raw_exchange(&app, raw_request("POST", PROFILES, reader, &headers, b"")).await;
        assert_eq!((response.status, response.json()["errorCode"].clone()), (403, json!(403)), "{response:?}");
        let response = app.request_as(Method::POST, PROFILES, "default", "reader", "reader-pw").json(&json!({})).send().await.unwrap();
        assert_eq!(response.status(), 403);
        // 413 before 415.
        let response = app.request(Method::POST, PROFILES).header("content-type", "text/plain").body("x".repeat(1024 * 1024 + 1)).send().await.unwrap();
        assert_eq!(response.status(), 413);
        // 412 before 404.
        assert_eq!(app.put_profile(999_999, &json!({"name": ""})).await.status(), 412);
        // 404 before 422.
        assert_eq!(app.put_profile(999_999, &json!({"defaultProfile": false})).await.status(), 404);
    }

    async fn a_database_failure_is_a_500_that_leaks_nothing(app) {
        {
            use diesel::connection::SimpleConnection;
            let mut conn = app.pool.get().unwrap();
            conn.batch_execute("ALTER TABLE provisioning_profiles RENAME TO sabotaged").unwrap();
        }
        let response = app.list("").await;
        let body = expect_json(response, 500).await;
        assert_eq!(body, json!({"message": "Internal server error - [database error]", "status": "error"}));
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = spawn_with(Settings { body_limit: 1024, ..Settings::default() }).await;
    let big = json!({"name": "x", "defaultProfile": false, "subscriberClass": "y".repeat(2000)});
    let body = expect_json(app.post_profile(&big).await, 413).await;
    assert_eq!(body["errorCode"], 413);
    assert!(body["message"].as_str().unwrap().contains("1024"));
    // Without Content-Length (chunked), the limit holds too.
    let stream = futures_util::stream::iter((0..8).map(|_| Ok::<_, std::io::Error>(vec![b' '; 512])));
    let response = app
        .request(Method::POST, PROFILES)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn a_request_that_cannot_get_a_connection_in_time_is_a_fast_503() {
    let app = spawn_with(Settings { pool_size: 1, pool_timeout_ms: 200, ..Settings::default() }).await;
    app.create_profile("warm", false).await;
    // Hold SQLite's write lock from outside the service.
    let mut blocker = diesel::SqliteConnection::establish(app.db.url.trim_start_matches("sqlite://")).unwrap();
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    blocker.batch_execute("BEGIN IMMEDIATE").unwrap();

    // WAL: readers are not blocked by the writer.
    assert_eq!(app.list("").await.status(), 200);

    // Three writers, one connection: each waits either for the pool or for the lock,
    // never longer than the configured wait.
    let started = Instant::now();
    let blocked = json!({"name": "blocked", "defaultProfile": false});
    let (a, b, c) = tokio::join!(app.post_profile(&blocked), app.post_profile(&blocked), app.post_profile(&blocked));
    let elapsed = started.elapsed();
    for response in [a, b, c] {
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["retry-after"], "1");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, json!({"message": "request rejected due to overload", "status": "error"}));
    }
    assert!(elapsed < Duration::from_secs(5), "503 must come without a hang, took {elapsed:?}");

    blocker.batch_execute("ROLLBACK").unwrap();
    assert_eq!(app.post_profile(&json!({"name": "after", "defaultProfile": false})).await.status(), 201, "recovers");
    assert_eq!(
        app.list("name=blocked").await.json::<Value>().await.unwrap()["length"],
        0,
        "the 503 write did not happen"
    );
}
