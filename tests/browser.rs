//! The Swagger UI as a user meets it: a real headless Chromium, driven through
//! chromedriver with fantoccini (`common/webdriver.rs`), opens `/swagger-ui/`,
//! authorizes with HTTP Basic and the `tenant` key, tries the profile listing and reads
//! the live response.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian packages `chromium`
//! and `chromium-driver`). When the build does not find them (`build.rs`) the test is
//! ignored, unless `SPCM_TEST_BROWSER=1` (as CI sets it) makes their absence a failure.
//! The last screenshot is kept under `target/tmp/swagger-ui/`.

#[path = "common/webdriver.rs"]
mod webdriver;

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::json;
use spcm::config::Settings;
use spcm::startup::{Application, Bootstrap};

use webdriver::{Browser, StopServer};

const ADMIN_PASSWORD: &str = "admin-Secret-1";
const PROFILES: &str = "/pcc/spcm/provisionProfile";
/// All the browser work (driver start to last screenshot) must fit in this.
const BUDGET: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(spcm_test_browser),
    ignore = "chromium or chromedriver was missing when the tests were built; SPCM_TEST_BROWSER=1 requires them"
)]
async fn swagger_ui_authorizes_and_lists_profiles_in_a_real_browser() {
    let started = Instant::now();
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("swagger-ui");
    std::fs::create_dir_all(&out_dir).expect("screenshot directory");
    // A failure screenshot from an earlier run would mislead.
    let _ = std::fs::remove_file(out_dir.join("failure.png"));

    // The service on a random port of 127.0.0.1, over a fresh SQLite file, with two profiles.
    let db_dir = tempfile::tempdir().expect("temporary directory");
    let settings = Settings {
        database_url: format!("sqlite://{}", db_dir.path().join("browser.db").display()),
        bind: "127.0.0.1:0".into(),
        workers: 2,
        ..Default::default()
    };
    let bootstrap = Bootstrap { tenant: "default".into(), password: Some(SecretString::from(ADMIN_PASSWORD)) };
    let app = Application::build(settings, bootstrap).await.expect("application builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let _server = StopServer(app.server_handle());
    tokio::spawn(app.run_until_stopped());

    let http = reqwest::Client::builder().no_proxy().build().expect("HTTP client");
    for (name, default_profile) in [("turkeySauce", false), ("chaCha", true)] {
        let response = http
            .post(format!("{base}{PROFILES}"))
            .basic_auth("admin", Some(ADMIN_PASSWORD))
            .header("tenant", "default")
            .json(&json!({"name": name, "defaultProfile": default_profile}))
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), 201, "creating profile {name}: {}", response.text().await.unwrap_or_default());
    }

    let browser = Browser::open("Swagger UI", out_dir.clone(), started, BUDGET, true).await;

    // The page renders the document, listing operation included.
    browser.go(&format!("{base}/swagger-ui/")).await;
    let listing = format!("//div[{}][.//*[@data-path='{PROFILES}']]", class("opblock-get"));
    let summary = browser.wait_for_text("the GET /pcc/spcm/provisionProfile operation", &listing, &[PROFILES]).await;
    assert!(summary.contains("GET"), "the listing operation's summary shows its method: {summary:?}");

    // Authorize: HTTP Basic as the bootstrap admin, then the tenant header.
    browser
        .click("the Authorize button", &format!("//div[{}]//button[{}]", class("auth-wrapper"), class("authorize")))
        .await;
    let basic = auth_form("basicAuth");
    browser.type_into("the basicAuth username", &format!("{basic}//input[@id='auth-basic-username']"), "admin").await;
    browser
        .type_into("the basicAuth password", &format!("{basic}//input[@id='auth-basic-password']"), ADMIN_PASSWORD)
        .await;
    browser.click("the basicAuth Authorize button", &format!("{basic}//button[@type='submit']")).await;
    browser.wait_for("basicAuth to be authorized", &format!("{basic}//button[normalize-space()='Logout']")).await;
    let tenant = auth_form("tenant");
    browser.type_into("the tenant key value", &format!("{tenant}//input[@id='api_key_value']"), "default").await;
    browser.click("the tenant Authorize button", &format!("{tenant}//button[@type='submit']")).await;
    browser.wait_for("the tenant key to be authorized", &format!("{tenant}//button[normalize-space()='Logout']")).await;
    browser.click("the Close button of the modal", &format!("({MODAL}//button[{}])[1]", class("btn-done"))).await;
    browser.wait_gone("the authorization modal to close", MODAL).await;

    // Expand the listing, try it out, execute.
    browser.click("the listing's summary", &format!("{listing}//button[{}]", class("opblock-summary-control"))).await;
    browser.click("Try it out", &format!("{listing}//button[{}]", class("try-out__btn"))).await;
    browser.click("Execute", &format!("{listing}//button[{}]", class("execute"))).await;

    // The live response: 200, both profiles, and the request carried the tenant header.
    let live = format!("{listing}//table[{}]", class("live-responses-table"));
    let status = format!("{live}//tbody//td[{}]", class("response-col_status"));
    let status_text = browser.wait_for_text("the live response's status", &status, &[""]).await;
    assert_eq!(
        status_text.split_whitespace().next(),
        Some("200"),
        "live response status; page text:\n{}",
        browser.page_text().await
    );
    let body = format!("{live}//tbody//td[{}]", class("response-col_description"));
    browser.wait_for_text("both profiles in the live response body", &body, &["turkeySauce", "chaCha"]).await;
    let operation = browser.wait_for_text("the request shown", &listing, &["Request URL"]).await;
    assert!(operation.contains("tenant: default"), "the request sent the tenant header:\n{operation}");
    assert!(operation.contains("Authorization: Basic"), "the request sent HTTP Basic:\n{operation}");

    // A screenshot with the response in view.
    let live_element = browser.wait_for("the live response table", &live).await;
    let live_element = serde_json::to_value(live_element).expect("an element reference");
    let scrolled = browser.client().execute("arguments[0].scrollIntoView({block: 'center'});", vec![live_element]);
    browser.run("scrolling the live response into view", scrolled).await.expect("scrolled");
    let screenshot = out_dir.join("listing-executed.png");
    browser.screenshot_to(&screenshot).await;
    let size = std::fs::metadata(&screenshot).expect("screenshot written").len();
    assert!(size > 0, "screenshot {} is empty", screenshot.display());

    browser.quit().await;
    let _ = writeln!(
        std::io::stderr(),
        "browser test: Swagger UI listed both profiles in {:.1} s; screenshot {}",
        started.elapsed().as_secs_f64(),
        screenshot.display()
    );
}

