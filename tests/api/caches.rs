//! No HTTP cache, shared or private, hands one caller's answer to another: every answer
//! of both faces, errors and 304s included, is private, is revalidated before reuse, and
//! names in `Vary` every request header it depends on.

use reqwest::{Method, RequestBuilder};
use serde_json::json;
use spcm::auth::Permission;

use crate::helpers::{backend_tests, ADMIN_PASSWORD, PROFILES};

const SPCM_VARY: &str = "Accept, Authorization, tenant";
const CATALOGUE_VARY: &str = "Accept, Authorization";

/// Sends each request and checks its status and its caching headers.
async fn assert_private(cases: Vec<(&str, RequestBuilder, u16)>, vary: &str) {
    for (case, request, status) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "{case}");
        let headers = response.headers();
        assert_eq!(headers.get("cache-control").map(|v| v.to_str().unwrap()), Some("private, no-cache"), "{case}");
        let named: Vec<&str> =
            headers.get_all("vary").iter().flat_map(|v| v.to_str().unwrap().split(',')).map(str::trim).collect();
        assert_eq!(named.join(", "), vary, "{case}");
    }
}

fn etag(response: &reqwest::Response) -> String {
    response.headers()["etag"].to_str().unwrap().to_owned()
}

backend_tests! {
    async fn every_answer_of_the_spcm_face_is_private_and_varies_by_caller(app) {
        app.add_user("default", "writer", "writer-pw", &[Permission::ProfileCreate]);
        let id = app.create_profile("cached", true).await["id"].as_i64().unwrap();
        let one = format!("{PROFILES}/{id}");
        let gone = app.create_profile("gone", false).await["id"].as_i64().unwrap();
        let tag = etag(&app.get_profile(id).await);
        let list_tag = etag(&app.list("").await);
        let get = |path: &str| app.request(Method::GET, path);
        let cases = vec![
            ("listing", get(PROFILES), 200),
            ("listing, HEAD", app.request(Method::HEAD, PROFILES), 200),
            ("listing, 304", get(PROFILES).header("if-none-match", &list_tag), 304),
            ("one profile", get(&one), 200),
            ("one profile in XML", get(&one).header("accept", "application/xml"), 200),
            ("one profile, 304", get(&one).header("if-none-match", &tag), 304),
            ("history", get(&format!("{one}/history")), 200),
            ("feed", get("/pcc/spcm/changes"), 200),
            ("created", app.request(Method::POST, PROFILES).json(&json!({"name": "other", "defaultProfile": false})), 201),
            ("batch", app.request(Method::POST, PROFILES).json(&json!([{"name": "third", "defaultProfile": false}])), 207),
            ("updated", app.request(Method::PUT, &one).json(&json!({"locale": "en"})), 200),
            ("no credentials", app.client.get(app.url(PROFILES)).header("tenant", "default"), 401),
            ("no tenant", app.client.get(app.url(PROFILES)).basic_auth("admin", Some(ADMIN_PASSWORD)), 400),
            ("without the permission", app.request_as(Method::GET, PROFILES, "default", "writer", "writer-pw"), 403),
            ("not found", get(&format!("{PROFILES}/987654")), 404),
            ("not acceptable", get(PROFILES).header("accept", "text/html"), 406),
            ("stale If-Match", app.request(Method::PUT, &one).header("if-match", "\"x\"").json(&json!({"locale": "fr"})), 412),
            ("method not allowed", app.request(Method::PATCH, PROFILES), 405),
            ("unknown path", get("/pcc/spcm/nothing"), 404),
            ("deleted", app.request(Method::DELETE, &format!("{PROFILES}/{gone}")), 204),
        ];
        assert_private(cases, SPCM_VARY).await;
    }

    async fn every_answer_of_the_catalogue_face_is_private_and_varies_by_caller(app) {
        let reader = app.create_token("default", &[Permission::CatalogueRead], None);
        let writer = app.create_token("default", &[Permission::CatalogueWrite], None);
        let v2 = |path: &str| app.url(&format!("/v2/orgs/default{path}"));
        let empty = json!({"services": [], "base_profiles": [], "value_added_services": [], "commercial_products": [], "bundled_products": []});
        let cases = vec![
            ("import", app.client.put(v2("/catalogue")).bearer_auth(&writer).json(&empty), 200),
            ("export", app.client.get(v2("/catalogue")).bearer_auth(&reader), 200),
            ("a view", app.client.get(v2("/base_profiles")).bearer_auth(&reader), 200),
            ("a view, HEAD", app.client.head(v2("/base_profiles")).bearer_auth(&reader), 200),
            ("no token", app.client.get(v2("/base_profiles")), 401),
            ("a token without the permission", app.client.get(v2("/base_profiles")).bearer_auth(&writer), 401),
            ("unknown item", app.client.get(v2("/bundled_products/BP9/provisioning_profiles")).bearer_auth(&reader), 404),
            ("bad query value", app.client.get(v2("/commercial_products/C/value_added_services?sale_type_name=Nope")).bearer_auth(&reader), 400),
            ("unknown path", app.client.get(app.url("/v2/nothing")).bearer_auth(&reader), 404),
        ];
        assert_private(cases, CATALOGUE_VARY).await;
    }
}
