//! The catalogue face (contract §3): views shaped as the seeds, filters, tokens,
//! import validation, atomicity, round trips and the interplay with the SPCM face.

use reqwest::Method;
use serde_json::{json, Value};
use spcm::auth::Permission;

use crate::helpers::{backend_tests, expect_json, TestApp, PROFILES};

const ORG: &str = "default";

fn sample() -> Value {
    serde_json::from_str(include_str!("../../docs/examples/catalogue.json")).expect("sample catalogue")
}

/// The seed's two profiles, the sample catalogue imported, and a read token.
async fn with_catalogue(app: &TestApp) -> (String, i64, i64) {
    let turkey = app.create_profile("turkeySauce", false).await["id"].as_i64().unwrap();
    let chacha = app.create_profile("chaCha", true).await["id"].as_i64().unwrap();
    let writer = app.create_token(ORG, &[Permission::CatalogueWrite], None);
    expect_json(app.import_catalogue(ORG, &writer, &sample()).await, 200).await;
    (app.create_token(ORG, &[Permission::CatalogueRead], None), turkey, chacha)
}

fn v2(path: &str) -> String {
    format!("/v2/orgs/{ORG}{path}")
}

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().expect("object").keys().cloned().collect();
    keys.sort();
    keys
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array().expect("array").iter().map(|item| item["id"].as_str().expect("string id").to_owned()).collect()
}

