//! The HAL listing: order, filters, paging (contract §2).

use serde_json::{json, Value};

use crate::helpers::{backend_tests, expect_json, PROFILES};

fn names(body: &Value) -> Vec<String> {
    body["provisioningProfileDTOList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

backend_tests! {
    async fn the_listing_has_the_seed_shape_ordered_by_id(app) {
        let empty = app.list("").await;
        assert_eq!(empty.headers()["x-total-count"], "0");
        let body = expect_json(empty, 200).await;
        assert_eq!(body["length"], 0);
        assert_eq!(body["provisioningProfileDTOList"], json!([]));

        for name in ["turkeySauce", "chaCha", "apple"] {
            app.create_profile(name, name == "chaCha").await;
        }
        let response = app.list("").await;
        assert_eq!(response.headers()["content-type"], "application/hal+json");
        assert_eq!(response.headers()["x-total-count"], "3");
        let body = expect_json(response, 200).await;
        assert_eq!(body["length"], 3);
        assert_eq!(names(&body), ["turkeySauce", "chaCha", "apple"]);
        assert!(body["_links"].get("next").is_none(), "no next without a limit");
        let first = &body["provisioningProfileDTOList"][0];
        for field in ["id", "name", "defaultProfile", "locale", "initialCorePlanName", "subscriberClass",
                      "subscriberType", "dpsEnabled", "dpsNotification", "eosNotification", "paygNotification"] {
            assert!(first.get(field).is_some(), "{field} is listed");
        }
    }

    async fn filters_match_exactly(app) {
        let profiles = [("a", "PREPAID", false), ("b", "POSTPAID", false), ("c", "PREPAID", true), ("A", "POSTPAID", false)];
        for (name, kind, default) in profiles {
            let created = app.post_profile(&json!({"name": name, "defaultProfile": default, "subscriberType": kind})).await;
            assert_eq!(created.status(), 201);
        }
        assert_eq!(names(&expect_json(app.list("name=a").await, 200).await), ["a"]);
        assert_eq!(names(&expect_json(app.list("subscriberType=prepaid").await, 200).await), ["a", "c"]);
        assert_eq!(names(&expect_json(app.list("defaultProfile=true").await, 200).await), ["c"]);
        assert_eq!(names(&expect_json(app.list("defaultProfile=false&subscriberType=POSTPAID").await, 200).await), ["b", "A"]);
        assert_eq!(names(&expect_json(app.list("name=zzz").await, 200).await), Vec::<String>::new());
        assert_eq!(names(&expect_json(app.list("unknownParameter=1").await, 200).await).len(), 4, "unknown parameters are ignored");
    }

    async fn paging_follows_next_links_to_the_end(app) {
        let bulk: Vec<Value> = (0..25).map(|i| json!({"name": format!("p{i:02}"), "defaultProfile": false, "subscriberType": if i % 2 == 0 { "PREPAID" } else { "POSTPAID" }})).collect();
        assert_eq!(app.post_profile(&json!(bulk)).await.status(), 207);

        let mut seen = Vec::new();
        let mut path = format!("{PROFILES}?subscriberType=PREPAID&limit=5");
        let mut pages = 0;
        loop {
            let response = app.request(reqwest::Method::GET, &path).send().await.unwrap();
            assert_eq!(response.headers()["x-total-count"], "13");
            let body = expect_json(response, 200).await;
            assert_eq!(body["length"].as_u64().unwrap() as usize, names(&body).len());
            seen.extend(names(&body));
            pages += 1;
            match body["_links"]["next"]["href"].as_str() {
                Some(next) => path = next.to_owned(),
                None => break,
            }
        }
        assert_eq!(pages, 3);
        let expected: Vec<String> = (0..25).step_by(2).map(|i| format!("p{i:02}")).collect();
        assert_eq!(seen, expected, "every page in order, none twice");

        let tail = expect_json(app.list("offset=23").await, 200).await;
        assert_eq!(names(&tail), ["p23", "p24"]);
        let beyond = app.list("offset=100&limit=10").await;
        assert_eq!(beyond.headers()["x-total-count"], "25");
        let beyond = expect_json(beyond, 200).await;
        assert_eq!(beyond["length"], 0);
        assert!(beyond["_links"].get("next").is_none());
    }
}
