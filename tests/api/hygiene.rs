//! Input hygiene of the SPCM face (contract §1.1): no control characters in any text a
//! client sends, profile names in Unicode NFC and visible, and every comparison exact
//! (trailing spaces and case count) on every backend.

use diesel::prelude::*;
use reqwest::{Method, Response};
use serde_json::json;
use spcm::auth::Permission;
use spcm::domain::TenantName;
use spcm::store::schema::{provisioning_profiles as p, tenants};

use crate::helpers::{backend_tests, expect_json, TestApp, PROFILES};

/// The text fields of a profile, each with a valid value, in the order a 412 lists them.
const TEXT_FIELDS: [(&str, &str); 5] = [
    ("name", "clean"),
    ("locale", "es-ES"),
    ("initialCorePlanName", "core"),
    ("subscriberClass", "gold"),
    ("subscriberType", "PREPAID"),
];

/// Control characters from both ranges, their ends included, and a line break.
const CONTROLS: [char; 8] = ['\u{0}', '\u{7}', '\n', '\u{1F}', '\u{7F}', '\u{85}', '\u{9F}', '\u{1B}'];

/// `valid` with `control` inside it, after its first character.
fn with_control(valid: &str, control: char) -> String {
    let mut value = valid.to_owned();
    value.insert(1, control);
    value
}

/// `GET …?name=<name>` with the value encoded as a query parameter.
async fn list_by_name(app: &TestApp, name: &str) -> Response {
    app.request(Method::GET, PROFILES).query(&[("name", name)]).send().await.expect("request sent")
}

/// The names a listing returned.
async fn names(response: Response) -> Vec<String> {
    let body = expect_json(response, 200).await;
    body["provisioningProfileDTOList"]
        .as_array()
        .expect("list")
        .iter()
        .map(|profile| profile["name"].as_str().expect("name").to_owned())
        .collect()
}

/// Asserts a 412 whose errors name exactly `fields`, each description containing `why`.
async fn assert_refused(response: Response, fields: &[&str], why: &str) {
    let body = expect_json(response, 412).await;
    let errors = body["errors"].as_array().unwrap_or_else(|| panic!("a 412 body lists errors: {body}"));
    let named: Vec<&str> = errors.iter().map(|e| e["field"].as_str().expect("field")).collect();
    assert_eq!(named, fields, "{body}");
    for error in errors {
        let description = error["description"].as_str().expect("description");
        assert!(description.contains(why), "{description:?} should say {why:?}");
    }
}

/// The tenant holds no profile at all.
async fn assert_nothing_stored(app: &TestApp) {
    let response = app.list("").await;
    assert_eq!(response.headers()["x-total-count"], "0");
    assert_eq!(names(response).await, Vec::<String>::new());
}

/// A profile stored by SQL, bypassing the API (which trims names), so that names that
/// differ only by trailing spaces can both exist.
fn insert_raw_profile(app: &TestApp, name: &str) {
    let mut conn = app.pool.get().expect("connection");
    let tenant_id = spcm::store::tenants::find_id(&mut conn, &TenantName::parse("default").unwrap())
        .expect("query")
        .expect("tenant exists");
    diesel::insert_into(p::table)
        .values((
            p::tenant_id.eq(tenant_id),
            p::name.eq(name),
            p::default_profile.eq(false),
            p::dps_enabled.eq(false),
            p::dps_notification.eq(false),
            p::eos_notification.eq(false),
            p::payg_notification.eq(false),
        ))
        .execute(&mut conn)
        .unwrap_or_else(|err| panic!("{name:?} is stored beside the others: {err}"));
    // Servers answer repeated reads from memory while the tenant's version is unchanged.
    diesel::update(tenants::table.filter(tenants::id.eq(tenant_id)))
        .set(tenants::version.eq(tenants::version + 1))
        .execute(&mut conn)
        .expect("version raised");
}

