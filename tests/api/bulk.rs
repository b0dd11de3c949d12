//! The 207 multi-status forms of POST, PUT and DELETE (contract §2).

use reqwest::Method;
use serde_json::{json, Value};
use spcm::auth::Permission;

use crate::helpers::{backend_tests, expect_json, PROFILES};

backend_tests! {
    async fn a_bulk_post_applies_each_item_on_its_own(app) {
        app.create_profile("b", false).await;
        let body = json!([
            {"name": "a", "defaultProfile": true},
            {"name": "b", "defaultProfile": false},
            {"defaultProfile": false},
            "not an object",
            {"name": "c", "defaultProfile": false, "subscriberType": "prepaid"}
        ]);
        let response = app.post_profile(&body).await;
        assert_eq!(response.headers()["content-type"], "application/hal+json");
        let result = expect_json(response, 207).await;
        assert_eq!(result["length"], 5);
        let items = result["results"].as_array().unwrap();
        let statuses: Vec<i64> = items.iter().map(|i| i["status"].as_i64().unwrap()).collect();
        assert_eq!(statuses, [201, 409, 412, 412, 201]);
        for (position, item) in items.iter().enumerate() {
            assert_eq!(item["index"], position);
        }
        assert_eq!(items[0]["provisioningProfile"]["name"], "a");
        assert!(items[0]["provisioningProfile"]["id"].is_i64());
        assert_eq!(items[1]["message"], "name 'b' already exists");
        assert_eq!(items[1]["errorCode"], 409);
        assert_eq!(items[2]["errors"], json!([{"field": "name", "description": "name is mandatory"}]));
        assert_eq!(items[4]["provisioningProfile"]["subscriberType"], "PREPAID");

        let names: Vec<String> = expect_json(app.list("").await, 200).await["provisioningProfileDTOList"]
            .as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
        assert_eq!(names, ["b", "a", "c"], "failed items did not undo the others");
    }

    async fn a_bulk_put_updates_by_the_ids_in_the_items(app) {
        let default = app.create_profile("chaCha", true).await["id"].as_i64().unwrap();
        let other = app.create_profile("turkeySauce", false).await["id"].as_i64().unwrap();
        let body = json!([
            {"id": other, "subscriberClass": "gold"},
            {"id": 987654, "name": "ghost"},
            {"name": "no id"},
            {"id": default, "defaultProfile": false},
            {"id": other, "name": "chaCha"},
            {"id": other, "defaultProfile": true}
        ]);
        let result = expect_json(app.send_json(Method::PUT, PROFILES, &body).await, 207).await;
        let statuses: Vec<i64> = result["results"].as_array().unwrap().iter().map(|i| i["status"].as_i64().unwrap()).collect();
        assert_eq!(statuses, [200, 404, 412, 422, 409, 200]);
        assert_eq!(result["results"][0]["provisioningProfile"]["subscriberClass"], "gold");
        assert_eq!(result["results"][2]["errors"][0]["field"], "id");
        assert_eq!(result["results"][3]["errorCode"], 1002);
        assert_eq!(app.default_names().await, ["turkeySauce"]);
    }

    async fn a_bulk_delete_takes_ids_in_request_order(app) {
        let default = app.create_profile("chaCha", true).await["id"].as_i64().unwrap();
        let other = app.create_profile("turkeySauce", false).await["id"].as_i64().unwrap();
        let path = format!("{PROFILES}?id={default}&id=555555&id={other}&id={default}");
        let response = app.request(Method::DELETE, &path).send().await.unwrap();
        let result = expect_json(response, 207).await;
        assert_eq!(result["length"], 4);
        let items = result["results"].as_array().unwrap();
        let statuses: Vec<i64> = items.iter().map(|i| i["status"].as_i64().unwrap()).collect();
        assert_eq!(statuses, [422, 404, 204, 204], "the default goes once it is the last one");
        assert_eq!(items[0]["errorCode"], 1001);
        assert_eq!(items[1]["message"], "provisioning profile 555555 not found");
        assert!(items[2].get("provisioningProfile").is_none());
        assert_eq!(expect_json(app.list("").await, 200).await["length"], 0);
    }

    async fn batches_hold_1_to_1000_items(app) {
        let empty = expect_json(app.post_profile(&json!([])).await, 400).await;
        assert_eq!(empty["errorCode"], 400);
        let too_many: Vec<Value> = (0..1001).map(|i| json!({"name": format!("n{i}"), "defaultProfile": false})).collect();
        assert_eq!(app.post_profile(&json!(too_many)).await.status(), 400);
        assert_eq!(expect_json(app.list("").await, 200).await["length"], 0, "nothing of a refused batch is stored");
        let ids: String = (0..1001).map(|i| format!("id={i}&")).collect();
        assert_eq!(app.request(Method::DELETE, &format!("{PROFILES}?{ids}")).send().await.unwrap().status(), 400);

        let full: Vec<Value> = (0..1000).map(|i| json!({"name": format!("n{i}"), "defaultProfile": false})).collect();
        let result = expect_json(app.post_profile(&json!(full)).await, 207).await;
        assert_eq!(result["length"], 1000);
        assert_eq!(expect_json(app.list("").await, 200).await["length"], 1000);
    }

    async fn the_permission_is_checked_once_for_the_whole_batch(app) {
        app.add_user("default", "reader", "reader-pw", &[Permission::ProfileRead]);
        let body = json!([{"name": "a", "defaultProfile": false}, {"name": "b", "defaultProfile": false}]);
        let response = app.request_as(Method::POST, PROFILES, "default", "reader", "reader-pw").json(&body).send().await.unwrap();
        let result = expect_json(response, 403).await;
        assert_eq!(result["errorCode"], 403);
        assert_eq!(expect_json(app.list("").await, 200).await["length"], 0);
    }
}
