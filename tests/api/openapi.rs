//! The OpenAPI document and the Swagger UI: the routes the app serves and
//! the operations the document lists are the same, both ways.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;
use spcm::auth::Permission;

use crate::helpers::{backend_tests, expect_json, ADMIN_PASSWORD};

/// (METHOD, path) of every operation in a document.
fn operations(document: &Value) -> BTreeSet<(String, String)> {
    document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object().unwrap().keys().map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect()
}

#[test]
fn every_served_route_is_documented_and_every_documented_route_is_served() {
    let served: BTreeSet<(String, String)> =
        spcm::api::route_table().into_iter().map(|(method, path)| (method.to_string(), path.to_owned())).collect();
    let document = serde_json::to_value(spcm::api::openapi::document()).unwrap();
    let documented = operations(&document);
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(undocumented.is_empty(), "served but not documented: {undocumented:?}");
    assert!(unserved.is_empty(), "documented but not served: {unserved:?}");
    assert_eq!(document["openapi"], "3.1.0");
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["basicAuth"]["scheme"], "basic");
    assert_eq!(schemes["tenant"]["in"], "header");
    assert_eq!(schemes["bearerAuth"]["scheme"], "bearer");
}

#[test]
fn every_error_shape_is_documented() {
    let document = serde_json::to_value(spcm::api::openapi::document()).unwrap();
    let list = &document["paths"]["/pcc/spcm/provisionProfile"]["post"]["responses"];
    for status in ["201", "207", "400", "401", "403", "406", "408", "409", "412", "413", "415", "429", "500", "503"] {
        assert!(list.get(status).is_some(), "POST documents {status}");
    }
    let import = &document["paths"]["/v2/orgs/{org_id}/catalogue"]["put"]["responses"];
    for status in ["200", "400", "401", "404", "412", "413", "415", "500", "503"] {
        assert!(import.get(status).is_some(), "import documents {status}");
    }
    let text = document.to_string();
    let schemas = document["components"]["schemas"].as_object().unwrap();
    for reference in text.split("\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(schemas.contains_key(name), "the document refers to a schema it lacks: {name}");
    }
    for schema in
        ["SpcmErrorBody", "ValidationFailed", "ServerError", "KOGenericResponse", "MultiStatus", "turkeySauce"]
    {
        assert!(text.contains(schema), "{schema} in the document");
    }
}

/// Each operation lists the statuses it can answer with, and no other: a GET reads no
/// body (no 408, 413 or 415) and changes nothing (no 409, 412 or 422).
#[test]
fn every_operation_lists_exactly_the_statuses_it_can_give() {
    let document = serde_json::to_value(spcm::api::openapi::document()).unwrap();
    const SPCM: &str = "400 401 403 406 429 500 503";
    const CATALOGUE: &str = "401 404 406 500 503";
    let expected = [
        ("get", "/", "200 503".to_owned()),
        ("get", "/health/live", "200".to_owned()),
        ("get", "/health/ready", "200 503".to_owned()),
        ("get", "/metrics", "200 500".to_owned()),
        ("get", "/pcc/spcm/provisionProfile", format!("200 304 {SPCM}")),
        ("get", "/pcc/spcm/provisionProfile/{id}", format!("200 304 404 {SPCM}")),
        ("post", "/pcc/spcm/provisionProfile", format!("201 207 408 409 412 413 415 422 {SPCM}")),
        ("put", "/pcc/spcm/provisionProfile", format!("207 408 413 415 {SPCM}")),
        ("put", "/pcc/spcm/provisionProfile/{id}", format!("200 404 408 409 412 413 415 422 {SPCM}")),
        ("delete", "/pcc/spcm/provisionProfile", format!("207 {SPCM}")),
        ("delete", "/pcc/spcm/provisionProfile/{id}", format!("204 404 409 412 422 {SPCM}")),
        ("get", "/pcc/spcm/provisionProfile/{id}/history", format!("200 404 {SPCM}")),
        ("get", "/pcc/spcm/changes", format!("200 {SPCM}")),
        ("get", "/v2/orgs/{org_id}/bundled_products/{id}/provisioning_profiles", format!("200 {CATALOGUE}")),
        ("get", "/v2/orgs/{org_id}/base_profiles", format!("200 429 {CATALOGUE}")),
        ("get", "/v2/orgs/{org_id}/base_profiles/{id}/services", format!("200 429 {CATALOGUE}")),
        ("get", "/v2/orgs/{org_id}/commercial_products/{id}/base_profiles", format!("200 429 {CATALOGUE}")),
        ("get", "/v2/orgs/{org_id}/commercial_products/{id}/value_added_services", format!("200 400 429 {CATALOGUE}")),
        ("get", "/v2/orgs/{org_id}/bundled_commercial_products/{id}/value_added_services", format!("200 400 429 {CATALOGUE}")),
        (
            "get",
            "/v2/orgs/{org_id}/bundled_products/{bp_id}/bundled_product_subs_types/{bpst_id}/bundled_commercial_products/{bcp_id}/value_added_services",
            format!("200 400 429 {CATALOGUE}"),
        ),
        ("get", "/v2/orgs/{org_id}/catalogue", format!("200 429 {CATALOGUE}")),
        ("put", "/v2/orgs/{org_id}/catalogue", format!("200 400 408 409 412 413 415 422 429 {CATALOGUE}")),
    ];
    assert_eq!(expected.len(), operations(&document).len(), "every operation is in the table");
    for (method, path, statuses) in expected {
        let mut want: Vec<&str> = statuses.split(' ').collect();
        want.sort();
        let responses =
            document["paths"][path][method]["responses"].as_object().unwrap_or_else(|| panic!("{method} {path}"));
        let listed: Vec<&str> = responses.keys().map(String::as_str).collect();
        assert_eq!(listed, want, "{method} {path}");
        if method == "get" {
            for never in ["408", "409", "412", "413", "415", "422"] {
                assert!(!listed.contains(&never), "GET {path} lists {never}");
            }
        }
    }
}

