//! The console (contract §8) as a user meets it: a real headless Chromium, driven
//! through chromedriver's W3C WebDriver HTTP API, signs in, finds a profile, edits it
//! (an invalid field first), makes another profile the default through the
//! confirmation, reads the history, signs out; a read-only user sees no edit controls;
//! the same flow runs with JavaScript disabled; every page passes axe-core with no
//! serious or critical violation.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian packages `chromium`
//! and `chromium-driver`), ignored when the build did not find them unless
//! `SPCM_TEST_BROWSER=1`; and axe-core in `target/axe-core/axe.min.js`
//! (`scripts/fetch-axe.sh`). Screenshots of the main pages go to `docs/console/` with `SPCM_CONSOLE_SCREENSHOTS=1`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{json, Value};
use spcm::auth::{hash_password, Permission, PermissionSet};
use spcm::config::Settings;
use spcm::startup::{Application, Bootstrap};
use spcm::store::{self, Authority, DbPool};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ADMIN_PASSWORD: &str = "admin-Secret-1";
const VIEWER_PASSWORD: &str = "viewer-Secret-1";
const PROFILES: &str = "/pcc/spcm/provisionProfile";
/// The key under which W3C WebDriver hands out element references.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// All the browser work of one test must fit in this.
const BUDGET: Duration = Duration::from_secs(180);
const POLL: Duration = Duration::from_millis(100);

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

async fn browser(name: &str, javascript: bool) -> (Browser, tempfile::TempDir) {
    require_browser();
    let deadline = Instant::now() + BUDGET;
    let out = out_dir(name);
    let driver = ChromeDriver::start(&out, deadline).await;
    let profile_dir = tempfile::tempdir().expect("browser profile directory");
    let browser = Browser::open(driver, profile_dir.path(), out, deadline, javascript).await;
    (browser, profile_dir)
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
            .command(
                Method::POST,
                "/execute/sync",
                Some(json!({"script": format!("{axe}\nreturn typeof axe;"), "args": []})),
            )
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
        let result = self.command(Method::POST, "/execute/async", Some(json!({"script": script, "args": []}))).await;
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
    let (browser, _profile) = browser("console", true).await;
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
    browser
        .command(Method::POST, "/window/rect", Some(json!({"width": 390, "height": 844})))
        .await
        .expect("window resized");
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
    browser
        .command(Method::POST, "/window/rect", Some(json!({"width": 1280, "height": 2000})))
        .await
        .expect("window resized");
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
    let (browser, _profile) = browser("console-no-js", false).await;
    let base = service.base.clone();
    // Page scripts really do not run in this browser.
    browser.go("data:text/html,<title>off</title><script>document.title='on'</script>").await;
    let title = browser.command(Method::GET, "/title", None).await.expect("title");
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

/// Panics unless Chromium and chromedriver are installed.
fn require_browser() {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER].into_iter().filter(|p| !Path::new(p).exists()).collect();
    assert!(missing.is_empty(), "{} missing (Debian packages: chromium chromium-driver)", missing.join(" and "));
}

/// Stops the server when the test ends, however it ends.
struct StopServer(actix_web::dev::ServerHandle);

impl Drop for StopServer {
    fn drop(&mut self) {
        drop(self.0.stop(false));
    }
}

/// A chromedriver process on a free port of 127.0.0.1, killed when dropped.
struct ChromeDriver {
    child: Child,
    port: u16,
}

