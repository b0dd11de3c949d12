//! Browsers on other origins (contract §2.2): the origins of `SPCM_CORS_ORIGINS` may call
//! both faces; another origin gets no CORS header at all.

use reqwest::header::{HeaderMap, ORIGIN};
use reqwest::Method;
use spcm::auth::Permission;
use spcm::config::Settings;

use crate::helpers::{spawn_with, PROFILES};

const APP: &str = "https://app.example.com";

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|value| value.to_str().expect("visible ASCII"))
}

/// Every name the header lists, over all its lines.
fn names(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .flat_map(|value| value.to_str().expect("visible ASCII").split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .collect()
}

#[actix_web::test]
async fn an_allowed_origin_gets_its_preflight_and_reads_answers_and_errors_of_both_faces() {
    let settings = Settings { cors_origins: vec![APP.into(), "http://127.0.0.1:3000".into()], ..Settings::default() };
    let app = spawn_with(settings).await;
    let preflight = app
        .client
        .request(Method::OPTIONS, app.url(&format!("{PROFILES}/1")))
        .header(ORIGIN, APP)
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "authorization, tenant, content-type, if-match, idempotency-key")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    let headers = preflight.headers();
    assert_eq!(header(headers, "access-control-allow-origin"), Some(APP));
    for method in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] {
        assert!(names(headers, "access-control-allow-methods").contains(&method.to_ascii_lowercase()), "{method}");
    }
    for name in [
        "authorization",
        "tenant",
        "content-type",
        "accept",
        "if-match",
        "if-none-match",
        "idempotency-key",
        "x-request-id",
    ] {
        assert!(names(headers, "access-control-allow-headers").contains(&name.to_owned()), "{name}: {headers:?}");
    }
    assert_eq!(header(headers, "access-control-allow-credentials"), None, "credentials travel in Authorization");
    assert!(preflight.bytes().await.unwrap().is_empty());

    let listing = app.request(Method::GET, &format!("{PROFILES}?limit=1")).header(ORIGIN, APP).send().await.unwrap();
    assert_eq!(listing.status(), 200);
    assert_eq!(header(listing.headers(), "access-control-allow-origin"), Some(APP));
    for name in ["etag", "location", "x-total-count", "x-request-id", "retry-after", "link"] {
        assert!(names(listing.headers(), "access-control-expose-headers").contains(&name.to_owned()), "{name}");
    }
    let vary = names(listing.headers(), "vary");
    for name in ["origin", "accept", "authorization", "tenant"] {
        assert!(vary.contains(&name.to_owned()), "Vary names {name}: {vary:?}");
    }

    // An error is readable too, on both faces, so that the page can show why.
    let refused =
        app.client.get(app.url(PROFILES)).header(ORIGIN, APP).header("tenant", "default").send().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(header(refused.headers(), "access-control-allow-origin"), Some(APP));
    let token = app.create_token("default", &[Permission::CatalogueRead], None);
    let view = app
        .client
        .get(app.url("/v2/orgs/default/base_profiles"))
        .bearer_auth(&token)
        .header(ORIGIN, "http://127.0.0.1:3000")
        .send()
        .await
        .unwrap();
    assert_eq!(view.status(), 200);
    assert_eq!(header(view.headers(), "access-control-allow-origin"), Some("http://127.0.0.1:3000"));

    // Another origin: no CORS header, so its browser keeps the answer from its page.
    let stranger = "https://evil.example";
    let preflight = app
        .client
        .request(Method::OPTIONS, app.url(PROFILES))
        .header(ORIGIN, stranger)
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(!preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(header(preflight.headers(), "access-control-allow-origin"), None);
    let listing =
        app.request(Method::GET, &format!("{PROFILES}?limit=1")).header(ORIGIN, stranger).send().await.unwrap();
    assert_eq!(listing.status(), 200, "served as to any client without a browser");
    assert_eq!(header(listing.headers(), "access-control-allow-origin"), None);
    assert_eq!(header(listing.headers(), "access-control-expose-headers"), None);
}

#[actix_web::test]
async fn without_origins_set_no_origin_gets_cors_headers() {
    let app = spawn_with(Settings::default()).await;
    let preflight = app
        .client
        .request(Method::OPTIONS, app.url(PROFILES))
        .header(ORIGIN, APP)
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(header(preflight.headers(), "access-control-allow-origin"), None);
    let listing = app.request(Method::GET, &format!("{PROFILES}?limit=1")).header(ORIGIN, APP).send().await.unwrap();
    assert_eq!(listing.status(), 200);
    assert_eq!(header(listing.headers(), "access-control-allow-origin"), None);
}
