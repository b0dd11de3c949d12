//! The console (contract §8) as a user meets it: a real headless Chromium, driven
//! through chromedriver with fantoccini (`common/webdriver.rs`), signs in, finds a
//! profile, edits it (an invalid field first), makes another profile the default
//! through the confirmation, reads the history, signs out; a read-only user sees no
//! edit controls; the same flow runs with JavaScript disabled; every page passes
//! axe-core with no serious or critical violation.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian packages `chromium`
//! and `chromium-driver`), ignored when the build did not find them unless
//! `SPCM_TEST_BROWSER=1`; and axe-core in `target/axe-core/axe.min.js`
//! (`scripts/fetch-axe.sh`). Screenshots of the main pages go to `docs/console/` with `SPCM_CONSOLE_SCREENSHOTS=1`.

#[path = "common/webdriver.rs"]
mod webdriver;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::Method;
use secrecy::SecretString;
use serde_json::{json, Value};
use spcm::auth::{hash_password, Permission, PermissionSet};
use spcm::config::Settings;
use spcm::startup::{Application, Bootstrap};
use spcm::store::{self, Authority, DbPool};

use webdriver::{Browser, StopServer};

const ADMIN_PASSWORD: &str = "admin-Secret-1";
const VIEWER_PASSWORD: &str = "viewer-Secret-1";
const PROFILES: &str = "/pcc/spcm/provisionProfile";
/// All the browser work of one test must fit in this.
const BUDGET: Duration = Duration::from_secs(180);

/// The service on a random port over a fresh SQLite file, with two profiles and a
/// read-only user.
struct Service {
    base: String,
    http: reqwest::Client,
    _server: StopServer,
    _db_dir: tempfile::TempDir,
}

