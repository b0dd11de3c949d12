//! The catalogue's bounds (contract §1.1, §3.1): ids and text, the reach of `requires`,
//! views of a document stored before the bounds, duplicate JSON keys, and export →
//! import near the size limit.

use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};
use spcm::auth::Permission;
use spcm::config::Settings;
use spcm::domain::TenantName;

use crate::helpers::{backend_tests, expect_json, spawn_with, TestApp, PROFILES};

const ORG: &str = "default";

fn v2(path: &str) -> String {
    format!("/v2/orgs/{ORG}{path}")
}

fn requirement(id: &str) -> Value {
    json!({"value_added_service_id": id, "is_mandatory": true, "max_quantity": 1})
}

/// `n` value-added services `P0`…, each requiring the next `times` times.
fn chain(prefix: &str, n: usize, times: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let requires: Vec<Value> =
                if i + 1 < n { vec![requirement(&format!("{prefix}{}", i + 1)); times] } else { vec![] };
            json!({"id": format!("{prefix}{i}"), "name": format!("{prefix} {i}"), "requires": requires})
        })
        .collect()
}

fn fields(body: &Value) -> Vec<String> {
    body["errors"].as_array().expect("errors").iter().map(|e| e["field"].as_str().expect("field").to_owned()).collect()
}

/// The fields of a 412, each once, in order.
fn distinct_fields(body: &Value) -> Vec<String> {
    let mut seen = Vec::new();
    for field in fields(body) {
        if seen.last() != Some(&field) {
            seen.push(field);
        }
    }
    seen
}

fn descriptions(body: &Value) -> Vec<&str> {
    body["errors"].as_array().expect("errors").iter().map(|e| e["description"].as_str().expect("description")).collect()
}

/// Stores `document` as the tenant's catalogue straight into the database, as a release
/// without the bounds could have: no validation at all.
fn store_unvalidated(app: &TestApp, document: &Value) {
    use spcm::store::schema::catalogues;
    let mut conn = app.pool.get().expect("connection");
    let tenant_id = spcm::store::tenants::find_id(&mut conn, &TenantName::parse(ORG).unwrap()).unwrap().unwrap();
    diesel::delete(catalogues::table.filter(catalogues::tenant_id.eq(tenant_id))).execute(&mut conn).unwrap();
    diesel::insert_into(catalogues::table)
        .values((
            catalogues::tenant_id.eq(tenant_id),
            catalogues::version.eq(1_000_000),
            catalogues::document.eq(document.to_string()),
        ))
        .execute(&mut conn)
        .unwrap();
}

/// Nodes and depth of each top-level service of a value-added-services view.
fn sizes(view: &Value) -> Vec<(usize, usize)> {
    view.as_array()
        .expect("array")
        .iter()
        .map(|top| {
            let (mut nodes, mut depth) = (0, 0);
            let mut stack = vec![(top, 1)];
            while let Some((service, level)) = stack.pop() {
                nodes += 1;
                depth = depth.max(level);
                for nested in service["value_added_services"].as_array().expect("nested") {
                    stack.push((nested, level + 1));
                }
            }
            (nodes, depth)
        })
        .collect()
}

async fn put_raw(app: &TestApp, token: &str, body: String) -> reqwest::Response {
    app.client
        .put(app.url(&v2("/catalogue")))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request sent")
}

