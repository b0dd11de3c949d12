//! HAL links of the SPCM face: `self` on every profile, paging links that keep the
//! filters, and absolute links under `SPCM_PUBLIC_URL`.

use reqwest::Method;
use serde_json::{json, Value};
use spcm::config::Settings;

use crate::helpers::{backend_tests, expect_json, spawn_app_with, TestBackend, PROFILES};

fn href(body: &Value, link: &str) -> Option<String> {
    body["_links"][link]["href"].as_str().map(str::to_owned)
}

backend_tests! {
    async fn every_profile_links_to_itself(app) {
        let created = expect_json(app.post_profile(&json!({"name": "linked", "defaultProfile": true})).await, 201).await;
        let id = created["id"].as_i64().unwrap();
        let own = format!("{PROFILES}/{id}");
        assert_eq!(href(&created, "self").as_deref(), Some(own.as_str()));
        assert_eq!(href(&expect_json(app.get_profile(id).await, 200).await, "self").as_deref(), Some(own.as_str()));
        let listed = expect_json(app.list("").await, 200).await;
        assert_eq!(href(&listed["provisioningProfileDTOList"][0], "self").as_deref(), Some(own.as_str()));
        let updated = expect_json(app.put_profile(id, &json!({"locale": "en"})).await, 200).await;
        assert_eq!(href(&updated, "self").as_deref(), Some(own.as_str()));
        let batch = expect_json(app.post_profile(&json!([{"name": "second", "defaultProfile": false}])).await, 207).await;
        let item = &batch["results"][0]["provisioningProfile"];
        assert_eq!(href(item, "self"), Some(format!("{PROFILES}/{}", item["id"])));
        // Links sent back in a body are ignored.
        let echoed = app.put_profile(id, &json!({"_links": {"self": {"href": "/elsewhere"}}, "locale": "de"})).await;
        assert_eq!(expect_json(echoed, 200).await["locale"], "de");
    }

    async fn a_paged_listing_links_first_prev_next_and_last_with_its_filters(app) {
        let bulk: Vec<Value> = (0..12)
            .map(|i| json!({"name": format!("p{i:02}"), "defaultProfile": false, "subscriberType": if i % 3 == 0 { "POSTPAID" } else { "PREPAID" }}))
            .collect();
        assert_eq!(app.post_profile(&json!(bulk)).await.status(), 207);
        // 8 PREPAID profiles, pages of 3: offsets 0, 3, 6.
        let app = &app;
        let page = |query: &'static str| async move { expect_json(app.list(query).await, 200).await };
        let middle = page("subscriberType=PREPAID&offset=3&limit=3").await;
        assert_eq!(href(&middle, "self").unwrap(), format!("{PROFILES}?subscriberType=PREPAID&offset=3&limit=3"));
        assert_eq!(href(&middle, "first").unwrap(), format!("{PROFILES}?subscriberType=PREPAID&offset=0&limit=3"));
        assert_eq!(href(&middle, "prev").unwrap(), format!("{PROFILES}?subscriberType=PREPAID&offset=0&limit=3"));
        assert_eq!(href(&middle, "next").unwrap(), format!("{PROFILES}?subscriberType=PREPAID&offset=6&limit=3"));
        assert_eq!(href(&middle, "last").unwrap(), format!("{PROFILES}?subscriberType=PREPAID&offset=6&limit=3"));

        let first = page("limit=3&subscriberType=prepaid").await;
        assert!(href(&first, "prev").is_none(), "no prev on the first page");
        let last = page("subscriberType=PREPAID&offset=6&limit=3").await;
        assert_eq!(last["length"], 2);
        assert!(href(&last, "next").is_none(), "no next on the last page");
        assert_eq!(href(&last, "prev").unwrap(), format!("{PROFILES}?subscriberType=PREPAID&offset=3&limit=3"));
        let odd = page("subscriberType=PREPAID&offset=1&limit=3").await;
        assert_eq!(href(&odd, "prev").unwrap(), format!("{PROFILES}?subscriberType=PREPAID&offset=0&limit=3"));

        // Following next from first visits every match once, in order.
        let mut path = href(&first, "first").unwrap();
        let mut names = Vec::new();
        loop {
            let body = expect_json(app.request(Method::GET, &path).send().await.unwrap(), 200).await;
            names.extend(body["provisioningProfileDTOList"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()));
            match href(&body, "next") {
                Some(next) => path = next,
                None => break,
            }
        }
        assert_eq!(names, ["p01", "p02", "p04", "p05", "p07", "p08", "p10", "p11"]);

        let empty = page("name=none&limit=5").await;
        assert_eq!(href(&empty, "last").unwrap(), format!("{PROFILES}?name=none&offset=0&limit=5"));
        assert!(href(&empty, "next").is_none());
        let unpaged = app.list("").await;
        assert!(unpaged.headers().get("link").is_none(), "no Link header without a limit");
        let unpaged = expect_json(unpaged, 200).await;
        for link in ["first", "prev", "next", "last"] {
            assert!(href(&unpaged, link).is_none(), "no {link} without a limit");
        }

        // Past the end, prev is the last page.
        let past = page("subscriberType=PREPAID&offset=30&limit=3").await;
        assert_eq!(href(&past, "prev").unwrap(), format!("{PROFILES}?subscriberType=PREPAID&offset=6&limit=3"));

        // The same links in an RFC 8288 Link header.
        let middle = app.list("subscriberType=PREPAID&offset=3&limit=3").await;
        let header = middle.headers()["link"].to_str().unwrap().to_owned();
        let q = |offset: u32| format!("<{PROFILES}?subscriberType=PREPAID&offset={offset}&limit=3>");
        assert_eq!(
            header,
            format!("{}; rel=\"first\", {}; rel=\"prev\", {}; rel=\"next\", {}; rel=\"last\"", q(0), q(0), q(6), q(6))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_are_absolute_under_the_public_url() {
    let public = "https://api.example.com/spcm";
    let settings = Settings { public_url: Some(public.into()), ..Settings::default() };
    let app = spawn_app_with(TestBackend::Sqlite, settings).await;
    let created = app.post_profile(&json!({"name": "far", "defaultProfile": true})).await;
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let created = expect_json(created, 201).await;
    let own = format!("{public}{PROFILES}/{}", created["id"]);
    assert_eq!(location, own);
    assert_eq!(href(&created, "self").unwrap(), own);
    app.create_profile("near", false).await;
    let listing = expect_json(app.list("limit=1&offset=1").await, 200).await;
    assert_eq!(href(&listing, "self").unwrap(), format!("{public}{PROFILES}?limit=1&offset=1"));
    assert_eq!(href(&listing, "first").unwrap(), format!("{public}{PROFILES}?offset=0&limit=1"));
    assert_eq!(href(&listing, "prev").unwrap(), format!("{public}{PROFILES}?offset=0&limit=1"));
    assert_eq!(
        href(&listing["provisioningProfileDTOList"][0], "self").unwrap(),
        format!("{public}{PROFILES}/{}", listing["provisioningProfileDTOList"][0]["id"])
    );
    let history = expect_json(
        app.request(Method::GET, &format!("{PROFILES}/{}/history", created["id"])).send().await.unwrap(),
        200,
    )
    .await;
    assert!(href(&history, "self").unwrap().starts_with(public), "{history}");
}
