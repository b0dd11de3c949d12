//! The single-profile calls, with the seed's examples (`001_*`).

use reqwest::Method;
use serde_json::json;

use crate::helpers::{backend_tests, expect_json, PROFILES};

fn turkey_sauce() -> serde_json::Value {
    json!({
        "name": "turkeySauce", "defaultProfile": false, "locale": "en",
        "initialCorePlanName": "turkey", "subscriberClass": "gold", "subscriberType": "POSTPAID",
        "dpsEnabled": false, "dpsNotification": false, "eosNotification": false, "paygNotification": false
    })
}

backend_tests! {
    async fn creating_a_profile_returns_it_with_its_new_id_and_location(app) {
        let response = app.post_profile(&turkey_sauce()).await;
        assert_eq!(response.headers()["content-type"], "application/hal+json");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let created = expect_json(response, 201).await;
        let id = created["id"].as_i64().expect("integer id");
        assert_eq!(location, format!("{PROFILES}/{id}"));
        let mut expected = turkey_sauce();
        expected["id"] = json!(id);
        expected["_links"] = json!({"self": {"href": location}});
        assert_eq!(created, expected);

        let fetched = expect_json(app.get_profile(id).await, 200).await;
        assert_eq!(fetched, expected, "GET one returns the profile alone");
    }

    async fn a_put_with_some_fields_changes_only_those(app) {
        let id = app.create_profile("chaCha", true).await["id"].as_i64().unwrap();
        app.put_profile(id, &json!({"locale": "en", "initialCorePlanName": "prepaidCORE", "subscriberType": "PREPAID"})).await;

        let response = app.put_profile(id, &json!({"subscriberClass": "Standard", "paygNotification": true})).await;
        assert_eq!(response.headers()["content-type"], "application/hal+json");
        let updated = expect_json(response, 200).await;
        assert_eq!(updated, json!({
            "id": id, "name": "chaCha", "defaultProfile": true, "locale": "en",
            "initialCorePlanName": "prepaidCORE", "subscriberClass": "Standard", "subscriberType": "PREPAID",
            "dpsEnabled": false, "dpsNotification": false, "eosNotification": false, "paygNotification": true,
            "_links": {"self": {"href": format!("{PROFILES}/{id}")}}
        }));
        assert_eq!(expect_json(app.get_profile(id).await, 200).await, updated, "the change is stored");
    }

    async fn null_clears_an_optional_text_field_on_put(app) {
        let id = expect_json(app.post_profile(&turkey_sauce()).await, 201).await["id"].as_i64().unwrap();
        let updated = expect_json(app.put_profile(id, &json!({"locale": null, "subscriberType": null})).await, 200).await;
        assert!(updated["locale"].is_null() && updated["subscriberType"].is_null());
        assert_eq!(updated["subscriberClass"], "gold");
    }

    async fn a_put_may_carry_its_own_id_and_hal_links(app) {
        let id = app.create_profile("a", false).await["id"].as_i64().unwrap();
        let body = json!({"id": id, "name": "b", "_links": {"self": {"href": "x"}}, "unknown": 1});
        let updated = expect_json(app.put_profile(id, &body).await, 200).await;
        assert_eq!(updated["name"], "b");
        assert!(updated.get("unknown").is_none());
    }

    async fn optional_fields_default_and_subscriber_type_is_stored_upper_case(app) {
        let body = json!({"name": "  spaced  ", "defaultProfile": false, "subscriberType": "postpaid", "id": 999});
        let created = expect_json(app.post_profile(&body).await, 201).await;
        assert_eq!(created["name"], "spaced", "names are stored trimmed");
        assert_eq!(created["subscriberType"], "POSTPAID");
        assert_ne!(created["id"], 999, "the id of a POST is ignored");
        for flag in ["dpsEnabled", "dpsNotification", "eosNotification", "paygNotification"] {
            assert_eq!(created[flag], false, "{flag}");
        }
        assert!(created["locale"].is_null() && created["initialCorePlanName"].is_null());
    }

    async fn names_are_case_sensitive(app) {
        app.create_profile("chaCha", false).await;
        let other = app.post_profile(&json!({"name": "ChaCha", "defaultProfile": false})).await;
        assert_eq!(other.status(), 201, "ChaCha differs from chaCha");
        let same = app.post_profile(&json!({"name": "chaCha", "defaultProfile": false})).await;
        assert_eq!(same.status(), 409);
        let found = expect_json(app.list("name=ChaCha").await, 200).await;
        assert_eq!(found["length"], 1);
    }

    async fn script_and_sql_text_is_stored_verbatim(app) {
        let name = "Robert'); DROP TABLE provisioning_profiles;-- <script>alert(1)</script> ñ 😀";
        let created = expect_json(app.post_profile(&json!({"name": name, "defaultProfile": false, "subscriberClass": "' OR 1=1 --"})).await, 201).await;
        let fetched = expect_json(app.get_profile(created["id"].as_i64().unwrap()).await, 200).await;
        assert_eq!(fetched["name"], name);
        assert_eq!(fetched["subscriberClass"], "' OR 1=1 --");
    }

    async fn deleting_a_profile_answers_204_and_it_is_gone(app) {
        let id = app.create_profile("gone", false).await["id"].as_i64().unwrap();
        let response = app.delete_profile(id).await;
        assert_eq!(response.status(), 204);
        assert!(response.text().await.unwrap().is_empty());
        assert_eq!(app.get_profile(id).await.status(), 404);
        let next = app.create_profile("next", false).await["id"].as_i64().unwrap();
        assert!(next > id, "a deleted id is not handed out again");
    }

    async fn request_bodies_may_be_hal_json(app) {
        let response = app
            .request(Method::POST, PROFILES)
            .header("content-type", "application/hal+json; charset=utf-8")
            .header("accept", "application/hal+json")
            .body(r#"{"name":"hal","defaultProfile":false}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
}