backend_tests! {
    async fn ids_and_text_are_bounded_and_free_of_control_characters(app) {
        app.create_profile("turkeySauce", false).await;
        let token = app.create_token(ORG, &[Permission::CatalogueWrite, Permission::CatalogueRead], None);
        let long = "x".repeat(101);
        let document = json!({
            "services": [{"id": long, "name": "s"}, {"id": "S\u{0}1", "name": "s"}, {"id": " S2", "name": "s"},
                         {"id": "S3", "name": "bad\u{85}name"}, {"id": "", "name": "s"}],
            "base_profiles": [{"id": "B", "name": "b", "services": [{"service_id": "S\u{1}"}]}],
            "value_added_services": [{"id": "V", "name": "v", "description": "d\u{7f}", "mysim_service_id": "M\u{0}"}],
            "commercial_products": [{"id": "C", "name": "c", "base_profile_ids": ["B\u{0}"]}],
            "bundled_products": [
                {"id": "BP1", "name": "bp", "provisioning_profiles": [{"profile_name": "turkeySauce", "territory_owners": ["YO\u{0}IGO"],
                    "activation_work_order_type_id": "WO\u{9}"}]},
                {"id": "BP1 ", "name": "bp"}]
        });
        let body = expect_json(app.import_catalogue(ORG, &token, &document).await, 412).await;
        assert_eq!(fields(&body), [
            "$.services[0].id",
            "$.services[1].id",
            "$.services[2].id",
            "$.services[3].name",
            "$.services[4].id",
            "$.base_profiles[0].services[0].service_id",
            "$.value_added_services[0].description",
            "$.value_added_services[0].mysim_service_id",
            "$.commercial_products[0].base_profile_ids[0]",
            "$.bundled_products[0].provisioning_profiles[0].activation_work_order_type_id",
            "$.bundled_products[0].provisioning_profiles[0].territory_owners[0]",
            "$.bundled_products[1].id",
        ], "{body}");
        assert!(body["errors"][0]["description"].as_str().unwrap().contains("100 characters"), "{body}");

        // At the bound, in any script: 100 characters of four bytes each, stored on every
        // backend, and the export gives them back.
        let widest = "🎁".repeat(100);
        let document = json!({"bundled_products": [{"id": widest, "name": "gift",
            "provisioning_profiles": [{"profile_name": "turkeySauce", "territory_owners": null}]}]});
        expect_json(app.import_catalogue(ORG, &token, &document).await, 200).await;
        let view = expect_json(app.get_with_token(&v2(&format!("/bundled_products/{widest}/provisioning_profiles")), &token).await, 200).await;
        assert_eq!(view[0]["name"], "turkeySauce");
        let exported = expect_json(app.get_with_token(&v2("/catalogue"), &token).await, 200).await;
        assert_eq!(exported["bundled_products"][0]["id"], widest);
    }

    async fn requires_reaching_too_far_is_refused_at_its_path(app) {
        let token = app.create_token(ORG, &[Permission::CatalogueWrite], None);
        // A chain of 2,000: once imported with 200, then a stack overflow on the first read.
        let body = expect_json(app.import_catalogue(ORG, &token, &json!({"value_added_services": chain("L", 2_000, 1)})).await, 412).await;
        // Every service with more than 16 levels, or 1,000 services, below it and itself.
        let expected: Vec<String> = (0..2_000 - 16).map(|i| format!("$.value_added_services[{i}].requires")).collect();
        assert_eq!(distinct_fields(&body), expected);
        let why = descriptions(&body);
        assert_eq!(why.iter().filter(|d| d.contains("more than 16")).count(), 2_000 - 16);
        assert_eq!(why.iter().filter(|d| d.contains("more than 1000 services")).count(), 1_000);
        assert!(why.last().unwrap().contains("reaches 17 levels"), "{}", why.last().unwrap());

        // Twenty services each requiring the next twice: 3 KB that once made 250 MB.
        let body = expect_json(app.import_catalogue(ORG, &token, &json!({"value_added_services": chain("D", 20, 2)})).await, 412).await;
        // From D10 down, 2^10 - 1 = 1,023 services: over 1,000; D11 requires only 511.
        // D0 to D3 also reach more than 16 levels.
        assert_eq!(distinct_fields(&body), (0..=10).map(|i| format!("$.value_added_services[{i}].requires")).collect::<Vec<_>>());
        assert!(descriptions(&body).last().unwrap().contains("more than 1000 services"), "{body}");

        // At the bounds exactly: 16 levels, and 999 + itself = 1,000 services.
        let wide = json!({"id": "W", "name": "w", "requires": vec![requirement("L1999"); 999]});
        let mut services = chain("L", 2_000, 1).split_off(1_984);
        services.push(wide);
        let accepted = json!({"value_added_services": services, "commercial_products": [{"id": "C", "name": "c",
            "value_added_services": [requirement("L1984"), requirement("L1999"), requirement("W")]}]});
        expect_json(app.import_catalogue(ORG, &token, &accepted).await, 200).await;
        let reader = app.create_token(ORG, &[Permission::CatalogueRead], None);
        let view = expect_json(app.get_with_token(&v2("/commercial_products/C/value_added_services"), &reader).await, 200).await;
        assert_eq!(sizes(&view), [(16, 16), (1, 1), (1_000, 2)]);

        // Products: links that together expand to more than 10,000 services.
        let mut services = chain("D", 10, 2); // D0 reaches 1,023: too many on its own
        services.remove(0);
        let many: Vec<Value> = (0..20).map(|_| requirement("D1")).collect(); // 20 × 511
        let product = json!({"value_added_services": services,
            "commercial_products": [{"id": "C", "name": "c", "value_added_services": many}],
            "bundled_products": [{"id": "BP", "name": "bp", "bundled_product_subs_types": [{"id": "ST", "name": "st",
                "bundled_commercial_products": [{"id": "BCP", "commercial_product_id": "C", "value_added_services": many}]}]}]});
        let body = expect_json(app.import_catalogue(ORG, &token, &product).await, 412).await;
        assert_eq!(fields(&body), [
            "$.commercial_products[0].value_added_services",
            "$.bundled_products[0].bundled_product_subs_types[0].bundled_commercial_products[0].value_added_services",
        ]);
    }

    async fn views_of_a_catalogue_stored_beyond_the_bounds_are_cut_at_them(app) {
        let deep = chain("L", 2_000, 1);
        let doubling = chain("D", 20, 2);
        let links = json!([requirement("L0"), requirement("D0")]);
        let services: Vec<Value> = deep.into_iter().chain(doubling).collect();
        store_unvalidated(&app, &json!({"value_added_services": services,
            "commercial_products": [{"id": "C", "name": "c", "value_added_services": links}],
            "bundled_products": [{"id": "BP", "name": "bp", "bundled_product_subs_types": [{"id": "ST", "name": "st",
                "bundled_commercial_products": [{"id": "BCP", "commercial_product_id": "C", "value_added_services": links}]}]}]}));
        let token = app.create_token(ORG, &[Permission::CatalogueRead], None);
        for path in ["/commercial_products/C/value_added_services", "/bundled_commercial_products/BCP/value_added_services",
                     "/bundled_products/BP/bundled_product_subs_types/ST/bundled_commercial_products/BCP/value_added_services"] {
            let view = expect_json(app.get_with_token(&v2(path), &token).await, 200).await;
            assert_eq!(sizes(&view), [(16, 16), (1_000, 16)], "{path}: the chain cut at 16 levels, the doubling at 1,000 services");
        }
        // The server is still there, and so is the export of what was stored.
        let exported = expect_json(app.get_with_token(&v2("/catalogue"), &token).await, 200).await;
        assert_eq!(exported["value_added_services"].as_array().unwrap().len(), 2_020);
    }

    async fn a_key_twice_in_one_object_is_refused_on_both_faces(app) {
        let response = app.request(Method::POST, PROFILES).header("content-type", "application/json")
            .body(r#"{"name": "first", "defaultProfile": false, "name": "second"}"#).send().await.unwrap();
        let body = expect_json(response, 400).await;
        assert_eq!(body["errorCode"], 400);
        assert!(body["message"].as_str().unwrap().contains("'name'"), "{body}");
        assert_eq!(expect_json(app.list("").await, 200).await["provisioningProfileDTOList"], json!([]), "nothing created");

        let token = app.create_token(ORG, &[Permission::CatalogueWrite, Permission::CatalogueRead], None);
        let twice = r#"{"services": [{"id": "S1", "name": "one"}, {"id": "S2", "name": "two", "name": "deux"}]}"#;
        let body = expect_json(put_raw(&app, &token, twice.to_owned()).await, 412).await;
        assert_eq!(fields(&body), ["$.services[1].name"]);
        assert!(body["errors"][0]["description"].as_str().unwrap().contains("'name'"), "{body}");
        let top = r#"{"services": [], "services": [{"id": "S1", "name": "one"}]}"#;
        assert_eq!(fields(&expect_json(put_raw(&app, &token, top.to_owned()).await, 412).await), ["$.services"]);

        // Nesting beyond 64 levels is refused with its path too, not left to serde_json.
        let deep = format!(r#"{{"services": {}{}}}"#, "[".repeat(100), "]".repeat(100));
        let body = expect_json(put_raw(&app, &token, deep).await, 412).await;
        assert!(fields(&body)[0].starts_with("$.services[0][0]"), "{body}");
        assert_eq!(expect_json(app.get_with_token(&v2("/catalogue"), &token).await, 200).await["services"], json!([]));
    }
}

/// Export → import round-trips near the size limit: what the import accepts exports to
/// at most the limit, even once its profiles are renamed to the longest names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_catalogue_near_the_limit_exports_within_it() {
    const LIMIT: usize = 16 * 1024;
    let app = spawn_with(Settings { catalogue_limit: LIMIT, ..Default::default() }).await;
    let profile = app.create_profile("p", false).await["id"].as_i64().unwrap();
    let token = app.create_token(ORG, &[Permission::CatalogueWrite, Permission::CatalogueRead], None);
    // Fractional seconds grow by two bytes once normalized (.1 → .100).
    let document = |services: usize| {
        let services: Vec<Value> = (0..services)
            .map(|i| json!({"id": format!("S{i}"), "in_catalogue_since": "2019-08-24T14:15:22.1Z"}))
            .collect();
        json!({"services": services, "bundled_products": [{"id": "BP", "name": "bp",
            "provisioning_profiles": [{"profile_name": "p", "territory_owners": null}]}]})
    };
    let length = |value: &Value| serde_json::to_vec(value).unwrap().len();

    // The largest document under the limit whose export could outgrow it is refused…
    let mut services = 1;
    while length(&document(services + 1)) <= LIMIT {
        services += 1;
    }
    let refused = document(services);
    assert!(length(&refused) <= LIMIT);
    let body = expect_json(app.import_catalogue(ORG, &token, &refused).await, 412).await;
    assert_eq!(fields(&body), ["$"]);
    assert!(body["errors"][0]["description"].as_str().unwrap().contains(&LIMIT.to_string()), "{body}");

    // …and the largest that is accepted round-trips, even after a rename to the longest name.
    while app.import_catalogue(ORG, &token, &document(services)).await.status() != 200 {
        services -= 1;
    }
    // The margin: two bytes per date, room for the longest profile name, the empty lists.
    assert!(length(&document(services)) > LIMIT - 1_500, "accepted only far from the limit: {services} services");
    let longest = "n".repeat(100);
    assert_eq!(app.put_profile(profile, &json!({"name": longest})).await.status(), 200);
    let exported = app.get_with_token(&v2("/catalogue"), &token).await.bytes().await.unwrap();
    assert!(exported.len() <= LIMIT, "export of {} bytes over the limit of {LIMIT}", exported.len());
    let exported: Value = serde_json::from_slice(&exported).unwrap();
    assert_eq!(exported["bundled_products"][0]["provisioning_profiles"][0]["profile_name"], longest.as_str());
    let link = &exported["bundled_products"][0]["provisioning_profiles"][0];
    assert!(link.get("territory_owners").is_none(), "nulls are left out of the export: {link}");
    expect_json(app.import_catalogue(ORG, &token, &exported).await, 200).await;
    assert_eq!(expect_json(app.get_with_token(&v2("/catalogue"), &token).await, 200).await, exported);
}