backend_tests! {
    async fn the_import_answers_counts_and_the_export_round_trips(app) {
        app.create_profile("turkeySauce", false).await;
        app.create_profile("chaCha", true).await;
        let token = app.create_token(ORG, &[Permission::CatalogueWrite, Permission::CatalogueRead], None);
        let counts = expect_json(app.import_catalogue(ORG, &token, &sample()).await, 200).await;
        assert_eq!(counts, json!({"services": 3, "base_profiles": 2, "value_added_services": 5, "commercial_products": 2,
            "bundled_products": 2, "bundled_product_subs_types": 2, "bundled_commercial_products": 3}));

        let exported = expect_json(app.get_with_token(&v2("/catalogue"), &token).await, 200).await;
        assert_eq!(exported["bundled_products"][0]["provisioning_profiles"][0]["profile_name"], "turkeySauce");
        assert!(exported["bundled_products"][0]["provisioning_profiles"][0].get("profile_id").is_none());
        expect_json(app.import_catalogue(ORG, &token, &exported).await, 200).await;
        let again = expect_json(app.get_with_token(&v2("/catalogue"), &token).await, 200).await;
        assert_eq!(again, exported, "export then import changes nothing");
        expect_json(app.import_catalogue(ORG, &token, &sample()).await, 200).await;
        assert_eq!(expect_json(app.get_with_token(&v2("/catalogue"), &token).await, 200).await, exported, "idempotent");
    }

    async fn provisioning_profiles_follow_the_seed_and_the_spcm_profiles(app) {
        let (token, turkey, chacha) = with_catalogue(&app).await;
        let view = expect_json(app.get_with_token(&v2("/bundled_products/BP1/provisioning_profiles"), &token).await, 200).await;
        assert_eq!(view, json!([
            {"id": turkey.to_string(), "name": "turkeySauce", "in_catalogue_since": null, "in_catalogue_until": null,
             "activation_work_order_type_id": "WO_ACT", "deactivation_work_order_type_id": "WO_DEACT",
             "suspension_work_order_type_id": null, "resume_work_order_type_id": null,
             "cancellation_work_order_type_id": "WO_CANCEL", "partial_cancellation_work_order_type_id": null,
             "territory_owners": "YOIGO"},
            {"id": chacha.to_string(), "name": "chaCha", "in_catalogue_since": null, "in_catalogue_until": null,
             "activation_work_order_type_id": "WO_ACT_MM", "deactivation_work_order_type_id": "WO_DEACT_MM",
             "suspension_work_order_type_id": "WO_SUSP", "resume_work_order_type_id": "WO_RESUME",
             "cancellation_work_order_type_id": "WO_CANCEL", "partial_cancellation_work_order_type_id": "WO_PCANCEL",
             "territory_owners": "FIBMM02,MASMOVIL"}
        ]));
        let catch_all = expect_json(app.get_with_token(&v2("/bundled_products/BP2/provisioning_profiles"), &token).await, 200).await;
        assert!(catch_all[0]["territory_owners"].is_null());

        // A rename over the SPCM face shows at once, in the view and the export.
        assert_eq!(app.put_profile(turkey, &json!({"name": "turkeyGravy"})).await.status(), 200);
        let view = expect_json(app.get_with_token(&v2("/bundled_products/BP1/provisioning_profiles"), &token).await, 200).await;
        assert_eq!(view[0]["name"], "turkeyGravy");
        assert_eq!(view[0]["id"], turkey.to_string());
        let exported = expect_json(app.get_with_token(&v2("/catalogue"), &app.create_token(ORG, &[Permission::CatalogueRead], None)).await, 200).await;
        assert_eq!(exported["bundled_products"][0]["provisioning_profiles"][0]["profile_name"], "turkeyGravy");
    }

    async fn a_profile_in_use_cannot_be_deleted(app) {
        let (_, turkey, _) = with_catalogue(&app).await;
        let body = expect_json(app.delete_profile(turkey).await, 409).await;
        assert_eq!(body["errorCode"], 409);
        assert!(body["message"].as_str().unwrap().contains("BP1"), "{body}");
        let bulk = expect_json(app.request(Method::DELETE, &format!("{PROFILES}?id={turkey}")).send().await.unwrap(), 207).await;
        assert_eq!(bulk["results"][0]["status"], 409);
        assert_eq!(app.get_profile(turkey).await.status(), 200);

        // Once a new catalogue no longer uses it, it can go.
        let mut without = sample();
        without["bundled_products"][0]["provisioning_profiles"].as_array_mut().unwrap().remove(0);
        let writer = app.create_token(ORG, &[Permission::CatalogueWrite], None);
        expect_json(app.import_catalogue(ORG, &writer, &without).await, 200).await;
        assert_eq!(app.delete_profile(turkey).await.status(), 204);
    }

    async fn base_profiles_and_services_have_the_seed_shape(app) {
        let (token, _, _) = with_catalogue(&app).await;
        let all = expect_json(app.get_with_token(&v2("/base_profiles"), &token).await, 200).await;
        assert_eq!(ids(&all), ["71_COMPRODUCT", "122_COMPRODUCT"]);
        assert_eq!(keys(&all[0]), ["charging_id", "download_speed", "id", "in_catalogue_since", "in_catalogue_until",
            "internet_speed", "manual_renewal", "name", "network_id", "network_provisioning_id", "offer_id",
            "service_class", "upload_speed"]);
        assert_eq!(all[0]["in_catalogue_until"], "2030-12-31T23:59:59Z");
        assert_eq!(all[1]["manual_renewal"], true);

        let of_product = expect_json(app.get_with_token(&v2("/commercial_products/2312/base_profiles"), &token).await, 200).await;
        assert_eq!(ids(&of_product), ["122_COMPRODUCT"]);
        let service = &of_product[0]["services"][0];
        assert_eq!(keys(service), ["activate_on_network_provisioning", "available_networks", "description", "from", "id",
            "in_catalogue_since", "in_catalogue_until", "is_changeable", "language", "name", "network_code", "speed", "to"]);
        assert_eq!(service["id"], "2");
        assert_eq!(service["to"], "2029-08-24T14:15:22Z");

        let services = expect_json(app.get_with_token(&v2("/base_profiles/71_COMPRODUCT/services"), &token).await, 200).await;
        assert_eq!(ids(&services), ["16", "30"]);
        assert_eq!(services[1]["available_networks"], "RED YOIGO+ORANGE+TELEFÓNICA");
    }

    async fn value_added_services_nest_and_filter(app) {
        let (token, _, _) = with_catalogue(&app).await;
        let all = expect_json(app.get_with_token(&v2("/commercial_products/2311/value_added_services"), &token).await, 200).await;
        assert_eq!(ids(&all), ["V1", "V5"]);
        let roaming = &all[0];
        assert_eq!(keys(roaming), ["description", "id", "in_catalogue_since", "in_catalogue_until", "is_mandatory",
            "max_cardinality", "max_quantity", "mysim_service_id", "name", "related_bundled_product_id", "value_added_services"]);
        assert_eq!((roaming["max_quantity"].clone(), roaming["max_cardinality"].clone()), (json!(2), json!("2")));
        assert!(roaming["related_bundled_product_id"].is_null(), "null for a commercial product");
        let level2 = &roaming["value_added_services"][0];
        assert_eq!((level2["id"].clone(), level2["is_mandatory"].clone()), (json!("V2"), json!(true)));
        let level3 = &level2["value_added_services"][0];
        assert_eq!((level3["id"].clone(), level3["max_cardinality"].clone()), (json!("V3"), json!("3")));
        assert_eq!(level3["value_added_services"], json!([]));

        let sale = |query: &str| v2(&format!("/commercial_products/2312/value_added_services?{query}"));
        let migration = expect_json(app.get_with_token(&sale("sale_type_name=Migraci%C3%B3n"), &token).await, 200).await;
        assert_eq!(ids(&migration), ["V1"]);
        let add_line = expect_json(app.get_with_token(&sale("sale_type_name=A%C3%B1adir%20L%C3%ADnea"), &token).await, 200).await;
        assert_eq!(ids(&add_line), ["V1", "V4"]);
        let portfolio = expect_json(app.get_with_token(&sale("sale_type_name=Cartera"), &token).await, 200).await;
        assert_eq!(ids(&portfolio), Vec::<String>::new());
        let mysim = expect_json(app.get_with_token(&sale("mysim_service_id=MS4"), &token).await, 200).await;
        assert_eq!(ids(&mysim), ["V4"]);
        // A link without sale types applies to every sale type.
        let any = expect_json(app.get_with_token(&v2("/commercial_products/2311/value_added_services?sale_type_name=Cross%20Sell"), &token).await, 200).await;
        assert_eq!(ids(&any), ["V5"]);

        let bundled = expect_json(app.get_with_token(&v2("/bundled_commercial_products/BCP1/value_added_services"), &token).await, 200).await;
        assert_eq!(bundled[0]["related_bundled_product_id"], "BP1");
        assert_eq!(bundled[0]["value_added_services"][0]["related_bundled_product_id"], "BP1");
        let nested = v2("/bundled_products/BP1/bundled_product_subs_types/ST2/bundled_commercial_products/BCP3/value_added_services?sale_type_name=Migraci%C3%B3n");
        let nested = expect_json(app.get_with_token(&nested, &token).await, 200).await;
        assert_eq!(ids(&nested), ["V1"]);
        assert_eq!(nested[0]["is_mandatory"], false);
    }

    async fn the_catalogue_errors_have_their_own_shapes(app) {
        let (token, _, _) = with_catalogue(&app).await;
        let unauthorized = json!("Origin authentication failed.");
        let path = v2("/base_profiles");
        let no_token = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(expect_json(no_token, 401).await, unauthorized);
        assert_eq!(expect_json(app.get_with_token(&path, "spcm_unknown").await, 401).await, unauthorized);
        let basic = app.client.get(app.url(&path)).basic_auth("admin", Some("x")).send().await.unwrap();
        assert_eq!(expect_json(basic, 401).await, unauthorized);
        let expired = app.create_token(ORG, &[Permission::CatalogueRead], Some(1));
        assert_eq!(expect_json(app.get_with_token(&path, &expired).await, 401).await, unauthorized);
        let writer_only = app.create_token(ORG, &[Permission::CatalogueWrite], None);
        assert_eq!(expect_json(app.get_with_token(&path, &writer_only).await, 401).await, unauthorized);
        let reader = app.create_token(ORG, &[Permission::CatalogueRead], None);
        assert_eq!(expect_json(app.import_catalogue(ORG, &reader, &sample()).await, 401).await, unauthorized);

        let not_found = |code: &str| json!({"error": "Item not found", "message": "Item not found", "code": code});
        assert_eq!(expect_json(app.get_with_token("/v2/orgs/nowhere/base_profiles", &token).await, 404).await, not_found("020001"));
        let cases = [
            ("/bundled_products/NOPE/provisioning_profiles", "020002"),
            ("/commercial_products/NOPE/value_added_services", "020003"),
            ("/commercial_products/NOPE/base_profiles", "020003"),
            ("/base_profiles/NOPE/services", "020004"),
            ("/bundled_commercial_products/NOPE/value_added_services", "020005"),
            ("/bundled_products/BP1/bundled_product_subs_types/NOPE/bundled_commercial_products/BCP1/value_added_services", "020006"),
            ("/bundled_products/BP1/bundled_product_subs_types/ST2/bundled_commercial_products/BCP1/value_added_services", "020005"),
        ];
        for (path, code) in cases {
            assert_eq!(expect_json(app.get_with_token(&v2(path), &token).await, 404).await, not_found(code), "{path}");
        }
        let bad = v2("/commercial_products/2311/value_added_services?sale_type_name=Rebajas");
        assert_eq!(expect_json(app.get_with_token(&bad, &token).await, 400).await, json!("Bad Request"));

        app.revoke_tokens(ORG);
        assert_eq!(expect_json(app.get_with_token(&path, &token).await, 401).await, unauthorized, "revoked at once");
    }

    async fn a_path_under_v2_that_names_no_operation_is_the_catalogue_404(app) {
        let (token, _, _) = with_catalogue(&app).await;
        let unknown = json!({"error": "Item not found", "message": "Item not found", "code": "020000"});
        let paths = ["/v2", "/v2/", "/v2/orgs", "/v2/orgs/default", "/v2/orgs/default/bundled_products",
            "/v2/orgs/default/base_profiles/71_COMPRODUCT", "/v2/orgs/nowhere/promotions", "/v2/anything/at/all"];
        for path in paths {
            let anonymous = app.client.get(app.url(path)).send().await.unwrap();
            assert_eq!(anonymous.headers()["content-type"], "application/json", "{path}");
            assert_eq!(expect_json(anonymous, 404).await, unknown, "{path}");
            assert_eq!(expect_json(app.get_with_token(path, &token).await, 404).await, unknown, "{path} with a token");
            let head = app.client.head(app.url(path)).send().await.unwrap();
            assert_eq!(head.status(), 404, "HEAD {path}");
        }
        let elsewhere = json!({"message": "no such resource", "errorCode": 404});
        for path in ["/nowhere", "/v2x/orgs", "/pcc/spcm/nowhere", "/api/v2/orgs"] {
            assert_eq!(expect_json(app.client.get(app.url(path)).send().await.unwrap(), 404).await, elsewhere, "{path}");
        }
    }

    async fn orgs_are_isolated(app) {
        let (token, _, _) = with_catalogue(&app).await;
        app.add_tenant("rival");
        let rival = app.create_token("rival", &[Permission::CatalogueRead, Permission::CatalogueWrite], None);
        let unauthorized = json!("Origin authentication failed.");
        assert_eq!(expect_json(app.get_with_token(&v2("/base_profiles"), &rival).await, 401).await, unauthorized);
        assert_eq!(expect_json(app.get_with_token("/v2/orgs/rival/base_profiles", &token).await, 401).await, unauthorized);
        assert_eq!(expect_json(app.get_with_token("/v2/orgs/rival/base_profiles", &rival).await, 200).await, json!([]));
        // The rival has no profiles named like ours: its import of our document fails.
        let refused = expect_json(app.import_catalogue("rival", &rival, &sample()).await, 412).await;
        assert!(refused["errors"].as_array().unwrap().iter().all(|e| e["field"].as_str().unwrap().ends_with("profile_name")));
        assert_eq!(
            expect_json(app.get_with_token("/v2/orgs/rival/bundled_products/BP1/provisioning_profiles", &rival).await, 404).await["code"],
            "020002"
        );
    }

    async fn an_invalid_import_reports_every_problem_and_changes_nothing(app) {
        let (token, _, _) = with_catalogue(&app).await;
        let writer = app.create_token(ORG, &[Permission::CatalogueWrite], None);
        let before = expect_json(app.get_with_token(&v2("/catalogue"), &app.create_token(ORG, &[Permission::CatalogueRead], None)).await, 200).await;

        let mut broken = sample();
        let duplicate = broken["services"][0].clone();
        broken["services"].as_array_mut().unwrap().push(duplicate);
        broken["base_profiles"][0]["in_catalogue_since"] = json!("24/08/2019");
        broken["value_added_services"][2]["requires"] = json!([{"value_added_service_id": "V1", "is_mandatory": true, "max_quantity": 1}]);
        broken["commercial_products"][0]["value_added_services"][0]["sale_type_names"] = json!(["Rebajas"]);
        broken["bundled_products"][0]["provisioning_profiles"][1]["profile_name"] = json!("ghost");
        broken["bundled_products"][0]["bundled_product_subs_types"][0]["bundled_commercial_products"][0]["commercial_product_id"] = json!("9999");
        let body = expect_json(app.import_catalogue(ORG, &writer, &broken).await, 412).await;
        let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, [
            "$.services[3].id",
            "$.base_profiles[0].in_catalogue_since",
            "$.value_added_services[2].requires[0].value_added_service_id",
            "$.commercial_products[0].value_added_services[0].sale_type_names[0]",
            "$.bundled_products[0].provisioning_profiles[1].profile_name",
            "$.bundled_products[0].bundled_product_subs_types[0].bundled_commercial_products[0].commercial_product_id",
        ]);
        assert!(body["errors"][2]["description"].as_str().unwrap().contains("cycle"));

        let mut mistyped = sample();
        mistyped["value_added_services"][0]["requires"][0]["max_quantity"] = json!("one");
        let body = expect_json(app.import_catalogue(ORG, &writer, &mistyped).await, 412).await;
        assert_eq!(body["errors"][0]["field"], "$.value_added_services[0].requires[0].max_quantity");
        let mut unknown = sample();
        unknown["bundled_products"][0]["colour"] = json!("red");
        assert_eq!(expect_json(app.import_catalogue(ORG, &writer, &unknown).await, 412).await["errors"][0]["field"], "$.bundled_products[0].colour");
        // Serde would read a struct from an array, field by field: `[]` is not an empty catalogue.
        assert_eq!(expect_json(app.import_catalogue(ORG, &writer, &json!([])).await, 412).await["errors"][0]["field"], "$");
        let mut positional = sample();
        positional["services"][0] = json!(["S1", "Voice"]);
        assert_eq!(expect_json(app.import_catalogue(ORG, &writer, &positional).await, 412).await["errors"][0]["field"], "$.services[0]");

        let not_json = app.client.put(app.url(&v2("/catalogue"))).bearer_auth(&writer)
            .header("content-type", "application/json").body("{\"services\": [").send().await.unwrap();
        assert_eq!(expect_json(not_json, 400).await, json!("Bad Request"));

        let after = expect_json(app.get_with_token(&v2("/catalogue"), &token).await, 200).await;
        assert_eq!(after, before, "a refused import leaves the previous catalogue intact");
    }

    async fn a_view_costs_the_same_queries_whatever_the_nesting(app) {
        let (token, _, _) = with_catalogue(&app).await;
        let path = v2("/commercial_products/2311/value_added_services");
        let queries_of = |app: &TestApp| app.server_pool.queries();
        expect_json(app.get_with_token(&path, &token).await, 200).await;
        let before = queries_of(&app);
        expect_json(app.get_with_token(&path, &token).await, 200).await;
        let small = queries_of(&app) - before;

        // 200 value-added services, each requiring a chain three deep.
        let mut vas = Vec::new();
        let mut links = Vec::new();
        for i in 0..200 {
            vas.push(json!({"id": format!("T{i}"), "name": format!("top {i}"), "requires": [{"value_added_service_id": format!("M{i}"), "is_mandatory": true, "max_quantity": 1}]}));
            vas.push(json!({"id": format!("M{i}"), "name": format!("middle {i}"), "requires": [{"value_added_service_id": format!("L{i}"), "is_mandatory": false, "max_quantity": 2}]}));
            vas.push(json!({"id": format!("L{i}"), "name": format!("leaf {i}")}));
            links.push(json!({"value_added_service_id": format!("T{i}"), "is_mandatory": false, "max_quantity": 1}));
        }
        let big = json!({"value_added_services": vas, "commercial_products": [{"id": "2311", "name": "big", "value_added_services": links}]});
        let writer = app.create_token(ORG, &[Permission::CatalogueWrite], None);
        expect_json(app.import_catalogue(ORG, &writer, &big).await, 200).await;
        let cold = queries_of(&app);
        let view = expect_json(app.get_with_token(&path, &token).await, 200).await;
        let first = queries_of(&app) - cold;
        assert_eq!(view.as_array().unwrap().len(), 200);
        assert_eq!(view[199]["value_added_services"][0]["value_added_services"][0]["id"], "L199");
        let before = queries_of(&app);
        expect_json(app.get_with_token(&path, &token).await, 200).await;
        let deep = queries_of(&app) - before;
        assert_eq!(deep, small, "a cached view costs the same whatever the nesting");
        assert_eq!(first, small + 1, "a new catalogue version costs one more query, to load it");
        assert!(small <= 3, "token, version (and a ping on server backends): {small}");
    }

    async fn ten_thousand_value_added_services_import(app) {
        let vas: Vec<Value> = (0..10_000).map(|i| json!({"id": format!("V{i}"), "name": format!("service {i}"), "mysim_service_id": format!("MS{i}")})).collect();
        let links: Vec<Value> = (0..10_000).step_by(50).map(|i| json!({"value_added_service_id": format!("V{i}"), "is_mandatory": false, "max_quantity": 1})).collect();
        let document = json!({"value_added_services": vas, "commercial_products": [{"id": "C", "name": "c", "value_added_services": links}]});
        let token = app.create_token(ORG, &[Permission::CatalogueWrite, Permission::CatalogueRead], None);
        let counts = expect_json(app.import_catalogue(ORG, &token, &document).await, 200).await;
        assert_eq!(counts["value_added_services"], 10_000);
        let view = expect_json(app.get_with_token(&v2("/commercial_products/C/value_added_services"), &token).await, 200).await;
        assert_eq!(view.as_array().unwrap().len(), 200);
    }
}