/// The modal that the Authorize button opens.
const MODAL: &str = "//div[contains(concat(' ', normalize-space(@class), ' '), ' modal-ux ')]";

/// The form of one security scheme in the authorization modal.
fn auth_form(scheme: &str) -> String {
    format!("{MODAL}//div[{}][.//h4/code[normalize-space()='{scheme}']]", class("auth-container"))
}

/// An XPath predicate: the element has CSS class `name`.
fn class(name: &str) -> String {
    format!("contains(concat(' ', normalize-space(@class), ' '), ' {name} ')")
}

/// A page that calls spcm from its own origin: a POST with a JSON body and an
/// `Idempotency-Key`, then a listing, both with Basic credentials and the `tenant`
/// header (so each needs a preflight); it writes what it could read into `#out`.
const CROSS_ORIGIN_PAGE: &str = r#"<!doctype html><html><body><pre id="out">running</pre><script>
const api = new URLSearchParams(location.search).get("api");
const auth = {"Authorization": "Basic " + btoa("admin:PASSWORD"), "tenant": "default"};
(async () => {
  const out = document.getElementById("out");
  try {
    const created = await fetch(api + "/pcc/spcm/provisionProfile", {method: "POST",
      headers: {...auth, "Content-Type": "application/json", "Idempotency-Key": "page-1"},
      body: JSON.stringify({name: "fromAPage", defaultProfile: true})});
    const listed = await fetch(api + "/pcc/spcm/provisionProfile?limit=1", {headers: auth});
    const list = await listed.json();
    out.textContent = ["created", created.status, created.headers.get("Location"), "listed", listed.status,
      "total", listed.headers.get("X-Total-Count"), listed.headers.get("ETag") ? "etag" : "no-etag",
      "length", list.length].join(" ");
  } catch (e) {
    out.textContent = "blocked " + e.name;
  }
})();
</script></body></html>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(spcm_test_browser),
    ignore = "chromium or chromedriver was missing when the tests were built; SPCM_TEST_BROWSER=1 requires them"
)]
async fn a_page_on_an_allowed_origin_calls_the_api_and_another_origin_is_blocked_in_a_real_browser() {
    let started = Instant::now();
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cors");
    std::fs::create_dir_all(&out_dir).expect("screenshot directory");

    // The page, served on two ports of 127.0.0.1: two origins.
    let page = CROSS_ORIGIN_PAGE.replace("PASSWORD", ADMIN_PASSWORD);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port for the page");
    let page_port = listener.local_addr().expect("its address").port();
    let other = std::net::TcpListener::bind("127.0.0.1:0").expect("a port for the other origin");
    let other_port = other.local_addr().expect("its address").port();
    let pages = actix_web::HttpServer::new(move || {
        let page = page.clone();
        actix_web::App::new().default_service(actix_web::web::to(move || {
            let page = page.clone();
            async move { actix_web::HttpResponse::Ok().content_type("text/html; charset=utf-8").body(page) }
        }))
    })
    .workers(1)
    .listen(listener)
    .expect("the page's origin")
    .listen(other)
    .expect("the other origin")
    .run();
    let _pages = StopServer(pages.handle());
    tokio::spawn(pages);

    // spcm allows the first origin only.
    let db_dir = tempfile::tempdir().expect("temporary directory");
    let settings = Settings {
        database_url: format!("sqlite://{}", db_dir.path().join("cors.db").display()),
        bind: "127.0.0.1:0".into(),
        workers: 2,
        cors_origins: vec![format!("http://127.0.0.1:{page_port}")],
        ..Default::default()
    };
    let bootstrap = Bootstrap { tenant: "default".into(), password: Some(SecretString::from(ADMIN_PASSWORD)) };
    let app = Application::build(settings, bootstrap).await.expect("application builds");
    let api = format!("http://127.0.0.1:{}", app.port());
    let _server = StopServer(app.server_handle());
    tokio::spawn(app.run_until_stopped());

    let browser = Browser::open("CORS", out_dir, started, BUDGET, true).await;
    browser.go(&format!("http://127.0.0.1:{page_port}/?api={api}")).await;
    let allowed = browser.wait_for_text("the allowed origin's calls", "//pre[@id='out']", &["created", "listed"]).await;
    assert!(
        allowed.starts_with("created 201 /pcc/spcm/provisionProfile/1 listed 200 total 1 etag length 1"),
        "the page read the answers and their exposed headers: {allowed}"
    );

    browser.go(&format!("http://127.0.0.1:{other_port}/?api={api}")).await;
    let blocked = browser.wait_for_text("the other origin's calls", "//pre[@id='out']", &["blocked"]).await;
    assert_eq!(blocked, "blocked TypeError", "the browser keeps the answer from a page of another origin");
    browser.quit().await;

    // The blocked POST's preflight failed, so nothing more was written.
    let http = reqwest::Client::builder().no_proxy().build().expect("HTTP client");
    let listing = http
        .get(format!("{api}{PROFILES}?limit=1"))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .header("tenant", "default")
        .send()
        .await
        .expect("request sent");
    assert_eq!(listing.headers()["x-total-count"], "1");
}
