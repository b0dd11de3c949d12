//! ETags, `If-None-Match` (304) and `If-Match` (412) on the SPCM face; revisions live
//! in the database, so every backend runs these.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{backend_tests, expect_json, PROFILES};

fn etag(response: &reqwest::Response) -> String {
    response.headers().get("etag").expect("an ETag").to_str().unwrap().to_owned()
}

backend_tests! {
    async fn a_profile_etag_is_its_revision_and_each_change_raises_it(app) {
        let created = app.post_profile(&json!({"name": "tagged", "defaultProfile": true})).await;
        assert_eq!(created.status(), 201);
        assert_eq!(etag(&created), "\"1\"");
        let id = expect_json(created, 201).await["id"].as_i64().unwrap();
        let path = format!("{PROFILES}/{id}");

        let fetched = app.get_profile(id).await;
        assert_eq!(etag(&fetched), "\"1\"");
        let unchanged = app.request(Method::GET, &path).header("if-none-match", "\"1\"").send().await.unwrap();
        assert_eq!(unchanged.status(), 304);
        assert_eq!(etag(&unchanged), "\"1\"");
        assert_eq!(unchanged.headers()["vary"], "Accept");
        assert!(unchanged.bytes().await.unwrap().is_empty(), "a 304 has no body");
        let weak = app.request(Method::GET, &path).header("if-none-match", "\"9\", W/\"1\"").send().await.unwrap();
        assert_eq!(weak.status(), 304, "If-None-Match compares weakly and reads lists");

        let updated = app.put_profile(id, &json!({"locale": "fr"})).await;
        assert_eq!(etag(&updated), "\"2\"");
        let same = app.put_profile(id, &json!({"locale": "fr"})).await;
        assert_eq!(etag(&same), "\"2\"", "a PUT that changes nothing keeps the revision");
        let stale = app.request(Method::GET, &path).header("if-none-match", "\"1\"").send().await.unwrap();
        assert_eq!(stale.status(), 200);
        assert_eq!(etag(&stale), "\"2\"");
        assert_eq!(expect_json(stale, 200).await["locale"], "fr");

        // Losing the default is a change of the old default too.
        let other = expect_json(app.post_profile(&json!({"name": "next", "defaultProfile": true})).await, 201).await;
        assert_eq!(other["defaultProfile"], true);
        let old = app.get_profile(id).await;
        assert_eq!(etag(&old), "\"3\"", "the profile that lost the default has a new revision");
        assert_eq!(expect_json(old, 200).await["defaultProfile"], false);
    }

    async fn if_match_guards_put_and_delete(app) {
        let id = app.create_profile("guarded", false).await["id"].as_i64().unwrap();
        let path = format!("{PROFILES}/{id}");
        let put = |tag: &'static str, body: serde_json::Value| {
            app.request(Method::PUT, &path).header("if-match", tag).json(&body).send()
        };

        let refused = expect_json(put("\"7\"", json!({"locale": "de"})).await.unwrap(), 412).await;
        assert_eq!(refused["errors"][0]["field"], "If-Match");
        assert!(refused["errors"][0]["description"].as_str().unwrap().contains("\"1\""), "{refused}");
        assert_eq!(expect_json(app.get_profile(id).await, 200).await["locale"], serde_json::Value::Null, "nothing written");
        let weak = put("W/\"1\"", json!({"locale": "de"})).await.unwrap();
        assert_eq!(weak.status(), 412, "If-Match compares strongly");

        let applied = put("\"1\"", json!({"locale": "de"})).await.unwrap();
        assert_eq!(applied.status(), 200);
        assert_eq!(etag(&applied), "\"2\"");
        let any = put("*", json!({"locale": "it"})).await.unwrap();
        assert_eq!(any.status(), 200, "If-Match: * matches any existing profile");

        // 404 comes before a stale If-Match, and the body's 412 before both.
        let missing = app.request(Method::PUT, &format!("{PROFILES}/987654")).header("if-match", "\"1\"").json(&json!({"locale": "de"})).send().await.unwrap();
        assert_eq!(missing.status(), 404);
        let missing = app.request(Method::DELETE, &format!("{PROFILES}/987654")).header("if-match", "*").send().await.unwrap();
        assert_eq!(missing.status(), 404, "If-Match: * does not match a missing profile");
        let invalid = expect_json(put("\"1\"", json!({"name": null})).await.unwrap(), 412).await;
        assert_eq!(invalid["errors"][0]["field"], "name");

        let delete_stale = app.request(Method::DELETE, &path).header("if-match", "\"2\"").send().await.unwrap();
        assert_eq!(delete_stale.status(), 412);
        assert_eq!(app.get_profile(id).await.status(), 200, "still there");
        let deleted = app.request(Method::DELETE, &path).header("if-match", "\"3\"").send().await.unwrap();
        assert_eq!(deleted.status(), 204);
        assert_eq!(app.get_profile(id).await.status(), 404);
    }

    async fn of_two_clients_racing_on_the_same_etag_exactly_one_wins(app) {
        let id = app.create_profile("contested", false).await["id"].as_i64().unwrap();
        let path = format!("{PROFILES}/{id}");
        for round in 0..4 {
            let tag = format!("\"{}\"", round + 1);
            let attempts = (0..4).map(|client| {
                app.request(Method::PUT, &path)
                    .header("if-match", tag.clone())
                    .json(&json!({"subscriberClass": format!("round{round}-client{client}")}))
                    .send()
            });
            let statuses: Vec<u16> =
                futures_util::future::join_all(attempts).await.into_iter().map(|r| r.unwrap().status().as_u16()).collect();
            assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "round {round}: {statuses:?}");
            assert_eq!(statuses.iter().filter(|s| **s == 412).count(), 3, "round {round}: {statuses:?}");
        }
        let last = app.get_profile(id).await;
        assert_eq!(etag(&last), "\"5\"");
        let changes = expect_json(app.request(Method::GET, &format!("{path}/history")).send().await.unwrap(), 200).await;
        assert_eq!(changes["length"], 5, "one creation and one change per round: {changes}");
    }

    async fn a_listing_etag_changes_with_its_content(app) {
        app.create_profile("one", true).await;
        let first = app.list("limit=10").await;
        let tag = etag(&first);
        let again = app.request(Method::GET, &format!("{PROFILES}?limit=10")).header("if-none-match", tag.clone()).send().await.unwrap();
        assert_eq!(again.status(), 304);
        assert!(again.headers().get("x-total-count").is_none());
        app.create_profile("two", false).await;
        let changed = app.request(Method::GET, &format!("{PROFILES}?limit=10")).header("if-none-match", tag.clone()).send().await.unwrap();
        assert_eq!(changed.status(), 200);
        assert_ne!(etag(&changed), tag);
        assert_eq!(expect_json(changed, 200).await["length"], 2);
        // The same in XML: the representation differs, the content's ETag does not.
        let xml = app.request(Method::GET, PROFILES).header("accept", "application/xml").header("if-none-match", "\"nope\"").send().await.unwrap();
        assert_eq!(xml.status(), 200);
        let xml_tag = etag(&xml);
        let xml_again = app.request(Method::GET, PROFILES).header("accept", "application/xml").header("if-none-match", xml_tag).send().await.unwrap();
        assert_eq!(xml_again.status(), 304);
    }

    async fn head_answers_every_get_route_without_a_body(app) {
        let id = app.create_profile("headed", true).await["id"].as_i64().unwrap();
        for path in [PROFILES.to_owned(), format!("{PROFILES}/{id}"), format!("{PROFILES}/{id}/history"), "/pcc/spcm/changes".to_owned()] {
            let get = app.request(Method::GET, &path).send().await.unwrap();
            let head = app.request(Method::HEAD, &path).send().await.unwrap();
            assert_eq!(head.status(), get.status(), "{path}");
            for name in ["content-type", "etag", "x-total-count", "vary"] {
                assert_eq!(head.headers().get(name), get.headers().get(name), "{path}: {name}");
            }
            assert!(head.bytes().await.unwrap().is_empty(), "{path}: HEAD has no body");
        }
        let missing = app.request(Method::HEAD, &format!("{PROFILES}/424242")).send().await.unwrap();
        assert_eq!(missing.status(), 404);
        let conditional = app.request(Method::HEAD, &format!("{PROFILES}/{id}")).header("if-none-match", "\"1\"").send().await.unwrap();
        assert_eq!(conditional.status(), 304);
    }
}