/// The SPCM API answers in XML whatever it answers in JSON (but the 406, which a client
/// gets for accepting neither) and reads XML bodies, described in words; the catalogue
/// API is JSON only.
#[test]
fn every_spcm_answer_and_body_is_documented_in_json_and_xml() {
    let document = serde_json::to_value(spcm::api::openapi::document()).unwrap();
    let media_types = |content: &Value| -> Vec<String> {
        content.as_object().map(|c| c.keys().cloned().collect()).unwrap_or_default()
    };
    for (method, path) in operations(&document) {
        let operation = &document["paths"][&path][method.to_lowercase()];
        let spcm = path.starts_with("/pcc/spcm");
        for (status, response) in operation["responses"].as_object().unwrap() {
            let types = media_types(&response["content"]);
            let json = types.iter().any(|t| t.contains("json"));
            let xml = types.iter().any(|t| t == "application/xml");
            match (spcm, status.as_str()) {
                (true, "406") => assert!(json && !xml, "{method} {path} {status}: {types:?}"),
                (true, _) => assert_eq!(json, xml, "{method} {path} {status}: {types:?}"),
                (false, _) => assert!(!xml, "{method} {path} {status}: {types:?}"),
            }
        }
        // Request bodies are JSON in the schema; the SPCM ones say their XML form in words
        // (see `openapi::XmlRepresentation`).
        if let Some(body) = operation.get("requestBody") {
            assert_eq!(media_types(&body["content"]), ["application/json"], "{method} {path} request body");
            let description = body["description"].as_str().unwrap_or_default();
            assert_eq!(
                spcm,
                description.contains("<provisioningProfile") && description.contains("application/xml"),
                "{method} {path}: {description}"
            );
        }
    }
    let schemas = &document["components"]["schemas"];
    assert_eq!(schemas["ProvisioningProfile"]["xml"]["name"], "provisioningProfile");
    assert_eq!(schemas["ProfileList"]["xml"]["name"], "provisioningProfiles");
    assert_eq!(schemas["MultiStatus"]["xml"]["name"], "multiStatus");
    assert_eq!(schemas["ValidationFailed"]["xml"]["name"], "errors");
    assert_eq!(schemas["SpcmErrorBody"]["xml"]["name"], "error");
}