backend_tests! {
    async fn a_control_character_in_any_profile_field_is_a_412_naming_that_field(app) {
        for (field, valid) in TEXT_FIELDS {
            for control in CONTROLS {
                let mut body = json!({"name": "clean", "defaultProfile": false});
                body[field] = json!(with_control(valid, control));
                let response = app.post_profile(&body).await;
                assert_refused(response, &[field], "control characters").await;
            }
        }
        assert_nothing_stored(&app).await;
    }

    async fn every_field_with_a_control_character_is_listed_in_one_412(app) {
        let mut body = json!({"defaultProfile": false});
        for (field, valid) in TEXT_FIELDS {
            body[field] = json!(with_control(valid, '\u{0}'));
        }
        let fields: Vec<&str> = TEXT_FIELDS.iter().map(|(field, _)| *field).collect();
        assert_refused(app.post_profile(&body).await, &fields, "control characters").await;
        // In a batch, the item is refused and the others are created.
        let batch = json!([{"name": "a\u{0}", "defaultProfile": false}, {"name": "fine", "defaultProfile": false}]);
        let body = expect_json(app.post_profile(&batch).await, 207).await;
        assert_eq!(body["results"][0]["status"], 412);
        assert_eq!(body["results"][0]["errors"][0]["field"], "name");
        assert_eq!(body["results"][1]["status"], 201);
        assert_eq!(names(app.list("").await).await, ["fine"]);
    }

    async fn a_change_with_a_control_character_is_refused_and_changes_nothing(app) {
        let created = expect_json(app.post_profile(&json!({"name": "keep", "defaultProfile": false,
            "initialCorePlanName": "core", "subscriberClass": "gold", "locale": "en", "subscriberType": "POSTPAID"})).await, 201).await;
        let id = created["id"].as_i64().unwrap();
        for (field, valid) in TEXT_FIELDS {
            let response = app.put_profile(id, &json!({field: with_control(valid, '\u{0}')})).await;
            assert_refused(response, &[field], "control characters").await;
        }
        assert_eq!(expect_json(app.get_profile(id).await, 200).await, created);
    }

    async fn a_control_character_in_a_listing_filter_is_a_400(app) {
        app.create_profile("ab", false).await;
        for query in ["name=a%00b", "name=%00", "name=ab%0A", "name=a%C2%85b", "name=%7F", "subscriberType=PRE%00PAID", "subscriberType=%07"] {
            let body = expect_json(app.list(query).await, 400).await;
            assert_eq!(body["errorCode"], 400, "{query}");
            let message = body["message"].as_str().unwrap();
            assert!(message.contains("control characters"), "{query}: {message}");
        }
    }

    async fn composed_and_decomposed_names_are_one_profile_stored_in_nfc(app) {
        let composed = "caf\u{E9}";
        let decomposed = "cafe\u{301}";
        let created = expect_json(app.post_profile(&json!({"name": decomposed, "defaultProfile": false})).await, 201).await;
        assert_eq!(created["name"], composed, "stored in NFC");
        let id = created["id"].as_i64().unwrap();
        assert_eq!(expect_json(app.get_profile(id).await, 200).await["name"], composed);

        let again = expect_json(app.post_profile(&json!({"name": composed, "defaultProfile": false})).await, 409).await;
        assert_eq!(again["errorCode"], 409);
        let other = app.create_profile("other", false).await;
        let renamed = app.put_profile(other["id"].as_i64().unwrap(), &json!({"name": decomposed})).await;
        assert_eq!(renamed.status(), 409, "a rename to the other form is the same name");

        assert_eq!(names(list_by_name(&app, composed).await).await, [composed]);
        assert_eq!(names(list_by_name(&app, decomposed).await).await, [composed]);
    }

    async fn names_of_invisible_characters_or_with_bidi_controls_are_412(app) {
        let invisible = ["\u{200B}", "\u{200B}\u{200C}\u{200D}", "\u{2060}", "\u{FEFF}", " \u{200B} \u{FEFF} ", "\u{00AD}\u{180E}"];
        for name in invisible {
            assert_refused(app.post_profile(&json!({"name": name, "defaultProfile": false})).await, &["name"], "visible character").await;
        }
        for name in ["\u{202E}evil", "a\u{202A}b", "gpj.\u{202D}exe", "x\u{2066}", "\u{2067}y\u{2069}", "\u{2068}"] {
            assert_refused(app.post_profile(&json!({"name": name, "defaultProfile": false})).await, &["name"], "bidirectional").await;
        }
        assert_nothing_stored(&app).await;
        let created = app.create_profile("a\u{200D}b", false).await;
        let change = app.put_profile(created["id"].as_i64().unwrap(), &json!({"name": "\u{200B}"})).await;
        assert_refused(change, &["name"], "visible character").await;
    }

    async fn trailing_spaces_and_case_are_significant_in_the_name_filter(app) {
        app.create_profile("pad", false).await;
        app.create_profile("Pad", false).await;
        assert_eq!(names(list_by_name(&app, "pad ").await).await, Vec::<String>::new());
        assert_eq!(names(list_by_name(&app, "pad  ").await).await, Vec::<String>::new());
        assert_eq!(names(list_by_name(&app, "pad").await).await, ["pad"]);
        assert_eq!(names(list_by_name(&app, "PAD").await).await, Vec::<String>::new());

        // Names that differ only by a trailing space are two rows of the unique key, and
        // each filter finds only its own.
        insert_raw_profile(&app, "pad ");
        assert_eq!(names(list_by_name(&app, "pad ").await).await, ["pad "]);
        assert_eq!(names(list_by_name(&app, "pad").await).await, ["pad"]);
    }

    async fn a_username_with_a_trailing_space_is_another_user(app) {
        let perms = [Permission::ProfileRead];
        app.add_user("default", "boss ", "boss-space-pw", &perms);
        let as_boss = |password: &'static str| app.request_as(Method::GET, PROFILES, "default", "boss", password).send();
        assert_eq!(as_boss("boss-space-pw").await.unwrap().status(), 401, "'boss' is not 'boss '");
        app.add_user("default", "boss", "boss-pw", &perms);
        assert_eq!(as_boss("boss-pw").await.unwrap().status(), 200);
        assert_eq!(as_boss("boss-space-pw").await.unwrap().status(), 401);

        let mut conn = app.pool.get().unwrap();
        let login = spcm::store::users::find_login(&mut conn, "default ", "boss").unwrap();
        assert!(login.is_none(), "tenant 'default ' is not 'default'");
        assert!(spcm::store::users::find_login(&mut conn, "default", "boss").unwrap().is_some());
    }
}

