//! `Idempotency-Key` (contract §2.2): a retried POST or catalogue import is answered as
//! the first one was, writing nothing; the same key with another request is 422; while the
//! first runs, 409.

use reqwest::{Method, Response};
use serde_json::{json, Value};
use spcm::auth::Permission;
use spcm::store::idempotency::{self, Begun, ABANDONED_MS};

use crate::helpers::{backend_tests, expect_json, TestApp, PROFILES};

async fn post(app: &TestApp, key: &str, body: &Value) -> Response {
    app.request(Method::POST, PROFILES).header("idempotency-key", key).json(body).send().await.unwrap()
}

/// How many changes the tenant's feed holds.
async fn changes(app: &TestApp) -> usize {
    let feed = expect_json(app.request(Method::GET, "/pcc/spcm/changes?limit=1000").send().await.unwrap(), 200).await;
    feed["length"].as_u64().unwrap() as usize
}

async fn total(app: &TestApp) -> String {
    let listing = app.list("limit=1").await;
    listing.headers()["x-total-count"].to_str().unwrap().to_owned()
}

backend_tests! {
    async fn a_retried_post_gets_the_first_answer_again_and_writes_nothing(app) {
        let body = json!({"name": "turkeySauce", "defaultProfile": true});
        let first = post(&app, "order-1", &body).await;
        assert_eq!(first.status(), 201);
        let (location, etag) = (first.headers()["location"].clone(), first.headers()["etag"].clone());
        let first_body = first.bytes().await.unwrap();
        let (written, count) = (changes(&app).await, total(&app).await);

        for retry in [app.another_instance().await, app.another_instance().await] {
            let again = post(&retry, "order-1", &body).await;
            assert_eq!(again.status(), 201, "another instance answers from the database");
            assert_eq!(again.headers()["location"], location);
            assert_eq!(again.headers()["etag"], etag);
            assert_eq!(again.bytes().await.unwrap(), first_body);
        }
        assert_eq!(changes(&app).await, written, "no change recorded");
        assert_eq!(total(&app).await, count, "nothing written");

        // The same key with another body: 422, nothing written.
        let other = post(&app, "order-1", &json!({"name": "chaCha", "defaultProfile": true})).await;
        let refused = expect_json(other, 422).await;
        assert!(refused["message"].as_str().unwrap().contains("Idempotency-Key"), "{refused}");
        assert_eq!(total(&app).await, count);

        // Another key, or no key, is another request: the name is taken now.
        assert_eq!(post(&app, "order-2", &body).await.status(), 409);
        let again_409 = post(&app, "order-2", &body).await;
        assert_eq!(again_409.status(), 409, "a refusal is kept and given again too");

        // Another caller's key of the same name is its own.
        app.add_user("default", "ops", "ops-password-123", &[Permission::ProfileCreate, Permission::ProfileRead]);
        let as_ops = app
            .request_as(Method::POST, PROFILES, "default", "ops", "ops-password-123")
            .header("idempotency-key", "order-1")
            .json(&json!({"name": "chaCha", "defaultProfile": false}))
            .send()
            .await
            .unwrap();
        assert_eq!(as_ops.status(), 201);
    }

    async fn a_retried_batch_and_import_are_answered_once(app) {
        let batch = json!([{"name": "a", "defaultProfile": true}, {"name": "a", "defaultProfile": false}]);
        let first = post(&app, "batch-1", &batch).await;
        assert_eq!(first.status(), 207);
        let first_body = first.bytes().await.unwrap();
        let again = post(&app, "batch-1", &batch).await;
        assert_eq!(again.status(), 207);
        assert_eq!(again.bytes().await.unwrap(), first_body, "the same results, not a duplicate of each item");
        assert_eq!(total(&app).await, "1");

        let token = app.create_token("default", &[Permission::CatalogueWrite, Permission::CatalogueRead], None);
        let import = |key: &'static str, document: Value| {
            let request = app.client.put(app.url("/v2/orgs/default/catalogue")).bearer_auth(&token);
            request.header("idempotency-key", key).json(&document).send()
        };
        let empty = json!({});
        assert_eq!(import("import-1", empty.clone()).await.unwrap().status(), 200);
        let written = changes(&app).await;
        assert_eq!(import("import-1", empty.clone()).await.unwrap().status(), 200);
        assert_eq!(changes(&app).await, written);
        let other = import("import-1", json!({"services": []})).await.unwrap();
        assert_eq!(other.status(), 422);
        assert_eq!(other.json::<Value>().await.unwrap(), json!("Unprocessable Entity"));
    }

    async fn a_malformed_key_is_a_400_and_nothing_is_written(app) {
        let body = json!({"name": "x", "defaultProfile": true});
        for key in ["", &"k".repeat(256), "two words", "tab\tkey", "ünïcode"] {
            let response = app
                .request(Method::POST, PROFILES)
                .header("idempotency-key", reqwest::header::HeaderValue::from_bytes(key.as_bytes()).unwrap())
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 400, "{key:?}");
        }
        assert_eq!(post(&app, &"k".repeat(255), &body).await.status(), 201, "255 visible characters are a key");
        assert_eq!(total(&app).await, "1");
    }

    async fn a_key_still_running_is_409_until_it_is_answered_or_abandoned(app) {
        let mut conn = app.pool.get().unwrap();
        let tenant_id = 1;
        let now = 1_000_000_000_000;
        assert_eq!(idempotency::begin(&mut conn, tenant_id, "scope", "request", now).unwrap(), Begun::First);
        assert_eq!(idempotency::begin(&mut conn, tenant_id, "scope", "request", now + 10).unwrap(), Begun::Running);
        assert_eq!(idempotency::begin(&mut conn, tenant_id, "scope", "other", now + 10).unwrap(), Begun::OtherRequest);
        // Its request ended without an answer (a crash): taken over.
        let later = now + ABANDONED_MS + 1;
        assert_eq!(idempotency::begin(&mut conn, tenant_id, "scope", "request", later).unwrap(), Begun::First);
        idempotency::answer(&mut conn, tenant_id, "scope", 201, "{}", 1_000).unwrap();
        assert_eq!(
            idempotency::begin(&mut conn, tenant_id, "scope", "request", later + 1).unwrap(),
            Begun::Answered { status: 201, answer: "{}".into() }
        );
        // Answers beyond the tenant's budget of bytes: the oldest keys are forgotten first.
        for (n, at) in [(1, later + 2), (2, later + 3), (3, later + 4)] {
            let scope = format!("big-{n}");
            assert_eq!(idempotency::begin(&mut conn, tenant_id, &scope, "request", at).unwrap(), Begun::First);
            idempotency::answer(&mut conn, tenant_id, &scope, 207, &"x".repeat(400), 1_000).unwrap();
        }
        for (scope, kept) in [("scope", false), ("big-1", false), ("big-2", true), ("big-3", true)] {
            let again = idempotency::begin(&mut conn, tenant_id, scope, "request", later + 5).unwrap();
            assert_eq!(again != Begun::First, kept, "{scope}: {again:?}");
        }

        // A day later it is forgotten.
        let next_day = later + idempotency::KEPT_MS + 1;
        assert_eq!(idempotency::begin(&mut conn, tenant_id, "scope", "request", next_day).unwrap(), Begun::First);
    }
}