/// The catalogue's schemas say what the service accepts and answers: one format for
/// every date-time, and a provisioning-profile link named as the import requires.
#[test]
fn catalogue_schemas_match_what_the_service_accepts_and_answers() {
    let document = serde_json::to_value(spcm::api::openapi::document()).unwrap();
    let schemas = document["components"]["schemas"].as_object().unwrap();
    let mut date_times = 0;
    for (name, schema) in schemas {
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            if ["in_catalogue_since", "in_catalogue_until", "from", "to", "at"].contains(&field.as_str()) {
                assert_eq!(property["format"], "date-time", "{name}.{field}");
                date_times += 1;
            }
        }
    }
    assert!(date_times >= 25, "{date_times} date-time fields");
    let link = &schemas["ProvisioningProfileLink"];
    assert!(link["properties"].get("profile_id").is_none(), "the import refuses profile_id");
    assert_eq!(link["properties"]["profile_name"]["type"], "string");
    assert!(link["required"].as_array().unwrap().contains(&Value::from("profile_name")));
    let sale_types = &schemas["ValueAddedServiceLink"]["properties"]["sale_type_names"]["items"]["$ref"];
    assert_eq!(sale_types, "#/components/schemas/SaleTypeName");
    let view = &schemas["ProvisioningProfileView"];
    let required = view["required"].as_array().unwrap();
    for field in view["properties"].as_object().unwrap().keys() {
        assert!(required.contains(&Value::from(field.as_str())), "the view always answers {field}");
    }
}

/// What Swagger UI shows a user: examples that cannot take over anything, the permission
/// each operation needs, and no reference to documents the user does not have.
#[test]
fn the_document_speaks_to_its_users() {
    let document = serde_json::to_value(spcm::api::openapi::document()).unwrap();
    let new_profile = &document["components"]["schemas"]["NewProfileRequest"];
    assert_eq!(new_profile["example"]["defaultProfile"], false, "executing the POST example keeps the default");
    assert!(
        !["turkeySauce", "chaCha"].contains(&new_profile["example"]["name"].as_str().unwrap()),
        "the POST example creates a profile of its own"
    );
    let default_profile = new_profile["properties"]["defaultProfile"]["description"].as_str().unwrap();
    assert!(default_profile.contains("default"), "{default_profile}");
    let change = &document["components"]["schemas"]["ProfileChangeRequest"]["properties"]["defaultProfile"];
    assert!(change["description"].as_str().unwrap().contains("moves the tenant's default"), "{change}");

    let needs = [
        ("get", "/pcc/spcm/provisionProfile", "READ"),
        ("get", "/pcc/spcm/provisionProfile/{id}", "READ"),
        ("post", "/pcc/spcm/provisionProfile", "CREATE"),
        ("put", "/pcc/spcm/provisionProfile", "UPDATE"),
        ("put", "/pcc/spcm/provisionProfile/{id}", "UPDATE"),
        ("delete", "/pcc/spcm/provisionProfile", "DELETE"),
        ("delete", "/pcc/spcm/provisionProfile/{id}", "DELETE"),
    ];
    for (method, path, permission) in needs {
        let forbidden = &document["paths"][path][method]["responses"]["403"];
        let example = forbidden["content"]["application/json"]["example"]["message"].as_str().unwrap();
        assert_eq!(
            example,
            format!("forbidden; missing SPCM_PROVISION_PROFILE_{permission}_PERMISSION"),
            "{method} {path}"
        );
    }

    let text = document.to_string().to_lowercase();
    for word in ["contract", "§", "seed", ".rs\"", ".rs ", ".md", "`none`", "`some"] {
        assert!(!text.contains(word), "the document mentions {word:?}");
    }
    for (method, path) in operations(&document) {
        let operation = &document["paths"][&path][method.to_lowercase()];
        let summary = operation["summary"].as_str().unwrap_or_default();
        assert!(!summary.is_empty() && !summary.contains('\n'), "{method} {path}: one summary line: {summary:?}");
        let description = operation["description"].as_str().unwrap_or_default();
        assert!(description.len() > summary.len(), "{method} {path} is described: {description:?}");
        let public = !path.starts_with("/pcc/") && !path.starts_with("/v2/");
        assert_eq!(operation["security"] == serde_json::json!([]), public, "{method} {path} security");
    }
    assert_eq!(document["servers"][0]["url"], "/");
    assert!(document["servers"][0]["description"].as_str().is_some_and(|d| !d.is_empty()));
    let summaries: Vec<&str> = ["get", "put"]
        .iter()
        .map(|m| document["paths"]["/v2/orgs/{org_id}/catalogue"][m]["summary"].as_str().unwrap())
        .collect();
    for summary in summaries {
        assert!(!summary.contains('\n'), "one summary, said once: {summary}");
    }
}

/// The whole document, committed under `snapshots/`, so that a change of the API shows
/// in review. After an intended change: `INSTA_UPDATE=always cargo test --test api
/// the_document_matches_its_snapshot`, then commit the snapshot with the change.
#[test]
fn the_document_matches_its_snapshot() {
    let document = serde_json::to_value(spcm::api::openapi::document()).unwrap();
    insta::assert_json_snapshot!("openapi_document", document);
}

