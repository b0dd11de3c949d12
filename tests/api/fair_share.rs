//! The per-tenant bound on expensive work (contract §1.1): past it, that tenant gets 429
//! with `Retry-After`, and other tenants do not notice.

use std::time::Duration;

use actix_web::web::Bytes;
use reqwest::Method;
use serde_json::json;
use spcm::auth::Permission;
use spcm::config::Settings;

use crate::hardening::metric;
use crate::helpers::{backend_tests_with, expect_json, wait_until, TestApp, PROFILES};

/// A catalogue import of `org` whose body arrives in two parts, the second when the
/// returned sender is used (or dropped).
fn slow_import(app: &TestApp, org: &str, token: &str) -> (tokio::sync::mpsc::UnboundedSender<Bytes>, Import) {
    let (parts, mut arriving) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
    parts.send(Bytes::from_static(b"{\"value_added_services\": [")).expect("first part queued");
    let body =
        futures_util::stream::poll_fn(move |cx| arriving.poll_recv(cx).map(|part| part.map(Ok::<_, std::io::Error>)));
    let request = app
        .client
        .put(app.url(&format!("/v2/orgs/{org}/catalogue")))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(body));
    (parts, tokio::spawn(request.send()))
}

type Import = tokio::task::JoinHandle<reqwest::Result<reqwest::Response>>;

/// A slow import of tenant `default` (see `slow_import`), once it holds the tenant's one turn.
/// An import answered before it holds the turn (429 when a probe listing held it then, 503
/// when the machine shed it) is started again, at most three times.
async fn holding_the_turn(app: &TestApp, token: &str) -> (tokio::sync::mpsc::UnboundedSender<Bytes>, Import) {
    for _ in 0..3 {
        let (rest, import) = slow_import(app, "default", token);
        let mut probe = 0;
        let mut held = false;
        wait_until("the slow import to hold the tenant's turn", Duration::from_secs(30), async || {
            // A path of its own each time: a listing remembered before is answered from memory.
            probe += 1;
            held = app.list(&format!("offset={probe}")).await.status() == 429;
            held || import.is_finished()
        })
        .await;
        if held {
            return (rest, import);
        }
        // A probe listing held the turn when the import came (429), or the machine shed it (503).
        let answered = import.await.expect("the import task").expect("an answer").status();
        assert!(matches!(answered.as_u16(), 429 | 503), "the slow import was answered {answered} before its body came");
    }
    panic!("the slow import never held the tenant's turn");
}

