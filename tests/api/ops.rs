//! Health checks, request ids and unknown routes (contract §5).

use crate::helpers::{backend_tests, expect_json};

backend_tests! {
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