/// Noncharacters from each kind: U+FDD0–U+FDEF, the last two of the basic plane, and the
/// last two of a supplementary plane.
const NONCHARACTERS: [char; 6] = ['\u{FDD0}', '\u{FDEF}', '\u{FFFE}', '\u{FFFF}', '\u{1FFFE}', '\u{10FFFF}'];

/// The body is a well-formed XML document: every character one that XML 1.0 can carry,
/// and quick-xml reads it to its end with every element closed. Returns the texts of its
/// `<name>` elements.
fn assert_well_formed_xml(body: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let carried =
        |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
    if let Some(bad) = body.chars().find(|&c| !carried(c)) {
        panic!("U+{:04X} cannot be in an XML document: {body:?}", bad as u32);
    }
    let mut reader = quick_xml::Reader::from_str(body);
    reader.config_mut().check_end_names = true;
    let (mut depth, mut names) = (0usize, Vec::new());
    let mut name: Option<String> = None;
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("not well-formed ({e}): {body:?}")) {
            Event::Start(start) => {
                depth += 1;
                name = (start.name().as_ref() == b"name").then(String::new);
            }
            Event::End(_) => {
                depth = depth.checked_sub(1).expect("an end tag without its start");
                names.extend(name.take());
            }
            Event::Text(text) => {
                if let Some(name) = &mut name {
                    name.push_str(&text.decode().unwrap());
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "every element is closed: {body:?}");
    names
}

backend_tests! {
    async fn a_noncharacter_in_any_profile_field_is_a_412_naming_that_field(app) {
        for noncharacter in NONCHARACTERS {
            let name = format!("nc{noncharacter}");
            assert_refused(app.post_profile(&json!({"name": name, "defaultProfile": false})).await, &["name"], "noncharacters").await;
            let class = json!({"name": "clean", "defaultProfile": false, "subscriberClass": format!("gold{noncharacter}")});
            assert_refused(app.post_profile(&class).await, &["subscriberClass"], "noncharacters").await;
        }
        // The tester's own case, as an escape in JSON.
        let escaped = app.request(Method::POST, PROFILES).header("content-type", "application/json")
            .body(r#"{"name": "nc\ufffe", "defaultProfile": false}"#).send().await.unwrap();
        assert_refused(escaped, &["name"], "U+FFFE").await;
        assert_nothing_stored(&app).await;

        let kept = app.create_profile("kept", false).await;
        let id = kept["id"].as_i64().unwrap();
        assert_refused(app.put_profile(id, &json!({"name": "kept\u{FFFF}"})).await, &["name"], "noncharacters").await;
        assert_eq!(expect_json(app.get_profile(id).await, 200).await, kept);
    }

    async fn a_noncharacter_in_an_xml_body_is_a_412_naming_the_field(app) {
        for name in ["nc\u{FFFE}", "\u{FDD0}", "x\u{10FFFF}"] {
            let body = format!("<provisioningProfile><name>{name}</name><defaultProfile>false</defaultProfile></provisioningProfile>");
            let response = app.request(Method::POST, PROFILES).header("content-type", "application/xml").body(body).send().await.unwrap();
            assert_refused(response, &["name"], "noncharacters").await;
        }
        // Answered in XML, the refusal is itself a well-formed document.
        let response = app.request(Method::POST, PROFILES).header("content-type", "application/xml").header("accept", "application/xml")
            .body("<provisioningProfile><name>nc\u{FFFE}</name><defaultProfile>false</defaultProfile></provisioningProfile>")
            .send().await.unwrap();
        assert_eq!(response.status(), 412);
        assert_well_formed_xml(&response.text().await.unwrap());
        assert_nothing_stored(&app).await;
    }

    async fn a_noncharacter_in_a_listing_filter_is_a_400(app) {
        app.create_profile("nc", false).await;
        for noncharacter in NONCHARACTERS {
            let response = list_by_name(&app, &format!("nc{noncharacter}")).await;
            let body = expect_json(response, 400).await;
            let message = body["message"].as_str().unwrap();
            assert!(message.contains("name") && message.contains("noncharacters"), "{message}");
        }
        let kind = expect_json(app.list("subscriberType=PREPAID%EF%BF%BF").await, 400).await;
        assert!(kind["message"].as_str().unwrap().contains("noncharacters"), "{kind}");
    }

    async fn a_noncharacter_in_credentials_is_a_401(app) {
        app.add_user("default", "boss", "boss-password-1", &[Permission::ProfileRead]);
        for noncharacter in NONCHARACTERS {
            let username = format!("boss{noncharacter}");
            let response = app.request_as(Method::GET, PROFILES, "default", &username, "boss-password-1").send().await.unwrap();
            assert_eq!(response.status(), 401, "{username:?}");
            let password = format!("boss-password-1{noncharacter}");
            let response = app.request_as(Method::GET, PROFILES, "default", "boss", &password).send().await.unwrap();
            assert_eq!(response.status(), 401, "{password:?}");
        }
        let fine = app.request_as(Method::GET, PROFILES, "default", "boss", "boss-password-1").send().await.unwrap();
        assert_eq!(fine.status(), 200);
    }

    async fn a_noncharacter_in_a_catalogue_document_is_a_412_at_its_path(app) {
        app.create_profile("turkeySauce", false).await;
        let token = app.create_token("default", &[Permission::CatalogueWrite, Permission::CatalogueRead], None);
        let document = json!({
            "services": [{"id": "S1", "name": "nc\u{FFFE}"}, {"id": "S\u{FDD0}", "name": "s"}],
            "bundled_products": [{"id": "BP1", "name": "bp\u{10FFFF}",
                "provisioning_profiles": [{"profile_name": "turkeySauce", "territory_owners": ["YO\u{FFFF}IGO"]}]}]
        });
        let body = expect_json(app.import_catalogue("default", &token, &document).await, 412).await;
        let errors = body["errors"].as_array().unwrap_or_else(|| panic!("errors listed: {body}"));
        let paths: Vec<&str> = errors.iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(paths, [
            "$.services[0].name",
            "$.services[1].id",
            "$.bundled_products[0].name",
            "$.bundled_products[0].provisioning_profiles[0].territory_owners[0]",
        ], "{body}");
        for error in errors {
            assert!(error["description"].as_str().unwrap().contains("noncharacters"), "{error}");
        }
    }

    async fn xml_answers_are_well_formed_whatever_an_older_row_holds(app) {
        // Written by SQL, as a row stored before the rule would be.
        let stored = "old\u{FFFE}row\u{1B}x\u{FFFF}";
        insert_raw_profile(&app, stored);
        let id = expect_json(app.list("").await, 200).await["provisioningProfileDTOList"][0]["id"].as_i64().unwrap();
        // A change through the API records the stored name in the history and the feed.
        assert_eq!(app.put_profile(id, &json!({"subscriberClass": "gold"})).await.status(), 200);

        let shown = "old\u{FFFD}row\u{FFFD}x\u{FFFD}";
        for path in [PROFILES.to_owned(), format!("{PROFILES}/{id}"), format!("{PROFILES}/{id}/history"), "/pcc/spcm/changes".to_owned()] {
            let response = app.request(Method::GET, &path).header("accept", "application/xml").send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            let body = response.text().await.unwrap();
            let names = assert_well_formed_xml(&body);
            assert!(names.iter().any(|name| name == shown), "{path}: {body:?}");
        }
        let json = expect_json(app.get_profile(id).await, 200).await;
        assert_eq!(json["name"], stored, "JSON gives the text as stored");
    }
}
