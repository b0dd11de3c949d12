//! The change history (contract §7): one record per change, in the change's own
//! transaction, with the exact shape; a profile's history and the tenant's feed.

use std::process::Command;

use reqwest::Method;
use serde_json::{json, Value};
use spcm::auth::Permission;

use crate::helpers::{backend_tests, expect_json, TestApp, PROFILES};

const FEED: &str = "/pcc/spcm/changes";
const PROFILE_FIELDS: [&str; 11] = [
    "id",
    "name",
    "defaultProfile",
    "locale",
    "initialCorePlanName",
    "subscriberClass",
    "subscriberType",
    "dpsEnabled",
    "dpsNotification",
    "eosNotification",
    "paygNotification",
];

/// Every change of tenant `default` after `after`, read as the bootstrap admin.
async fn feed(app: &TestApp, after: i64) -> Vec<Value> {
    let body =
        expect_json(app.request(Method::GET, &format!("{FEED}?after={after}&limit=1000")).send().await.unwrap(), 200)
            .await;
    body["changes"].as_array().expect("changes").clone()
}

async fn last_id(app: &TestApp) -> i64 {
    feed(app, 0).await.last().map_or(0, |c| c["id"].as_i64().unwrap())
}

fn summary(change: &Value) -> (String, String, String, Value) {
    (
        change["eventType"].as_str().unwrap().to_owned(),
        change["entityId"].as_str().unwrap().to_owned(),
        change["action"].as_str().unwrap().to_owned(),
        change["changedFields"].clone(),
    )
}

fn is_rfc3339_millis_utc(at: &str) -> bool {
    // 2026-11-30T10:15:22.120Z
    at.len() == 24
        && at.ends_with('Z')
        && at.as_bytes()[10] == b'T'
        && at.as_bytes()[19] == b'.'
        && chrono::DateTime::parse_from_rfc3339(at).is_ok()
}