impl ChromeDriver {
    async fn start(out_dir: &Path, deadline: Instant) -> ChromeDriver {
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", out_dir.join("chromedriver.log").display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let mut driver = ChromeDriver { child, port };
        let client = reqwest::Client::builder().no_proxy().build().expect("HTTP client");
        let ready_by = deadline.min(Instant::now() + Duration::from_secs(15));
        loop {
            if let Ok(Some(status)) = driver.child.try_wait() {
                panic!("chromedriver exited at start ({status}); see {}", out_dir.join("chromedriver.log").display());
            }
            let status = client.get(format!("{}/status", driver.url())).timeout(Duration::from_secs(2)).send().await;
            if let Ok(response) = status {
                let body: Value = response.json().await.unwrap_or_default();
                if body["value"]["ready"] == true {
                    return driver;
                }
            }
            assert!(Instant::now() < ready_by, "chromedriver not ready on port {port} within 15 s");
            tokio::time::sleep(POLL).await;
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One WebDriver session: a headless Chromium. Dropping it (a panic included) ends
/// the session, which closes the browser, then stops chromedriver.
struct Browser {
    client: reqwest::Client,
    session: Option<String>,
    out_dir: PathBuf,
    deadline: Instant,
    // Dropped after `Browser::drop` has closed the session.
    driver: ChromeDriver,
}

impl Browser {
    async fn open(
        driver: ChromeDriver,
        profile_dir: &Path,
        out_dir: PathBuf,
        deadline: Instant,
        javascript: bool,
    ) -> Browser {
        let client = reqwest::Client::builder().no_proxy().build().expect("HTTP client");
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            // Only 127.0.0.1 is ever contacted: no proxy from the environment, and no name
            // resolution at all (Chromium otherwise looks up Google and search-engine hosts).
            "--no-proxy-server".to_owned(),
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1".to_owned(),
            "--dns-prefetch-disable".to_owned(),
            "--disable-extensions".to_owned(),
            "--disable-default-apps".to_owned(),
            "--disable-client-side-phishing-detection".to_owned(),
            "--disable-domain-reliability".to_owned(),
            "--no-pings".to_owned(),
            "--window-size=1280,2000".to_owned(),
            format!("--user-data-dir={}", profile_dir.display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"pageLoad": 30_000, "script": 10_000, "implicit": 0},
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args, "prefs": {
                // 2: blocked, for the run that proves the console needs no JavaScript.
                "profile.managed_default_content_settings.javascript": if javascript { 1 } else { 2 },
            }},
        }}});
        let response = client
            .post(format!("{}/session", driver.url()))
            .json(&capabilities)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .expect("new-session request sent");
        let status = response.status();
        let body: Value = response.json().await.expect("new-session JSON");
        let Some(session) = body["value"]["sessionId"].as_str().filter(|_| status.is_success()) else {
            panic!("chromedriver could not start Chromium ({status}): {body}");
        };
        let session = Some(session.to_owned());
        Browser { client, session, out_dir, deadline, driver }
    }

    /// A WebDriver command on this session: its `value`, or the error it reported.
    async fn command(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        let session = self.session.as_deref().expect("session open");
        let url = format!("{}/session/{session}{path}", self.driver.url());
        // Requests may outlive the budget a little so that a failure can still be described.
        let left = self.deadline.saturating_duration_since(Instant::now());
        let mut request =
            self.client.request(method, url).timeout(left.clamp(Duration::from_secs(5), Duration::from_secs(30)));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| format!("{path}: {e}"))?;
        let status = response.status();
        let body: Value = response.json().await.map_err(|e| format!("{path}: {status}, not JSON: {e}"))?;
        let value = body.get("value").cloned().unwrap_or(Value::Null);
        if status.is_success() {
            Ok(value)
        } else {
            Err(format!("{path}: {status} {}: {}", value["error"], value["message"]))
        }
    }

    async fn go(&self, url: &str) {
        if let Err(e) = self.command(Method::POST, "/url", Some(json!({"url": url}))).await {
            self.fail::<()>(&format!("opening {url}"), &e).await;
        }
    }

    /// The elements that `xpath` matches now.
    async fn find_all(&self, xpath: &str) -> Result<Vec<String>, String> {
        let found = self.command(Method::POST, "/elements", Some(json!({"using": "xpath", "value": xpath}))).await?;
        Ok(found
            .as_array()
            .map(|all| all.iter().filter_map(|e| e[ELEMENT].as_str().map(str::to_owned)).collect())
            .unwrap_or_default())
    }

    async fn displayed(&self, element: &str) -> bool {
        let shown = self.command(Method::GET, &format!("/element/{element}/displayed"), None).await;
        shown.is_ok_and(|v| v == true)
    }

    async fn text(&self, element: &str) -> Result<String, String> {
        let text = self.command(Method::GET, &format!("/element/{element}/text"), None).await?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }

    /// The first displayed element that `xpath` matches, waited for.
    async fn wait_for(&self, what: &str, xpath: &str) -> String {
        let mut last = String::from("nothing matched");
        loop {
            match self.find_all(xpath).await {
                Ok(found) => {
                    for element in &found {
                        if self.displayed(element).await {
                            return element.clone();
                        }
                    }
                    if !found.is_empty() {
                        last = format!("{} match(es), none displayed", found.len());
                    }
                }
                Err(e) => last = e,
            }
            self.tick(what, &format!("{xpath}: {last}")).await;
        }
    }

    /// The text of the first displayed element that `xpath` matches once it holds every
    /// one of `needles` (and is not empty), waited for.
    async fn wait_for_text(&self, what: &str, xpath: &str, needles: &[&str]) -> String {
        loop {
            let element = self.wait_for(what, xpath).await;
            let last = match self.text(&element).await {
                Ok(text) if !text.trim().is_empty() && needles.iter().all(|n| text.contains(n)) => return text,
                Ok(text) => format!("text so far: {text:?}"),
                Err(e) => e,
            };
            self.tick(what, &format!("{xpath}: {last}")).await;
        }
    }

    /// Waits until `xpath` matches no displayed element.
    async fn wait_gone(&self, what: &str, xpath: &str) {
        loop {
            let mut shown = false;
            for element in self.find_all(xpath).await.unwrap_or_default() {
                shown |= self.displayed(&element).await;
            }
            if !shown {
                return;
            }
            self.tick(what, &format!("{xpath} still displayed")).await;
        }
    }

    /// Clicks the element once it is there and clickable (nothing drawn over it).
    async fn click(&self, what: &str, xpath: &str) {
        loop {
            let element = self.wait_for(what, xpath).await;
            match self.command(Method::POST, &format!("/element/{element}/click"), Some(json!({}))).await {
                Ok(_) => return,
                Err(e) => self.tick(&format!("clicking {what}"), &e).await,
            }
        }
    }

    /// Empties a text input.
    async fn clear(&self, what: &str, xpath: &str) {
        loop {
            let element = self.wait_for(what, xpath).await;
            match self.command(Method::POST, &format!("/element/{element}/clear"), Some(json!({}))).await {
                Ok(_) => return,
                Err(e) => self.tick(&format!("clearing {what}"), &e).await,
            }
        }
    }

    /// The current URL.
    async fn url(&self) -> String {
        self.command(Method::GET, "/url", None)
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// Types `text` into the input, as keystrokes.
    async fn type_into(&self, what: &str, xpath: &str, text: &str) {
        loop {
            let element = self.wait_for(what, xpath).await;
            let path = format!("/element/{element}/value");
            match self.command(Method::POST, &path, Some(json!({"text": text}))).await {
                Ok(_) => return,
                Err(e) => self.tick(&format!("typing into {what}"), &e).await,
            }
        }
    }

    /// Waits a polling interval, or fails if the budget is spent.
    async fn tick(&self, what: &str, last: &str) {
        if Instant::now() >= self.deadline {
            self.fail::<()>(&format!("waiting for {what} (budget {} s)", BUDGET.as_secs()), last).await;
        }
        tokio::time::sleep(POLL).await;
    }

    /// The page's visible text, or why it could not be read.
    async fn page_text(&self) -> String {
        let text = self.command(
            Method::POST,
            "/execute/sync",
            Some(json!({"script": "return document.body ? document.body.innerText : '';", "args": []})),
        );
        match text.await {
            Ok(text) => text.as_str().unwrap_or_default().to_owned(),
            Err(e) => format!("(page text unavailable: {e})"),
        }
    }

    /// Panics with what was awaited, the last error, a screenshot and the page's text.
    async fn fail<T>(&self, what: &str, last: &str) -> T {
        let url = self.command(Method::GET, "/url", None).await.unwrap_or_default();
        let shot = self.out_dir.join("failure.png");
        let shot = match self.save_screenshot(&shot).await {
            Ok(()) => shot.display().to_string(),
            Err(e) => format!("(no screenshot: {e})"),
        };
        let mut text = self.page_text().await;
        if text.len() > 6000 {
            let mut cut = 6000;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push_str("\n…");
        }
        panic!("console: failed {what}\nlast: {last}\nurl: {url}\nscreenshot: {shot}\npage text:\n{text}");
    }

    async fn save_screenshot(&self, path: &Path) -> Result<(), String> {
        let png = self.command(Method::GET, "/screenshot", None).await?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .map_err(|e| format!("screenshot not base64: {e}"))?;
        if !png.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Err(format!("screenshot is not a PNG ({} bytes)", png.len()));
        }
        std::fs::write(path, png).map_err(|e| format!("writing {}: {e}", path.display()))
    }

    async fn screenshot_to(&self, path: &Path) {
        if let Err(e) = self.save_screenshot(path).await {
            self.fail::<()>("taking a screenshot", &e).await;
        }
    }

    /// Ends the session (the browser closes) and checks that it did.
    async fn quit(mut self) {
        let closed = self.command(Method::DELETE, "", None).await;
        self.session = None;
        closed.expect("session closed");
    }
}

impl Drop for Browser {
    /// On the unhappy path the session is ended with a plain blocking request: Drop
    /// cannot await, and killing chromedriver alone could leave Chromium running.
    fn drop(&mut self) {
        let Some(session) = self.session.take() else { return };
        let address = SocketAddr::from(([127, 0, 0, 1], self.driver.port));
        let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_secs(2)) else { return };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let request = format!(
            "DELETE /session/{session} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        if stream.write_all(request.as_bytes()).is_ok() {
            let _ = stream.read_to_end(&mut Vec::new());
        }
    }
}
