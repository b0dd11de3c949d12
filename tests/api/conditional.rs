//! ETags, `If-None-Match` (304) and `If-Match` (412) on the SPCM face; revisions live
//! in the database, so every backend runs these.

use reqwest::Method;
use serde_json::json;
use spcm::auth::Permission;

use crate::helpers::{backend_tests, expect_json, PROFILES};

const XML: &str = "application/xml";

fn etag(response: &reqwest::Response) -> String {
    response.headers().get("etag").expect("an ETag").to_str().unwrap().to_owned()
}

/// A strong tag that names nothing it could be mistaken for.
fn assert_opaque(tag: &str) {
    assert!(tag.len() > 10 && tag.starts_with('"') && tag.ends_with('"'), "a strong, opaque tag: {tag}");
}

backend_tests! {
    async fn a_profile_etag_is_opaque_and_each_change_gives_a_new_one(app) {
        let created = app.post_profile(&json!({"name": "tagged", "defaultProfile": true})).await;
        assert_eq!(created.status(), 201);
        let first = etag(&created);
        assert_opaque(&first);
        let id = expect_json(created, 201).await["id"].as_i64().unwrap();
        let path = format!("{PROFILES}/{id}");

        let fetched = app.get_profile(id).await;
        assert_eq!(etag(&fetched), first, "a GET names the state the POST did");
        let unchanged = app.request(Method::GET, &path).header("if-none-match", &first).send().await.unwrap();
        assert_eq!(unchanged.status(), 304);
        assert_eq!(etag(&unchanged), first);
        assert!(unchanged.bytes().await.unwrap().is_empty(), "a 304 has no body");
        let weak = app.request(Method::GET, &path).header("if-none-match", format!("\"9\", W/{first}")).send().await.unwrap();
        assert_eq!(weak.status(), 304, "If-None-Match compares weakly and reads lists");

        let updated = app.put_profile(id, &json!({"locale": "fr"})).await;
        let second = etag(&updated);
        assert_opaque(&second);
        assert_ne!(second, first);
        let same = app.put_profile(id, &json!({"locale": "fr"})).await;
        assert_eq!(etag(&same), second, "a PUT that changes nothing keeps the state and its tag");
        let stale = app.request(Method::GET, &path).header("if-none-match", &first).send().await.unwrap();
        assert_eq!(stale.status(), 200);
        assert_eq!(etag(&stale), second);
        assert_eq!(expect_json(stale, 200).await["locale"], "fr");

        // Losing the default is a change of the old default too.
        let other = expect_json(app.post_profile(&json!({"name": "next", "defaultProfile": true})).await, 201).await;
        assert_eq!(other["defaultProfile"], true);
        let old = app.get_profile(id).await;
        let third = etag(&old);
        assert!(third != second && third != first, "the profile that lost the default has a new tag");
        assert_eq!(expect_json(old, 200).await["defaultProfile"], false);
    }

    async fn if_match_guards_put_and_delete(app) {
        let id = app.create_profile("guarded", false).await["id"].as_i64().unwrap();
        let path = format!("{PROFILES}/{id}");
        let put = |tag: String, body: serde_json::Value| {
            app.request(Method::PUT, &path).header("if-match", tag).json(&body).send()
        };
        let current = etag(&app.get_profile(id).await);

        let refused = expect_json(put("\"7\"".into(), json!({"locale": "de"})).await.unwrap(), 412).await;
        assert_eq!(refused["errors"][0]["field"], "If-Match");
        assert!(refused["errors"][0]["description"].as_str().unwrap().contains("changed since"), "{refused}");
        assert_eq!(expect_json(app.get_profile(id).await, 200).await["locale"], serde_json::Value::Null, "nothing written");
        let weak = put(format!("W/{current}"), json!({"locale": "de"})).await.unwrap();
        assert_eq!(weak.status(), 412, "a weak tag never matches If-Match");

        let applied = put(format!("\"x\", {current}"), json!({"locale": "de"})).await.unwrap();
        assert_eq!(applied.status(), 200, "a list matches when one of its tags does");
        let after_put = etag(&applied);
        assert_ne!(after_put, current);
        assert_eq!(put(current.clone(), json!({"locale": "es"})).await.unwrap().status(), 412, "the old tag is stale");
        let any = put("*".into(), json!({"locale": "it"})).await.unwrap();
        assert_eq!(any.status(), 200, "If-Match: * matches any existing profile");
        let latest = etag(&any);

        // 404 comes before a stale If-Match, and the body's 412 before both.
        let missing = app.request(Method::PUT, &format!("{PROFILES}/987654")).header("if-match", "\"1\"").json(&json!({"locale": "de"})).send().await.unwrap();
        assert_eq!(missing.status(), 404);
        let missing = app.request(Method::DELETE, &format!("{PROFILES}/987654")).header("if-match", "*").send().await.unwrap();
        assert_eq!(missing.status(), 404, "If-Match: * does not match a missing profile");
        let invalid = expect_json(put(latest.clone(), json!({"name": null})).await.unwrap(), 412).await;
        assert_eq!(invalid["errors"][0]["field"], "name");

        let delete_stale = app.request(Method::DELETE, &path).header("if-match", &after_put).send().await.unwrap();
        assert_eq!(delete_stale.status(), 412);
        assert_eq!(app.get_profile(id).await.status(), 200, "still there");
        let deleted = app.request(Method::DELETE, &path).header("if-match", &latest).send().await.unwrap();
        assert_eq!(deleted.status(), 204);
        assert_eq!(app.get_profile(id).await.status(), 404);
    }

    async fn if_match_compares_tags_byte_for_byte_and_never_as_numbers(app) {
        let id = app.create_profile("exact", false).await["id"].as_i64().unwrap();
        let path = format!("{PROFILES}/{id}");
        let current = etag(&app.get_profile(id).await);
        let inner = current.trim_matches('"');
        let mut flipped = inner.to_owned().into_bytes();
        let letter = flipped.iter().position(u8::is_ascii_alphabetic).expect("a letter in the tag");
        flipped[letter] ^= 0x20;
        let near_misses = [
            "\"1\"".to_owned(),
            "\"01\"".to_owned(),
            "\"v1\"".to_owned(),
            format!("\"0{inner}\""),
            format!("\"{inner}A\""),
            format!("\"{}\"", String::from_utf8(flipped).unwrap()),
            format!("W/{current}"),
        ];
        for tag in near_misses {
            let put = app.request(Method::PUT, &path).header("if-match", &tag).json(&json!({"locale": "de"})).send().await.unwrap();
            assert_eq!(put.status(), 412, "PUT If-Match {tag}");
            let delete = app.request(Method::DELETE, &path).header("if-match", &tag).send().await.unwrap();
            assert_eq!(delete.status(), 412, "DELETE If-Match {tag}");
        }
        assert_eq!(etag(&app.get_profile(id).await), current, "nothing was written");
    }

    async fn the_tag_of_the_xml_representation_guards_the_same_state(app) {
        let id = app.create_profile("bilingual", false).await["id"].as_i64().unwrap();
        let path = format!("{PROFILES}/{id}");
        let xml = app.request(Method::GET, &path).header("accept", XML).send().await.unwrap();
        let xml_tag = etag(&xml);
        assert_ne!(xml_tag, etag(&app.get_profile(id).await), "JSON and XML have their own tags");

        let updated = app.request(Method::PUT, &path).header("if-match", &xml_tag).json(&json!({"locale": "de"})).send().await.unwrap();
        assert_eq!(updated.status(), 200, "a client that read XML may write with its tag");
        let json_tag = etag(&updated);
        assert_eq!(json_tag, etag(&app.get_profile(id).await), "a JSON answer carries the JSON tag");
        let xml_put = app
            .request(Method::PUT, &path)
            .header("if-match", &json_tag)
            .header("accept", XML)
            .json(&json!({"locale": "fr"}))
            .send()
            .await
            .unwrap();
        assert_eq!(xml_put.status(), 200);
        let new_xml_tag = etag(&xml_put);
        assert_eq!(new_xml_tag, etag(&app.request(Method::GET, &path).header("accept", XML).send().await.unwrap()));
        let stale = app.request(Method::DELETE, &path).header("if-match", &xml_tag).send().await.unwrap();
        assert_eq!(stale.status(), 412, "the old XML tag is stale");
        let deleted = app.request(Method::DELETE, &path).header("if-match", &new_xml_tag).send().await.unwrap();
        assert_eq!(deleted.status(), 204);
    }

    async fn of_two_clients_racing_on_the_same_etag_exactly_one_wins(app) {
        let id = app.create_profile("contested", false).await["id"].as_i64().unwrap();
        let path = format!("{PROFILES}/{id}");
        for round in 0..4 {
            let tag = etag(&app.get_profile(id).await);
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
        let changes = expect_json(app.request(Method::GET, &format!("{path}/history")).send().await.unwrap(), 200).await;
        assert_eq!(changes["length"], 5, "one creation and one change per round: {changes}");
    }

    async fn a_listing_etag_changes_with_its_content_and_differs_between_json_and_xml(app) {
        app.create_profile("one", true).await;
        let first = app.list("limit=10").await;
        let tag = etag(&first);
        assert_opaque(&tag);
        let again = app.request(Method::GET, &format!("{PROFILES}?limit=10")).header("if-none-match", tag.clone()).send().await.unwrap();
        assert_eq!(again.status(), 304);
        assert!(again.headers().get("x-total-count").is_none());
        app.create_profile("two", false).await;
        let changed = app.request(Method::GET, &format!("{PROFILES}?limit=10")).header("if-none-match", tag.clone()).send().await.unwrap();
        assert_eq!(changed.status(), 200);
        let json_tag = etag(&changed);
        assert_ne!(json_tag, tag);
        assert_eq!(expect_json(changed, 200).await["length"], 2);

        let xml = app.request(Method::GET, &format!("{PROFILES}?limit=10")).header("accept", XML).header("if-none-match", &json_tag).send().await.unwrap();
        assert_eq!(xml.status(), 200, "the JSON tag does not name the XML answer");
        assert_eq!(xml.headers()["content-type"], XML);
        let xml_tag = etag(&xml);
        assert_opaque(&xml_tag);
        assert_ne!(xml_tag, json_tag);
        let xml_again = app.request(Method::GET, &format!("{PROFILES}?limit=10")).header("accept", XML).header("if-none-match", &xml_tag).send().await.unwrap();
        assert_eq!(xml_again.status(), 304);
        assert_eq!(etag(&xml_again), xml_tag);
        let json_again = app.request(Method::GET, &format!("{PROFILES}?limit=10")).header("if-none-match", &xml_tag).send().await.unwrap();
        assert_eq!(json_again.status(), 200, "nor the XML tag the JSON answer");
        assert_eq!(etag(&json_again), json_tag);
    }

    async fn two_tenants_with_as_many_changes_get_different_etags(app) {
        app.add_tenant("acme");
        app.add_tenant("zeta");
        for tenant in ["acme", "zeta"] {
            app.add_user(tenant, "ops", "ops-pw", &[Permission::ProfileRead, Permission::ProfileCreate]);
            let created = app
                .request_as(Method::POST, PROFILES, tenant, "ops", "ops-pw")
                .json(&json!({"name": format!("{tenant}-only"), "defaultProfile": true}))
                .send()
                .await
                .unwrap();
            assert_eq!(created.status(), 201);
        }
        let list = |tenant: &'static str| app.request_as(Method::GET, PROFILES, tenant, "ops", "ops-pw");
        let acme = list("acme").send().await.unwrap();
        let acme_tag = etag(&acme);
        let zeta = list("zeta").send().await.unwrap();
        assert_ne!(etag(&zeta), acme_tag, "the same number of changes, another tenant");

        // A cache revalidating acme's answer for zeta gets zeta's.
        let revalidated = list("zeta").header("if-none-match", &acme_tag).send().await.unwrap();
        assert_eq!(revalidated.status(), 200);
        let body = expect_json(revalidated, 200).await;
        assert_eq!(body["provisioningProfileDTOList"][0]["name"], "zeta-only");
        assert_eq!(list("acme").header("if-none-match", &acme_tag).send().await.unwrap().status(), 304);

        // Profiles with the same id or revision in two tenants do not share a tag either.
        let acme_id = expect_json(acme, 200).await["provisioningProfileDTOList"][0]["id"].as_i64().unwrap();
        let one = format!("{PROFILES}/{acme_id}");
        let acme_one = app.request_as(Method::GET, &one, "acme", "ops", "ops-pw").send().await.unwrap();
        assert_eq!(acme_one.status(), 200);
        let zeta_id = expect_json(zeta, 200).await["provisioningProfileDTOList"][0]["id"].as_i64().unwrap();
        let zeta_one = app.request_as(Method::GET, &format!("{PROFILES}/{zeta_id}"), "zeta", "ops", "ops-pw").send().await.unwrap();
        assert_ne!(etag(&zeta_one), etag(&acme_one));
    }

    async fn a_malformed_if_match_or_if_none_match_is_400_once_the_caller_is_known(app) {
        let id = app.create_profile("listed", false).await["id"].as_i64().unwrap();
        let one = format!("{PROFILES}/{id}");
        for (round, value) in ["1", "\"1\" \"2\"", "\"open", "w/\"1\"", "*, \"1\""].into_iter().enumerate() {
            for (method, path, header) in [
                (Method::GET, PROFILES, "if-none-match"),
                (Method::GET, one.as_str(), "if-none-match"),
                (Method::HEAD, one.as_str(), "if-none-match"),
                (Method::PUT, one.as_str(), "if-match"),
                (Method::DELETE, one.as_str(), "if-match"),
            ] {
                let request = app.request(method.clone(), path).header(header, value);
                let request = if method == Method::PUT { request.json(&json!({"locale": "de"})) } else { request };
                let response = request.send().await.unwrap();
                assert_eq!(response.status(), 400, "{method} {path} {header}: {value}");
                // Once per route: more failed sign-ins would meet the sign-in limit.
                if round == 0 {
                    let stranger = app.request_as(method.clone(), path, "default", "admin", "wrong").header(header, value).send().await.unwrap();
                    assert_eq!(stranger.status(), 401, "{method} {path}: credentials first");
                }
            }
        }
        let profile = expect_json(app.get_profile(id).await, 200).await;
        assert_eq!(profile["locale"], serde_json::Value::Null, "nothing written");
        // The same header is fine where it is not evaluated.
        assert_eq!(app.request(Method::GET, "/pcc/spcm/changes").header("if-none-match", "1").send().await.unwrap().status(), 200);
    }

    async fn revalidating_a_tag_without_the_read_permission_is_403(app) {
        let id = app.create_profile("secret", false).await["id"].as_i64().unwrap();
        let one = format!("{PROFILES}/{id}");
        let tag = etag(&app.get_profile(id).await);
        let list_tag = etag(&app.list("").await);
        app.add_user("default", "writer", "writer-pw", &[Permission::ProfileCreate]);
        for (path, tag) in [(one.as_str(), &tag), (PROFILES, &list_tag)] {
            // Twice: the second would be the remembered answer's turn.
            for _ in 0..2 {
                let refused = app.request_as(Method::GET, path, "default", "writer", "writer-pw").header("if-none-match", tag).send().await.unwrap();
                assert_eq!(refused.status(), 403, "{path}");
            }
        }
    }

    async fn head_answers_every_get_route_without_a_body(app) {
        let id = app.create_profile("headed", true).await["id"].as_i64().unwrap();
        for path in [PROFILES.to_owned(), format!("{PROFILES}/{id}"), format!("{PROFILES}/{id}/history"), "/pcc/spcm/changes".to_owned()] {
            let get = app.request(Method::GET, &path).send().await.unwrap();
            let head = app.request(Method::HEAD, &path).send().await.unwrap();
            assert_eq!(head.status(), get.status(), "{path}");
            for name in ["content-type", "etag", "x-total-count", "vary", "cache-control"] {
                assert_eq!(head.headers().get(name), get.headers().get(name), "{path}: {name}");
            }
            assert!(head.bytes().await.unwrap().is_empty(), "{path}: HEAD has no body");
        }
        let missing = app.request(Method::HEAD, &format!("{PROFILES}/424242")).send().await.unwrap();
        assert_eq!(missing.status(), 404);
        let tag = etag(&app.get_profile(id).await);
        let conditional = app.request(Method::HEAD, &format!("{PROFILES}/{id}")).header("if-none-match", tag).send().await.unwrap();
        assert_eq!(conditional.status(), 304);
    }
}