#[test]
fn spcm_openapi_prints_the_document() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_spcm")).arg("openapi").output().unwrap();
    assert!(output.status.success());
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed, serde_json::to_value(spcm::api::openapi::document()).unwrap());
}

/// `GET path` of the document made concrete with ids the sample catalogue holds and
/// `profile`, with the credentials its face takes.
fn concrete(path: &str, profile: i64) -> String {
    let id = if path.starts_with("/pcc/") {
        profile.to_string()
    } else if path.contains("/bundled_products/{id}") {
        "BP1".to_owned()
    } else if path.contains("/base_profiles/{id}") {
        "71_COMPRODUCT".to_owned()
    } else if path.contains("/bundled_commercial_products/{id}") {
        "BCP1".to_owned()
    } else {
        "2311".to_owned()
    };
    path.replace("{id}", &id)
        .replace("{org_id}", "default")
        .replace("{bp_id}", "BP1")
        .replace("{bpst_id}", "ST1")
        .replace("{bcp_id}", "BCP1")
}

backend_tests! {
    async fn head_answers_every_get_operation_with_the_get_status_and_headers_and_no_body(app) {
        let profile = app.create_profile("turkeySauce", false).await["id"].as_i64().unwrap();
        app.create_profile("chaCha", true).await;
        let writer = app.create_token("default", &[Permission::CatalogueWrite], None);
        let sample: Value = serde_json::from_str(include_str!("../../docs/examples/catalogue.json")).unwrap();
        expect_json(app.import_catalogue("default", &writer, &sample).await, 200).await;
        let token = app.create_token("default", &[Permission::CatalogueRead], None);
        let document = serde_json::to_value(spcm::api::openapi::document()).unwrap();
        let gets: Vec<String> =
            operations(&document).into_iter().filter(|(method, _)| method == "GET").map(|(_, path)| path).collect();
        assert!(gets.len() >= 15, "{gets:?}");
        for path in gets {
            let url = app.url(&concrete(&path, profile));
            let request = |method: Method| {
                let request = app.client.request(method, &url);
                if path.starts_with("/pcc/") {
                    request.basic_auth("admin", Some(ADMIN_PASSWORD)).header("tenant", "default")
                } else if path.starts_with("/v2/") {
                    request.bearer_auth(&token)
                } else {
                    request
                }
            };
            let get = request(Method::GET).send().await.unwrap();
            let head = request(Method::HEAD).send().await.unwrap();
            assert_eq!(get.status(), 200, "GET {path}");
            assert_eq!(head.status(), get.status(), "HEAD {path}");
            for name in ["content-type", "x-total-count", "vary", "etag", "cache-control"] {
                assert_eq!(head.headers().get(name), get.headers().get(name), "{name} of HEAD {path}");
            }
            assert!(head.bytes().await.unwrap().is_empty(), "HEAD {path} has no body");
        }
    }

    async fn the_document_and_the_swagger_ui_are_served_and_every_route_answers(app) {
        let document = expect_json(app.client.get(app.url("/api-docs/openapi.json")).send().await.unwrap(), 200).await;
        assert_eq!(document, serde_json::to_value(spcm::api::openapi::document()).unwrap());
        let ui = app.client.get(app.url("/swagger-ui/")).send().await.unwrap();
        assert_eq!(ui.status(), 200);
        assert!(ui.text().await.unwrap().contains("swagger-ui"), "the UI page is served from the binary");
        let config = app.client.get(app.url("/swagger-ui/swagger-initializer.js")).send().await.unwrap();
        assert!(config.text().await.unwrap().contains("/api-docs/openapi.json"));

        // Each documented operation reaches its handler: no fallback 404 or 405.
        for (method, path) in operations(&document) {
            let concrete = path.replace("{id}", "1").replace("{org_id}", "default").replace("{bp_id}", "BP")
                .replace("{bpst_id}", "ST").replace("{bcp_id}", "BCP");
            let response = app.client.request(Method::from_bytes(method.as_bytes()).unwrap(), app.url(&concrete)).send().await.unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            let fallback = body.contains("no such resource") || body.contains(r#""code":"020000""#);
            assert!(status != 405 && !fallback, "{method} {path} is not served: {status} {body}");
        }
    }
}