#[test]
fn the_cli_imports_and_exports_the_sample() {
    use std::process::Command;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cli.db").display());
    let spcm = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_spcm")).args(args).env("SPCM_DATABASE_URL", &url).output().unwrap()
    };
    // Only `migrate` and `serve` create a SQLite file.
    assert!(spcm(&["migrate"]).status.success());
    assert!(spcm(&["tenant", "add", "acme"]).status.success());
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/examples/catalogue.json");
    let refused = spcm(&["catalogue", "import", "--tenant", "acme", sample]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(stderr.lines().count(), 1);
    assert!(stderr.contains("$.bundled_products[0].provisioning_profiles[0].profile_name"), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&spcm(&["catalogue", "export", "--tenant", "acme"]).stdout).trim(),
        serde_json::to_string_pretty(&json!({"services": [], "base_profiles": [], "value_added_services": [], "commercial_products": [], "bundled_products": []})).unwrap());
}

backend_tests! {
    async fn an_accept_without_json_is_406_and_json_in_any_form_is_served(app) {
        let token = app.create_token(ORG, &[Permission::CatalogueRead], None);
        for accept in ["application/xml", "text/xml", "text/csv", "application/hal+json", "application/json;q=0, */*;q=0"] {
            let refused = app.client.get(app.url(&v2("/base_profiles"))).bearer_auth(&token).header("accept", accept).send().await.unwrap();
            assert_eq!(refused.status(), 406, "{accept}");
            assert_eq!(refused.json::<Value>().await.unwrap(), json!("Not Acceptable"));
        }
        for accept in ["application/json", "*/*", "application/*", "application/xml;q=0.9, application/json;q=0.1", ""] {
            let served = app.client.get(app.url(&v2("/base_profiles"))).bearer_auth(&token).header("accept", accept).send().await.unwrap();
            assert_eq!(served.status(), 200, "{accept}");
        }
    }
}
