//! The index, health checks, request ids and unknown routes.

use crate::helpers::{backend_tests, expect_json};

backend_tests! {
    async fn the_index_points_at_the_documents_and_health_checks(app) {
        let index = expect_json(app.client.get(app.url("/")).send().await.unwrap(), 200).await;
        assert_eq!(index["swaggerUi"], "/swagger-ui/");
        assert_eq!(index["openapi"], "/api-docs/openapi.json");
        assert_eq!(index["healthLive"], "/health/live");
        assert_eq!(index["healthReady"], "/health/ready");
        for key in ["swaggerUi", "openapi", "healthLive", "healthReady", "metrics"] {
            let linked = app.client.get(app.url(index[key].as_str().unwrap())).send().await.unwrap();
            assert_eq!(linked.status(), 200, "{key} links to a page that answers");
        }

        let page = app.client.get(app.url("/")).header("accept", "text/html,application/xhtml+xml").send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let html = page.text().await.unwrap();
        assert!(html.contains(r#"<a href="/swagger-ui/">"#) && html.contains(r#"<a href="/health/ready">"#), "{html}");

        let head = app.client.head(app.url("/")).send().await.unwrap();
        assert_eq!(head.status(), 200, "HEAD is served like GET");

        let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let bare = no_redirects.get(app.url("/swagger-ui")).send().await.unwrap();
        assert_eq!(bare.status(), 308, "/swagger-ui redirects to /swagger-ui/");
        assert_eq!(bare.headers()["location"], "/swagger-ui/");
    }

    async fn health_checks_answer_without_auth(app) {
        let live = expect_json(app.client.get(app.url("/health/live")).send().await.unwrap(), 200).await;
        assert_eq!(live["status"], "up");
        let ready = expect_json(app.client.get(app.url("/health/ready")).send().await.unwrap(), 200).await;
        assert_eq!(ready["database"], "up");
    }

    async fn every_response_carries_a_request_id(app) {
        let echoed = app.client.get(app.url("/health/live")).header("x-request-id", "abc-123").send().await.unwrap();
        assert_eq!(echoed.headers()["x-request-id"], "abc-123");
        let fresh = app.client.get(app.url("/pcc/spcm/provisionProfile")).send().await.unwrap();
        assert_eq!(fresh.status(), 401);
        let id = fresh.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "a new UUID: {id}");
        let insane = app.client.get(app.url("/health/live")).header("x-request-id", "x".repeat(500)).send().await.unwrap();
        let replaced = insane.headers()["x-request-id"].to_str().unwrap();
        assert!(uuid::Uuid::parse_str(replaced).is_ok(), "an over-long id is replaced by a new UUID: {replaced}");
    }

    async fn unknown_routes_and_methods_get_json_errors(app) {
        let missing = expect_json(app.client.get(app.url("/nowhere")).send().await.unwrap(), 404).await;
        assert_eq!(missing["errorCode"], 404);
        let patch = app.request(reqwest::Method::PATCH, "/pcc/spcm/provisionProfile/1").send().await.unwrap();
        assert_eq!(patch.headers()["allow"], "GET, HEAD, PUT, DELETE");
        assert_eq!(expect_json(patch, 405).await["errorCode"], 405);
    }
}
