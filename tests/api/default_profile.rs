//! The default-profile rule (contract §2): at most one per tenant, moving atomically,
//! never vanishing while other profiles exist; also under concurrent requests.

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::{backend_tests, expect_json};

backend_tests! {
    async fn creating_a_default_moves_the_default(app) {
        let first = app.create_profile("chaCha", true).await["id"].as_i64().unwrap();
        let second = app.create_profile("turkeySauce", true).await["id"].as_i64().unwrap();
        assert_eq!(app.default_names().await, ["turkeySauce"]);
        assert_eq!(expect_json(app.get_profile(first).await, 200).await["defaultProfile"], false);
        assert_eq!(expect_json(app.get_profile(second).await, 200).await["defaultProfile"], true);
    }

    async fn updating_to_default_moves_the_default(app) {
        app.create_profile("chaCha", true).await;
        let other = app.create_profile("turkeySauce", false).await["id"].as_i64().unwrap();
        let updated = expect_json(app.put_profile(other, &json!({"defaultProfile": true})).await, 200).await;
        assert_eq!(updated["defaultProfile"], true);
        assert_eq!(app.default_names().await, ["turkeySauce"]);
        let again = expect_json(app.put_profile(other, &json!({"defaultProfile": true})).await, 200).await;
        assert_eq!(again["defaultProfile"], true, "making the default the default again is fine");
    }

    async fn the_default_cannot_be_unset_1002(app) {
        let id = app.create_profile("chaCha", true).await["id"].as_i64().unwrap();
        let body = expect_json(app.put_profile(id, &json!({"defaultProfile": false, "locale": "es"})).await, 422).await;
        assert_eq!(body["errorCode"], 1002);
        assert!(body["message"].as_str().unwrap().contains("default"));
        let stored = expect_json(app.get_profile(id).await, 200).await;
        assert_eq!(stored["defaultProfile"], true);
        assert!(stored["locale"].is_null(), "a refused PUT changes nothing");
    }

    async fn the_default_cannot_be_deleted_while_others_exist_1001(app) {
        let default = app.create_profile("chaCha", true).await["id"].as_i64().unwrap();
        let other = app.create_profile("turkeySauce", false).await["id"].as_i64().unwrap();
        let body = expect_json(app.delete_profile(default).await, 422).await;
        assert_eq!(body["errorCode"], 1001);
        assert_eq!(app.get_profile(default).await.status(), 200);

        assert_eq!(app.delete_profile(other).await.status(), 204);
        assert_eq!(app.delete_profile(default).await.status(), 204, "the last profile may go");
        assert_eq!(app.list("").await.json::<serde_json::Value>().await.unwrap()["length"], 0);
    }

    async fn non_default_profiles_come_and_go_freely(app) {
        let id = app.create_profile("plain", false).await["id"].as_i64().unwrap();
        assert!(app.default_names().await.is_empty(), "a tenant may have no default");
        assert_eq!(app.put_profile(id, &json!({"defaultProfile": false})).await.status(), 200);
        assert_eq!(app.delete_profile(id).await.status(), 204);
    }

    async fn concurrent_moves_leave_exactly_one_default(app) {
        let mut ids = Vec::new();
        for i in 0..12 {
            ids.push(app.create_profile(&format!("p{i}"), i == 0).await["id"].as_i64().unwrap());
        }
        // Every profile is made the default several times over, all at once.
        let make_default = json!({"defaultProfile": true});
        let moves = ids.iter().cycle().take(60).map(|id| app.put_profile(*id, &make_default));
        let statuses: Vec<u16> = join_all(moves).await.iter().map(|r| r.status().as_u16()).collect();
        assert!(statuses.iter().all(|s| *s == 200), "every move succeeds: {statuses:?}");
        assert_eq!(app.default_names().await.len(), 1);

        // Concurrent creations of new defaults, mixed with moves.
        let bodies: Vec<_> = (0..20).map(|i| json!({"name": format!("new{i}"), "defaultProfile": true})).collect();
        let creations = bodies.iter().map(|body| app.post_profile(body));
        let statuses: Vec<u16> = join_all(creations).await.iter().map(|r| r.status().as_u16()).collect();
        assert!(statuses.iter().all(|s| *s == 201), "every creation succeeds: {statuses:?}");
        assert_eq!(app.default_names().await.len(), 1);
    }
}
