//! The Swagger UI as a user meets it: a real headless Chromium, driven through
//! chromedriver's W3C WebDriver HTTP API, opens `/swagger-ui/`, authorizes with HTTP
//! Basic and the `tenant` key, tries the profile listing and reads the live response.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian packages `chromium`
//! and `chromium-driver`). When the build does not find them (`build.rs`) the test is
//! ignored, unless `SPCM_TEST_BROWSER=1` (as CI sets it) makes their absence a failure.
//! The last screenshot is kept under `target/tmp/swagger-ui/`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{json, Value};
use spcm::config::Settings;
use spcm::startup::{Application, Bootstrap};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ADMIN_PASSWORD: &str = "admin-Secret-1";
const PROFILES: &str = "/pcc/spcm/provisionProfile";
/// The key under which W3C WebDriver hands out element references.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// All the browser work (driver start to last screenshot) must fit in this.
const BUDGET: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(100);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(spcm_test_browser),
    ignore = "chromium or chromedriver was missing when the tests were built; SPCM_TEST_BROWSER=1 requires them"
)]
async fn swagger_ui_authorizes_and_lists_profiles_in_a_real_browser() {
    require_browser();
    let started = Instant::now();
    let deadline = started + BUDGET;
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

    let driver = ChromeDriver::start(&out_dir, deadline).await;
    let profile_dir = tempfile::tempdir().expect("browser profile directory");
    let browser = Browser::open(driver, profile_dir.path(), out_dir.clone(), deadline).await;

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
    browser.script("arguments[0].scrollIntoView({block: 'center'});", vec![json!({ ELEMENT: live_element })]).await;
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

/// Panics unless Chromium and chromedriver are installed.
fn require_browser() {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER].into_iter().filter(|p| !Path::new(p).exists()).collect();
    assert!(missing.is_empty(), "{} missing (Debian packages: chromium chromium-driver)", missing.join(" and "));
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
    async fn open(driver: ChromeDriver, profile_dir: &Path, out_dir: PathBuf, deadline: Instant) -> Browser {
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
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
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

    async fn script(&self, script: &str, args: Vec<Value>) -> Value {
        let result = self.command(Method::POST, "/execute/sync", Some(json!({"script": script, "args": args}))).await;
        match result {
            Ok(value) => value,
            Err(e) => self.fail("running a script", &e).await,
        }
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
        panic!("Swagger UI: failed {what}\nlast: {last}\nurl: {url}\nscreenshot: {shot}\npage text:\n{text}");
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