impl Service {
    async fn start() -> Service {
        let db_dir = tempfile::tempdir().expect("temporary directory");
        let database_url = format!("sqlite://{}", db_dir.path().join("console.db").display());
        let settings = Settings {
            database_url: database_url.clone(),
            bind: "127.0.0.1:0".into(),
            workers: 2,
            ..Default::default()
        };
        let bootstrap = Bootstrap { tenant: "default".into(), password: Some(SecretString::from(ADMIN_PASSWORD)) };
        let app = Application::build(settings, bootstrap).await.expect("application builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        let server = StopServer(app.server_handle());
        tokio::spawn(app.run_until_stopped());
        let http = reqwest::Client::builder().no_proxy().build().expect("HTTP client");
        let service = Service { base, http, _server: server, _db_dir: db_dir };
        for (name, default_profile) in [("turkeySauce", true), ("chaCha", false)] {
            let body = json!({"name": name, "defaultProfile": default_profile, "locale": "en"});
            let response = service.api(Method::POST, PROFILES).json(&body).send().await.expect("request sent");
            assert_eq!(response.status(), 201, "creating {name}");
        }
        let pool = DbPool::new(&database_url, 1, Duration::from_secs(5)).expect("pool");
        let mut conn = pool.get().expect("connection");
        let tenant = spcm::domain::TenantName::parse("default").unwrap();
        let tenant_id = store::tenants::find_id(&mut conn, &tenant).unwrap().expect("tenant");
        let hash = hash_password(&SecretString::from(VIEWER_PASSWORD)).unwrap();
        let granted: PermissionSet = [Permission::ProfileRead].into_iter().collect();
        store::users::add(&mut conn, &pool.write_scope(tenant_id, Authority::Cli), "viewer", &hash, granted)
            .expect("viewer added");
        service
    }

    fn api(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .basic_auth("admin", Some(ADMIN_PASSWORD))
            .header("tenant", "default")
    }

    async fn default_names(&self) -> Vec<String> {
        let body: Value = self
            .api(Method::GET, &format!("{PROFILES}?defaultProfile=true"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["provisioningProfileDTOList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn out_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).expect("output directory");
    let _ = std::fs::remove_file(dir.join("failure.png"));
    dir
}

/// Where the screenshots go: `docs/console/` with `SPCM_CONSOLE_SCREENSHOTS=1` (to renew
/// the documentation's pictures), else the test's own directory, so that a test run
/// leaves the tree as it was.
fn screenshots_dir() -> PathBuf {
    let dir = if std::env::var_os("SPCM_CONSOLE_SCREENSHOTS").is_some_and(|v| v == "1") {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/console")
    } else {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots")
    };
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    dir
}

/// axe-core, fetched by `scripts/fetch-axe.sh`.
fn axe_source() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}; run scripts/fetch-axe.sh first", path.display()))
}

async fn browser(name: &str, javascript: bool) -> Browser {
    Browser::open("console", out_dir(name), Instant::now(), BUDGET, javascript).await
}

/// An XPath for the element of `tag` whose normalised text is `text`.
fn named(tag: &str, text: &str) -> String {
    format!("//{tag}[normalize-space()='{text}']")
}

impl Browser {
    async fn sign_in(&self, base: &str, username: &str, password: &str) {
        self.go(&format!("{base}/console/")).await;
        self.wait_for_text("the sign-in page", "//h1", &["Sign in"]).await;
        self.type_into("the tenant", "//input[@id='field-tenant']", "default").await;
        self.type_into("the username", "//input[@id='field-username']", username).await;
        self.type_into("the password", "//input[@id='field-password']", password).await;
        self.click("the Sign in button", &named("button", "Sign in")).await;
        self.wait_for_text("the profile list", "//h1", &["Provisioning profiles"]).await;
    }

    /// Runs axe-core on the page: no violation of impact serious or critical.
    async fn check_accessibility(&self, page: &str, axe: &str) {
        let loaded = self
            .run("loading axe-core", self.client().execute(&format!("{axe}\nreturn typeof axe;"), Vec::new()))
            .await;
        assert_eq!(
            loaded.as_ref().ok().and_then(|v| v.as_str()),
            Some("object"),
            "axe-core loaded on {page}: {loaded:?}"
        );
        let script = "const done = arguments[arguments.length - 1];
            axe.run(document, {resultTypes: ['violations']})
              .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))))
              .catch(e => done('axe failed: ' + e));";
        let result = self.run("running axe-core", self.client().execute_async(script, Vec::new())).await;
        match result {
            Ok(Value::Array(violations)) if violations.is_empty() => {}
            other => panic!(
                "accessibility of {page}: {}",
                serde_json::to_string_pretty(&other.unwrap_or_else(Value::String)).unwrap()
            ),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(spcm_test_axe),
    ignore = "chromium, chromedriver or axe-core (scripts/fetch-axe.sh) was missing when the tests were built; \
              SPCM_TEST_BROWSER=1 requires them"
)]
async fn an_administrator_edits_a_profile_and_moves_the_default() {
    let service = Service::start().await;
    let axe = axe_source();
    let shots = screenshots_dir();
    let browser = browser("console", true).await;
    let base = service.base.clone();

    browser.go(&format!("{base}/console/")).await;
    browser.wait_for_text("the sign-in page", "//h1", &["Sign in"]).await;
    browser.check_accessibility("the sign-in page", &axe).await;
    browser.screenshot_to(&shots.join("sign-in.png")).await;
    browser.sign_in(&base, "admin", ADMIN_PASSWORD).await;
    browser.wait_for("the default marked", "//td/span[normalize-space()='Default']").await;
    browser.check_accessibility("the profile list", &axe).await;
    browser.screenshot_to(&shots.join("profiles.png")).await;

    // Find chaCha by name.
    browser.type_into("the name search", "//input[@id='search-name']", "cha").await;
    browser.click("Search", &named("button", "Search")).await;
    browser.wait_gone("turkeySauce in the results", "//td/a[normalize-space()='turkeySauce']").await;
    browser.click("the chaCha link", "//td/a[normalize-space()='chaCha']").await;
    browser.wait_for_text("the profile page", "//h1", &["Profile chaCha"]).await;
    browser.check_accessibility("the profile page", &axe).await;

    // Edit with one invalid field: the message is at the field, nothing is saved.
    browser.click("Edit", &named("a", "Edit")).await;
    browser.wait_for_text("the edit page", "//h1", &["Edit chaCha"]).await;
    browser.clear("the locale", "//input[@id='field-locale']").await;
    browser.type_into("the locale", "//input[@id='field-locale']", "english!").await;
    browser.click("Save changes", &named("button", "Save changes")).await;
    let at_field = "//div[contains(@class, 'field')][.//input[@id='field-locale']]/p[@id='field-locale-error']";
    browser.wait_for_text("the locale's error at its field", at_field, &["not a language tag"]).await;
    browser.check_accessibility("the edit page with an error", &axe).await;
    browser.screenshot_to(&shots.join("edit-error.png")).await;
    browser.clear("the locale", "//input[@id='field-locale']").await;
    browser.type_into("the locale", "//input[@id='field-locale']", "es-ES").await;
    browser.click("Save changes", &named("button", "Save changes")).await;
    browser.wait_for_text("the saved notice", "//p[contains(@class, 'notice')]", &["saved"]).await;
    browser.wait_for("the new locale", "//dd[normalize-space()='es-ES']").await;

    // Make it the default, through the confirmation that names the current default.
    browser.click("Make default", &named("a", "Make default")).await;
    browser.wait_for_text("the confirmation", "//main", &["The default profile now is", "turkeySauce"]).await;
    browser.check_accessibility("the make-default confirmation", &axe).await;
    browser.screenshot_to(&shots.join("make-default.png")).await;
    browser.click("the confirm button", "//main//form//button[@type='submit']").await;
    browser.wait_for_text("the default notice", "//p[contains(@class, 'notice')]", &["now the default"]).await;
    browser
        .wait_for_text(
            "the history",
            "//table[contains(@class, 'changes')]",
            &["defaultProfile", "false → true", "locale"],
        )
        .await;
    browser.screenshot_to(&shots.join("profile.png")).await;
    assert_eq!(service.default_names().await, ["chaCha"], "the SPCM API sees the default moved");

    // The tenant's recent changes, users and tokens.
    browser.click("Recent changes", &named("a", "Recent changes")).await;
    browser.wait_for_text("the recent changes", "//table", &["admin (user)", "defaultProfile"]).await;
    browser.check_accessibility("the recent changes", &axe).await;
    browser.screenshot_to(&shots.join("changes.png")).await;
    browser.click("Users", &named("a", "Users")).await;
    browser.wait_for_text("the users page", "//table", &["viewer", "admin"]).await;
    browser.check_accessibility("the users page", &axe).await;
    browser.screenshot_to(&shots.join("users.png")).await;
    browser.click("the viewer", "//td/a[normalize-space()='viewer']").await;
    browser.wait_for_text("the user page", "//h1", &["User viewer"]).await;
    browser.check_accessibility("the user page", &axe).await;
    browser.click("Tokens", &named("a", "Tokens")).await;
    browser.wait_for_text("the tokens page", "//h1", &["Catalogue tokens"]).await;
    browser.click("Create token", &named("button", "Create token")).await;
    browser.wait_for_text("the new token", "//p[contains(@class, 'notice')]", &["Copy its secret now"]).await;
    browser.check_accessibility("the new token page", &axe).await;
    browser.go(&format!("{base}/console/tokens")).await;
    browser.wait_for("the token's revoke button", "//button[starts-with(normalize-space(), 'Revoke token')]").await;
    browser.check_accessibility("the tokens page", &axe).await;
    browser.screenshot_to(&shots.join("tokens.png")).await;
    browser.go(&format!("{base}/console/profiles/new")).await;
    browser.wait_for_text("the new-profile page", "//h1", &["New profile"]).await;
    browser.check_accessibility("the new-profile page", &axe).await;

    // Phone width.
    browser.run("resizing the window", browser.client().set_window_size(390, 844)).await.expect("window resized");
    browser.go(&format!("{base}/console/profiles")).await;
    browser.wait_for_text("the profile list", "//h1", &["Provisioning profiles"]).await;
    browser.check_accessibility("the profile list at phone width", &axe).await;
    browser.screenshot_to(&shots.join("profiles-phone.png")).await;

    // Sign out: the session ends.
    browser.click("Sign out", &named("button", "Sign out")).await;
    browser.wait_for_text("the sign-in page", "//h1", &["Sign in"]).await;
    browser.go(&format!("{base}/console/profiles")).await;
    browser.wait_for_text("the sign-in page again", "//h1", &["Sign in"]).await;
    assert!(browser.url().await.ends_with("/console/sign-in"), "{}", browser.url().await);

    // A read-only user sees no control for what it lacks.
    browser.run("resizing the window", browser.client().set_window_size(1280, 2000)).await.expect("window resized");
    browser.sign_in(&base, "viewer", VIEWER_PASSWORD).await;
    for absent in [
        "//a[normalize-space()='New profile']",
        "//a[normalize-space()='Users']",
        "//a[normalize-space()='Recent changes']",
    ] {
        assert!(browser.find_all(absent).await.unwrap().is_empty(), "{absent} shown to a read-only user");
    }
    browser.click("the chaCha link", "//td/a[normalize-space()='chaCha']").await;
    browser.wait_for_text("the profile page", "//h1", &["Profile chaCha"]).await;
    for absent in ["Edit", "Make default", "Delete"] {
        assert!(browser.find_all(&named("a", absent)).await.unwrap().is_empty(), "{absent} shown to a read-only user");
    }
    browser.check_accessibility("the read-only profile page", &axe).await;
    browser.screenshot_to(&shots.join("read-only.png")).await;
    // The refusal and not-found pages are pages like the others.
    browser.go(&format!("{base}/console/users")).await;
    browser.wait_for_text("the refusal page", "//h1", &["Not allowed"]).await;
    browser.check_accessibility("the refusal page", &axe).await;
    browser.go(&format!("{base}/console/profiles/999")).await;
    browser.wait_for_text("the not-found page", "//h1", &["Not found"]).await;
    browser.check_accessibility("the not-found page", &axe).await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(spcm_test_browser),
    ignore = "chromium or chromedriver was missing when the tests were built; SPCM_TEST_BROWSER=1 requires them"
)]
async fn the_console_works_with_javascript_disabled() {
    let service = Service::start().await;
    let browser = browser("console-no-js", false).await;
    let base = service.base.clone();
    // Page scripts really do not run in this browser.
    browser.go("data:text/html,<title>off</title><script>document.title='on'</script>").await;
    let title = browser.run("reading the title", browser.client().title()).await.expect("title");
    assert_eq!(title, "off", "JavaScript is disabled");
    browser.sign_in(&base, "admin", ADMIN_PASSWORD).await;
    browser.click("the chaCha link", "//td/a[normalize-space()='chaCha']").await;
    browser.wait_for_text("the profile page", "//h1", &["Profile chaCha"]).await;
    browser.click("Edit", &named("a", "Edit")).await;
    browser.clear("the locale", "//input[@id='field-locale']").await;
    browser.type_into("the locale", "//input[@id='field-locale']", "1").await;
    browser.click("Save changes", &named("button", "Save changes")).await;
    browser.wait_for_text("the locale's error", "//p[@id='field-locale-error']", &["not a language tag"]).await;
    browser.clear("the locale", "//input[@id='field-locale']").await;
    browser.type_into("the locale", "//input[@id='field-locale']", "pt-BR").await;
    browser.click("Save changes", &named("button", "Save changes")).await;
    browser.wait_for("the new locale", "//dd[normalize-space()='pt-BR']").await;
    browser.click("Make default", &named("a", "Make default")).await;
    browser.click("the confirm button", "//main//form//button[@type='submit']").await;
    browser.wait_for_text("the default notice", "//p[contains(@class, 'notice')]", &["now the default"]).await;
    assert_eq!(service.default_names().await, ["chaCha"]);
    browser.quit().await;
}

impl Browser {
    /// Empties a text input.
    async fn clear(&self, what: &str, xpath: &str) {
        loop {
            let element = self.wait_for(what, xpath).await;
            match self.run("clearing", element.clear()).await {
                Ok(()) => return,
                Err(e) => self.tick(&format!("clearing {what}"), &e).await,
            }
        }
    }

    /// The current URL.
    async fn url(&self) -> String {
        self.run("reading the URL", self.client().current_url()).await.map(String::from).unwrap_or_default()
    }
}
