//! The OpenAPI document and the Swagger UI: the routes the app serves and
//! the operations the document lists are the same, both ways.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{backend_tests, expect_json};

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
    for status in ["201", "207", "400", "401", "403", "404", "409", "412", "413", "415", "422", "500", "503"] {
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
    for schema in ["SpcmErrorBody", "ValidationFailed", "ServerError", "ItemNotFound", "MultiStatus", "turkeySauce"] {
        assert!(text.contains(schema), "{schema} in the document");
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
    for word in ["contract", "§", "seed"] {
        assert!(!text.contains(word), "the document mentions {word:?}");
    }
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

backend_tests! {
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