backend_tests_with! {
    Settings { tenant_expensive_limit: 1, ..Settings::default() };
    async fn a_tenant_past_its_bound_on_expensive_work_gets_429_and_others_do_not(app) {
        app.add_tenant("zeta");
        let every = [Permission::ProfileRead, Permission::ProfileCreate, Permission::AuditRead];
        app.add_user("zeta", "ops", "zeta-password-1", &every);
        let catalogue = [Permission::CatalogueRead, Permission::CatalogueWrite];
        let token = app.create_token("default", &catalogue, None);
        let zeta_token = app.create_token("zeta", &catalogue, None);

        // The import holds default's one turn from before its body arrives.
        let (rest, import) = holding_the_turn(&app, &token).await;

        let refused = app.list("offset=0").await;
        assert_eq!(refused.headers().get("retry-after").map(|v| v.to_str().unwrap()), Some("1"));
        let body = expect_json(refused, 429).await;
        assert_eq!(body["errorCode"], 429, "{body}");
        let batch = app.request(Method::POST, PROFILES).json(&json!([{"name": "a", "defaultProfile": true}])).send().await.unwrap();
        assert_eq!(batch.status(), 429, "a batch is expensive work too");
        assert_eq!(app.request(Method::GET, "/pcc/spcm/changes").send().await.unwrap().status(), 429, "a page of changes too");
        let export = app.get_with_token("/v2/orgs/default/catalogue", &token).await;
        assert_eq!(export.status(), 429);
        assert_eq!(export.headers().get("retry-after").map(|v| v.to_str().unwrap()), Some("1"));
        assert_eq!(export.json::<serde_json::Value>().await.unwrap(), json!("Too Many Requests"));
        assert_eq!(app.list("limit=10").await.status(), 200, "a page with a limit is not expensive");
        let one = app.request(Method::POST, PROFILES).json(&json!({"name": "one", "defaultProfile": true})).send().await.unwrap();
        assert_eq!(one.status(), 201, "single writes are not expensive");

        // Another tenant does not notice.
        let as_zeta = |method: Method, path: &str| app.request_as(method, path, "zeta", "ops", "zeta-password-1");
        assert_eq!(as_zeta(Method::GET, PROFILES).send().await.unwrap().status(), 200);
        let zeta_batch = as_zeta(Method::POST, PROFILES).json(&json!([{"name": "z", "defaultProfile": true}])).send().await.unwrap();
        assert_eq!(zeta_batch.status(), 207);
        assert_eq!(as_zeta(Method::GET, "/pcc/spcm/changes").send().await.unwrap().status(), 200);
        assert_eq!(app.import_catalogue("zeta", &zeta_token, &json!({})).await.status(), 200);
        assert_eq!(app.get_with_token("/v2/orgs/zeta/catalogue", &zeta_token).await.status(), 200);

        for (work, at_least) in [("full_listing", 2.0), ("batch", 1.0), ("change_page", 1.0), ("catalogue_export", 1.0)] {
            let counted = metric(&app, &format!("spcm_tenant_work_refused_total{{work=\"{work}\"}}")).await;
            assert!(counted >= at_least, "{work}: {counted}");
        }
        assert_eq!(metric(&app, "spcm_tenant_work_refused_total{work=\"catalogue_import\"}").await, 0.0);

        // The import completes, and the turn is free again.
        rest.send(Bytes::from_static(b"]}")).expect("second part queued");
        drop(rest);
        assert_eq!(import.await.unwrap().unwrap().status(), 200);
        assert_eq!(app.list("offset=0").await.status(), 200);
    }
}

backend_tests_with! {
    Settings { tenant_expensive_limit: 1, ..Settings::default() };
    async fn a_catalogue_view_is_built_once_per_version_and_only_a_new_one_waits_for_a_turn(app) {
        app.create_profile("turkeySauce", false).await;
        app.create_profile("chaCha", true).await;
        let token = app.create_token("default", &[Permission::CatalogueRead, Permission::CatalogueWrite], None);
        let sample: serde_json::Value =
            serde_json::from_str(include_str!("../../docs/examples/catalogue.json")).expect("sample catalogue");
        expect_json(app.import_catalogue("default", &token, &sample).await, 200).await;
        let views = "/v2/orgs/default/base_profiles";
        let first = expect_json(app.get_with_token(views, &token).await, 200).await;
        assert_eq!(first.as_array().map(Vec::len), Some(2), "{first}");
        let misses = metric(&app, "spcm_catalogue_view_answers_misses_total").await;
        assert!(misses >= 1.0, "the first view was built");
        assert_eq!(expect_json(app.get_with_token(views, &token).await, 200).await, first);
        assert!(metric(&app, "spcm_catalogue_view_answers_hits_total").await >= 1.0);
        assert_eq!(metric(&app, "spcm_catalogue_view_answers_misses_total").await, misses, "asked again: not built again");

        let (rest, import) = holding_the_turn(&app, &token).await;
        assert_eq!(expect_json(app.get_with_token(views, &token).await, 200).await, first, "a remembered view needs no turn");
        let new = app.get_with_token("/v2/orgs/default/base_profiles/71_COMPRODUCT/services", &token).await;
        assert_eq!(new.status(), 429, "a view to build takes a turn");
        assert_eq!(new.headers().get("retry-after").map(|v| v.to_str().unwrap()), Some("1"));
        assert_eq!(new.json::<serde_json::Value>().await.unwrap(), json!("Too Many Requests"));
        assert!(metric(&app, "spcm_tenant_work_refused_total{work=\"catalogue_view\"}").await >= 1.0);

        // The import gives a new version, whose views are its own.
        rest.send(Bytes::from_static(b"]}")).expect("second part queued");
        drop(rest);
        assert_eq!(import.await.unwrap().unwrap().status(), 200);
        assert_eq!(expect_json(app.get_with_token(views, &token).await, 200).await, json!([]));
    }
}