backend_tests! {
    async fn a_created_profile_is_recorded_with_who_when_and_the_request(app) {
        let before = last_id(&app).await;
        let response = app.request(Method::POST, PROFILES).header("x-request-id", "req-create-1")
            .json(&json!({"name": "turkeySauce", "defaultProfile": false, "locale": "en"})).send().await.unwrap();
        let created = expect_json(response, 201).await;
        let changes = feed(&app, before).await;
        assert_eq!(changes.len(), 1, "{changes:?}");
        let change = &changes[0];
        let keys: Vec<&str> = change.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["id", "at", "tenant", "actor", "requestId", "eventType", "entity", "entityId", "action",
            "changedFields", "before", "after"]);
        assert!(change["id"].as_i64().unwrap() > before);
        assert!(is_rfc3339_millis_utc(change["at"].as_str().unwrap()), "{}", change["at"]);
        assert_eq!(change["tenant"], "default");
        assert_eq!(change["actor"], json!({"kind": "user", "name": "admin"}));
        assert_eq!(change["requestId"], "req-create-1");
        assert_eq!(change["eventType"], "PROVISION_PROFILE_CREATED");
        assert_eq!(change["entity"], "provisionProfile");
        assert_eq!(change["entityId"], created["id"].as_i64().unwrap().to_string());
        assert_eq!(change["action"], "created");
        assert_eq!(change["changedFields"], json!(PROFILE_FIELDS));
        assert_eq!(change["before"], Value::Null);
        let after = change["after"].as_object().unwrap();
        for field in PROFILE_FIELDS {
            assert_eq!(after[field], created[field], "{field}");
        }
        assert_eq!(after.len(), PROFILE_FIELDS.len());
    }

    async fn an_update_lists_the_changed_fields_and_a_default_move_records_both_profiles(app) {
        let old = app.create_profile("old", true).await;
        let new = app.create_profile("new", false).await;
        let (old_id, new_id) = (old["id"].as_i64().unwrap(), new["id"].as_i64().unwrap());
        let before = last_id(&app).await;

        expect_json(app.put_profile(new_id, &json!({"subscriberClass": "gold", "locale": null})).await, 200).await;
        let changes = feed(&app, before).await;
        assert_eq!(changes.len(), 1, "a null that was null already is no change: {changes:?}");
        assert_eq!(summary(&changes[0]), ("PROVISION_PROFILE_UPDATED".into(), new_id.to_string(), "updated".into(), json!(["subscriberClass"])));
        assert_eq!(changes[0]["before"]["subscriberClass"], Value::Null);
        assert_eq!(changes[0]["after"]["subscriberClass"], "gold");

        let before = last_id(&app).await;
        expect_json(app.put_profile(new_id, &json!({"defaultProfile": true})).await, 200).await;
        let changes = feed(&app, before).await;
        let summaries: Vec<_> = changes.iter().map(summary).collect();
        assert_eq!(summaries, [
            ("PROVISION_PROFILE_UPDATED".into(), new_id.to_string(), "updated".into(), json!(["defaultProfile"])),
            ("PROVISION_PROFILE_UPDATED".into(), old_id.to_string(), "updated".into(), json!(["defaultProfile"])),
        ]);
        assert_eq!((changes[1]["before"]["defaultProfile"].clone(), changes[1]["after"]["defaultProfile"].clone()), (json!(true), json!(false)));
        assert_eq!(changes[1]["after"]["name"], "old");

        // A new default by POST: the created profile, then the old default.
        let before = last_id(&app).await;
        let third = app.create_profile("third", true).await["id"].as_i64().unwrap();
        let summaries: Vec<_> = feed(&app, before).await.iter().map(summary).collect();
        assert_eq!(summaries, [
            ("PROVISION_PROFILE_CREATED".into(), third.to_string(), "created".into(), json!(PROFILE_FIELDS)),
            ("PROVISION_PROFILE_UPDATED".into(), new_id.to_string(), "updated".into(), json!(["defaultProfile"])),
        ]);

        // A PUT that changes nothing records nothing.
        let before = last_id(&app).await;
        expect_json(app.put_profile(new_id, &json!({"name": "new"})).await, 200).await;
        assert_eq!(feed(&app, before).await, Vec::<Value>::new());
    }

    async fn a_refused_write_records_nothing(app) {
        let default = app.create_profile("d", true).await["id"].as_i64().unwrap();
        let other = app.create_profile("o", false).await["id"].as_i64().unwrap();
        let before = last_id(&app).await;
        assert_eq!(app.post_profile(&json!({"name": "o", "defaultProfile": true})).await.status(), 409);
        assert_eq!(app.put_profile(default, &json!({"defaultProfile": false})).await.status(), 422);
        assert_eq!(app.put_profile(other, &json!({"name": "d", "defaultProfile": true})).await.status(), 409);
        assert_eq!(app.delete_profile(default).await.status(), 422);
        assert_eq!(app.delete_profile(999_999).await.status(), 404);
        assert_eq!(app.post_profile(&json!({"defaultProfile": true})).await.status(), 412);
        assert_eq!(feed(&app, before).await, Vec::<Value>::new(), "no record without its change");
        assert_eq!(app.default_names().await, ["d"], "and the default did not move");
    }

    async fn each_successful_item_of_a_batch_records_its_own_change(app) {
        let before = last_id(&app).await;
        let body = json!([{"name": "a", "defaultProfile": false}, {"name": "a", "defaultProfile": false}, {"name": "b", "defaultProfile": false}]);
        let results = expect_json(app.send_json(Method::POST, PROFILES, &body).await, 207).await;
        let statuses: Vec<i64> = results["results"].as_array().unwrap().iter().map(|r| r["status"].as_i64().unwrap()).collect();
        assert_eq!(statuses, [201, 409, 201]);
        let names: Vec<Value> = feed(&app, before).await.iter().map(|c| c["after"]["name"].clone()).collect();
        assert_eq!(names, [json!("a"), json!("b")]);

        let ids: Vec<i64> = results["results"].as_array().unwrap().iter().filter_map(|r| r["provisioningProfile"]["id"].as_i64()).collect();
        let before = last_id(&app).await;
        let path = format!("{PROFILES}?id={}&id=999999&id={}", ids[0], ids[1]);
        expect_json(app.request(Method::DELETE, &path).send().await.unwrap(), 207).await;
        let deleted: Vec<_> = feed(&app, before).await.iter().map(summary).collect();
        assert_eq!(deleted.iter().map(|s| (s.0.as_str(), s.1.clone())).collect::<Vec<_>>(),
            [("PROVISION_PROFILE_DELETED", ids[0].to_string()), ("PROVISION_PROFILE_DELETED", ids[1].to_string())]);
    }

    async fn the_history_of_a_profile_is_newest_first_paged_and_outlives_it(app) {
        let id = app.create_profile("h", false).await["id"].as_i64().unwrap();
        for class in ["one", "two", "three"] {
            expect_json(app.put_profile(id, &json!({"subscriberClass": class})).await, 200).await;
        }
        assert_eq!(app.delete_profile(id).await.status(), 204);
        let path = format!("{PROFILES}/{id}/history");
        let all = expect_json(app.request(Method::GET, &path).send().await.unwrap(), 200).await;
        assert_eq!(all["length"], 5);
        let actions: Vec<&str> = all["changes"].as_array().unwrap().iter().map(|c| c["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["deleted", "updated", "updated", "updated", "created"]);
        assert_eq!(all["changes"][0]["before"]["subscriberClass"], "three");
        assert_eq!(all["changes"][0]["after"], Value::Null);
        assert_eq!(all["_links"], json!({"self": {"href": path}}));

        let first = expect_json(app.request(Method::GET, &format!("{path}?limit=2")).send().await.unwrap(), 200).await;
        assert_eq!(first["length"], 2);
        let next = first["_links"]["next"]["href"].as_str().unwrap().to_owned();
        assert_eq!(next, format!("{path}?offset=2&limit=2"));
        let second = expect_json(app.request(Method::GET, &next).send().await.unwrap(), 200).await;
        let third = expect_json(app.request(Method::GET, second["_links"]["next"]["href"].as_str().unwrap()).send().await.unwrap(), 200).await;
        assert_eq!(third["length"], 1);
        assert_eq!(third["changes"][0]["action"], "created");
        assert!(third["_links"].get("next").is_none(), "nothing after the last page: {third}");

        let unknown = expect_json(app.request(Method::GET, &format!("{PROFILES}/999999/history")).send().await.unwrap(), 404).await;
        assert_eq!(unknown, json!({"message": "provisioning profile 999999 not found", "errorCode": 404}));
        assert_eq!(app.request(Method::GET, &format!("{PROFILES}/abc/history")).send().await.unwrap().status(), 400);
        assert_eq!(app.request(Method::GET, &format!("{path}?limit=0")).send().await.unwrap().status(), 400);
        assert_eq!(app.request(Method::GET, &format!("{path}?offset=-1")).send().await.unwrap().status(), 400);
    }

    async fn the_feed_pages_oldest_first_and_every_non_empty_page_links_to_the_next(app) {
        for name in ["f1", "f2", "f3", "f4", "f5"] {
            app.create_profile(name, false).await;
        }
        let mut after = 0;
        let mut seen = Vec::new();
        loop {
            let path = format!("{FEED}?after={after}&limit=2");
            let page = expect_json(app.request(Method::GET, &path).send().await.unwrap(), 200).await;
            assert_eq!(page["_links"]["self"]["href"], path);
            let changes = page["changes"].as_array().unwrap();
            assert_eq!(page["length"], changes.len());
            if changes.is_empty() {
                assert!(page["_links"].get("next").is_none(), "{page}");
                break;
            }
            let last = changes.last().unwrap()["id"].as_i64().unwrap();
            assert_eq!(page["_links"]["next"]["href"], format!("{FEED}?after={last}&limit=2"));
            seen.extend(changes.iter().map(|c| c["id"].as_i64().unwrap()));
            after = last;
        }
        let mut sorted = seen.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(seen, sorted, "oldest first, each once");
        // The bootstrap's tenant and admin, then five profiles.
        assert_eq!(seen.len(), 7);
        let whole = feed(&app, 0).await;
        assert_eq!(summary(&whole[0]).0, "TENANT_CREATED");
        assert_eq!(whole[0]["actor"], json!({"kind": "cli", "name": "cli"}));
        assert_eq!(summary(&whole[1]).0, "USER_CREATED");

        for bad in ["after=x", "after=-1", "limit=0", "limit=1001", "after=1&after=2"] {
            let response = app.request(Method::GET, &format!("{FEED}?{bad}")).send().await.unwrap();
            assert_eq!(expect_json(response, 400).await["errorCode"], 400, "{bad}");
        }
    }

    async fn the_audit_permission_is_needed_and_suffices(app) {
        let id = app.create_profile("p", false).await["id"].as_i64().unwrap();
        app.add_user("default", "reader", "reader-Secret-1", &[Permission::ProfileRead, Permission::ProfileCreate]);
        app.add_user("default", "auditor", "auditor-Secret-1", &[Permission::AuditRead]);
        let history = format!("{PROFILES}/{id}/history");
        for path in [FEED, history.as_str()] {
            let refused = app.request_as(Method::GET, path, "default", "reader", "reader-Secret-1").send().await.unwrap();
            assert_eq!(expect_json(refused, 403).await,
                json!({"message": "forbidden; missing SPCM_AUDIT_READ_PERMISSION", "errorCode": 403}), "{path}");
            let allowed = app.request_as(Method::GET, path, "default", "auditor", "auditor-Secret-1").send().await.unwrap();
            assert_eq!(allowed.headers()["content-type"], "application/hal+json");
            assert!(expect_json(allowed, 200).await["length"].as_u64().unwrap() >= 1, "{path}");
            let wrong = app.request_as(Method::GET, path, "default", "auditor", "wrong").send().await.unwrap();
            assert_eq!(wrong.status(), 401);
        }
        let head = app.request_as(Method::HEAD, FEED, "default", "auditor", "auditor-Secret-1").send().await.unwrap();
        assert_eq!(head.status(), 200);
        let listing = app.request_as(Method::GET, PROFILES, "default", "auditor", "auditor-Secret-1").send().await.unwrap();
        assert_eq!(listing.status(), 403, "the audit permission reads changes, not profiles");
    }

    async fn users_tokens_tenants_and_catalogues_are_recorded_without_secrets(app) {
        app.add_tenant("acme");
        app.add_user("acme", "boss", "boss-Secret-1", &[Permission::AuditRead, Permission::ProfileCreate]);
        app.set_password("acme", "boss", "boss-Secret-2");
        app.add_user("acme", "temp", "temp-Secret-1", &[Permission::ProfileRead]);
        app.remove_user("acme", "temp");
        let token = app.create_token("acme", &[Permission::CatalogueWrite, Permission::CatalogueRead], None);
        let profile = app.request_as(Method::POST, PROFILES, "acme", "boss", "boss-Secret-2")
            .json(&json!({"name": "turkeySauce", "defaultProfile": true})).send().await.unwrap();
        assert_eq!(profile.status(), 201);
        let document = json!({"bundled_products": [{"id": "BP1", "name": "Fibra", "provisioning_profiles": [{"profile_name": "turkeySauce"}]}]});
        assert_eq!(app.import_catalogue("acme", &token, &document).await.status(), 200);
        assert_eq!(app.import_catalogue("acme", &token, &document).await.status(), 200, "the same document again");
        app.revoke_tokens("acme");

        let response = app.request_as(Method::GET, FEED, "acme", "boss", "boss-Secret-2").send().await.unwrap();
        let body = expect_json(response, 200).await;
        let changes = body["changes"].as_array().unwrap();
        let summaries: Vec<(String, String, Value)> = changes.iter()
            .map(|c| (c["eventType"].as_str().unwrap().to_owned(), c["actor"]["kind"].as_str().unwrap().to_owned(), c["changedFields"].clone()))
            .collect();
        let token_id = changes[5]["entityId"].as_str().unwrap().to_owned();
        assert_eq!(summaries, [
            ("TENANT_CREATED".into(), "cli".into(), json!(["name"])),
            ("USER_CREATED".into(), "cli".into(), json!(["username", "permissions"])),
            ("USER_UPDATED".into(), "cli".into(), json!(["password"])),
            ("USER_CREATED".into(), "cli".into(), json!(["username", "permissions"])),
            ("USER_DELETED".into(), "cli".into(), json!(["username", "permissions"])),
            ("TOKEN_CREATED".into(), "cli".into(), json!(["id", "permissions", "createdAt", "expiresAt", "revoked"])),
            ("PROVISION_PROFILE_CREATED".into(), "user".into(), json!(PROFILE_FIELDS)),
            ("CATALOGUE_IMPORTED".into(), "token".into(), json!(["services", "base_profiles", "value_added_services",
                "commercial_products", "bundled_products", "bundled_product_subs_types", "bundled_commercial_products", "version"])),
            ("TOKEN_UPDATED".into(), "cli".into(), json!(["revoked"])),
        ], "the second import changed nothing and recorded nothing");
        assert_eq!(changes[0]["after"], json!({"name": "acme"}));
        assert_eq!(changes[0]["entityId"], "acme");
        assert_eq!(changes[1]["after"], json!({"username": "boss",
            "permissions": ["SPCM_PROVISION_PROFILE_CREATE_PERMISSION", "SPCM_AUDIT_READ_PERMISSION"]}));
        assert_eq!(changes[2]["before"], changes[2]["after"], "a password change shows no password");
        assert_eq!(changes[4]["after"], Value::Null);
        assert_eq!(changes[5]["after"]["revoked"], false);
        assert_eq!(changes[5]["after"]["expiresAt"], Value::Null);
        assert_eq!(changes[6]["actor"], json!({"kind": "user", "name": "boss"}));
        assert_eq!(changes[7]["actor"], json!({"kind": "token", "name": token_id}));
        assert_eq!(changes[7]["entity"], "catalogue");
        assert_eq!(changes[7]["before"], Value::Null);
        assert_eq!(changes[7]["after"]["bundled_products"], 1);
        assert_eq!(changes[7]["after"]["version"], 1);
        assert_eq!((changes[8]["before"]["revoked"].clone(), changes[8]["after"]["revoked"].clone()), (json!(false), json!(true)));

        let text = body.to_string();
        for secret in ["boss-Secret-1", "boss-Secret-2", "temp-Secret-1", "$argon2", token.as_str(), &spcm::auth::token_digest(&secrecy::SecretString::from(token.clone()))] {
            assert!(!text.contains(secret), "a change shows a secret: {secret}");
        }
        let other = expect_json(app.request(Method::GET, &format!("{FEED}?limit=1000")).send().await.unwrap(), 200).await;
        assert!(other["changes"].as_array().unwrap().iter().all(|c| c["tenant"] == "default"), "each tenant sees its own");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_prints_the_feed_one_json_change_a_line() {
    let app = crate::helpers::spawn_app(crate::helpers::TestBackend::Sqlite).await;
    for name in ["c1", "c2", "c3"] {
        app.create_profile(name, false).await;
    }
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_spcm"))
            .arg("changes")
            .args(args)
            .args(["--database-url", &app.db.url])
            .env_remove("SPCM_AMQP_URL")
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    };
    let all: Vec<Value> = run(&["--tenant", "default"]).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(all, feed(&app, 0).await);
    assert_eq!(all.len(), 5);
    let after = all[1]["id"].as_i64().unwrap().to_string();
    let some: Vec<Value> = run(&["--tenant", "default", "--after", &after, "--limit", "2"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(some, all[2..4]);
    let missing = Command::new(env!("CARGO_BIN_EXE_spcm"))
        .args(["changes", "--tenant", "nope", "--database-url", &app.db.url])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no tenant 'nope'"));
}
