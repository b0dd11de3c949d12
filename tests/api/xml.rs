//! The SPCM face in XML: content negotiation, XML in and out, 406, `Vary` naming `Accept`.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{backend_tests, expect_json, PROFILES};

const XML: &str = "application/xml";

fn profile_xml(name: &str, default_profile: bool) -> String {
    format!(
        "<?xml version=\"1.0\"?><provisioningProfile><name>{name}</name><defaultProfile>{default_profile}</defaultProfile>\
         <locale>en</locale><subscriberType>PREPAID</subscriberType></provisioningProfile>"
    )
}

backend_tests! {
    async fn a_profile_goes_in_and_comes_out_as_xml(app) {
        let created = app
            .request(Method::POST, PROFILES)
            .header("content-type", XML)
            .header("accept", XML)
            .body(profile_xml("turkey &amp; sauce", true))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        assert_eq!(created.headers()["content-type"], XML);
        assert_eq!(created.headers()["vary"], "Accept, Authorization, tenant");
        let location = created.headers()["location"].to_str().unwrap().to_owned();
        let body = created.text().await.unwrap();
        assert!(body.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?><provisioningProfile><id>"#), "{body}");
        assert!(body.contains("<name>turkey &amp; sauce</name><defaultProfile>true</defaultProfile><locale>en</locale>"), "{body}");
        assert!(!body.contains("initialCorePlanName"), "a null field is an absent element: {body}");
        assert!(!body.contains("_links"), "{body}");

        let fetched = app.request(Method::GET, &location).header("accept", "text/xml").send().await.unwrap();
        assert_eq!(fetched.headers()["content-type"], XML);
        assert_eq!(fetched.text().await.unwrap(), body, "GET one says what POST said");
        let json = expect_json(app.request(Method::GET, &location).send().await.unwrap(), 200).await;
        assert_eq!(json["name"], "turkey & sauce", "the same profile in JSON");

        let list = app.request(Method::GET, PROFILES).header("accept", "application/json;q=0.5, application/xml").send().await.unwrap();
        assert_eq!(list.headers()["content-type"], XML);
        let list = list.text().await.unwrap();
        assert!(list.contains("<provisioningProfiles><length>1</length><provisioningProfileDTOList><provisioningProfile><id>"), "{list}");
    }

    async fn the_change_history_comes_in_xml_too(app) {
        let id = app.create_profile("audited", true).await["id"].as_i64().unwrap();
        let history = app.request(Method::GET, &format!("{PROFILES}/{id}/history")).header("accept", XML).send().await.unwrap();
        assert_eq!(history.status(), 200);
        assert_eq!(history.headers()["content-type"], XML);
        let text = history.text().await.unwrap();
        assert!(text.contains("<changes><length>1</length><changes><change><id>"), "{text}");
        assert!(text.contains("<eventType>PROVISION_PROFILE_CREATED</eventType>"), "{text}");
        let refused = app.request(Method::GET, "/pcc/spcm/changes").header("accept", "text/html").send().await.unwrap();
        assert_eq!(refused.status(), 406);
    }

    async fn a_batch_in_xml_answers_a_multi_status_in_xml(app) {
        let body = "<provisioningProfiles><provisioningProfile><name>a</name><defaultProfile>false</defaultProfile></provisioningProfile>\
                    <provisioningProfile><name>a</name><defaultProfile>false</defaultProfile></provisioningProfile>\
                    <provisioningProfile><defaultProfile>false</defaultProfile></provisioningProfile></provisioningProfiles>";
        let response = app.request(Method::POST, PROFILES).header("content-type", XML).header("accept", XML).body(body).send().await.unwrap();
        assert_eq!(response.status(), 207);
        let text = response.text().await.unwrap();
        assert!(text.contains("<multiStatus><length>3</length><results><result><index>0</index><status>201</status><provisioningProfile>"), "{text}");
        assert!(text.contains("<result><index>1</index><status>409</status><message>name 'a' already exists</message><errorCode>409</errorCode></result>"), "{text}");
        assert!(text.contains("<result><index>2</index><status>412</status><errors><error><field>name</field>"), "{text}");
    }

    async fn errors_come_in_xml_too(app) {
        let missing = app.request(Method::GET, &format!("{PROFILES}/424242")).header("accept", XML).send().await.unwrap();
        assert_eq!(missing.status(), 404);
        assert!(missing.text().await.unwrap().ends_with("<error><message>provisioning profile 424242 not found</message><errorCode>404</errorCode></error>"));
        let invalid = app
            .request(Method::POST, PROFILES)
            .header("content-type", XML)
            .header("accept", XML)
            .body("<provisioningProfile><defaultProfile>maybe</defaultProfile></provisioningProfile>")
            .send()
            .await
            .unwrap();
        assert_eq!(invalid.status(), 412);
        let text = invalid.text().await.unwrap();
        assert!(text.contains("<errors><error><field>name</field>") && text.contains("<field>defaultProfile</field>"), "{text}");
        let unauthorised = app.client.get(app.url(PROFILES)).header("accept", XML).header("tenant", "default").send().await.unwrap();
        assert_eq!(unauthorised.status(), 401);
        assert!(unauthorised.text().await.unwrap().contains("<errorCode>401</errorCode>"));
    }

    async fn entities_and_document_types_are_refused(app) {
        let bodies = [
            r#"<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><provisioningProfile><name>&x;</name><defaultProfile>false</defaultProfile></provisioningProfile>"#,
            "<provisioningProfile><name>&x;</name><defaultProfile>false</defaultProfile></provisioningProfile>",
            "<provisioningProfile><name>a</name>",
            "<provisioningProfile><name>a</name><name>b</name><defaultProfile>false</defaultProfile></provisioningProfile>",
        ];
        for body in bodies {
            let response = app.request(Method::POST, PROFILES).header("content-type", XML).body(body).send().await.unwrap();
            assert_eq!(expect_json(response, 400).await["errorCode"], 400, "{body}");
        }
        assert_eq!(expect_json(app.list("").await, 200).await["length"], 0, "nothing was created");
    }

    async fn an_accept_header_the_face_cannot_satisfy_is_406_after_the_caller_is_known(app) {
        let refused = app.request(Method::GET, PROFILES).header("accept", "text/html").send().await.unwrap();
        assert_eq!(refused.headers()["vary"], "Accept, Authorization, tenant");
        assert_eq!(expect_json(refused, 406).await["errorCode"], 406);
        let created = app
            .request(Method::POST, PROFILES)
            .header("accept", "image/png")
            .json(&json!({"name": "never", "defaultProfile": false}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 406);
        assert_eq!(expect_json(app.list("").await, 200).await["length"], 0, "a 406 writes nothing");
        let stranger = app.request_as(Method::GET, PROFILES, "default", "admin", "wrong").header("accept", "text/html").send().await.unwrap();
        assert_eq!(stranger.status(), 401, "credentials are checked first");
        let json = app.list("").await;
        assert_eq!(json.headers()["vary"], "Accept, Authorization, tenant");
        assert_eq!(json.headers()["content-type"], "application/hal+json");
    }
}
