//! A headless Chromium for the browser tests, driven with fantoccini through a
//! chromedriver that the test starts on a free port of 127.0.0.1 and kills at the end.
//! Every wait has the test's budget; a wait that runs out fails with a screenshot and the
//! page's text.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Map, Value};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const POLL: Duration = Duration::from_millis(100);

/// Stops the server when the test ends, however it ends.
pub struct StopServer(pub actix_web::dev::ServerHandle);

impl Drop for StopServer {
    fn drop(&mut self) {
        drop(self.0.stop(false));
    }
}

/// Panics unless Chromium and chromedriver are installed.
fn require_browser() {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER].into_iter().filter(|p| !Path::new(p).exists()).collect();
    assert!(missing.is_empty(), "{} missing (Debian packages: chromium chromium-driver)", missing.join(" and "));
}

/// A chromedriver process on a free port of 127.0.0.1, killed when dropped.
struct ChromeDriver {
    child: Child,
    port: u16,
}

impl ChromeDriver {
    async fn start(out_dir: &Path, deadline: Instant) -> ChromeDriver {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", out_dir.join("chromedriver.log").display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let mut driver = ChromeDriver { child, port };
        // Ready once it accepts connections: it listens only when it can take a session.
        let ready_by = deadline.min(Instant::now() + Duration::from_secs(15));
        loop {
            if let Ok(Some(status)) = driver.child.try_wait() {
                panic!("chromedriver exited at start ({status}); see {}", out_dir.join("chromedriver.log").display());
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return driver;
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
pub struct Browser {
    client: Client,
    open: bool,
    /// Names the test in failure messages.
    label: &'static str,
    out_dir: PathBuf,
    budget: Duration,
    deadline: Instant,
    // Dropped after `Browser::drop` has closed the session, then the browser's profile.
    _driver: ChromeDriver,
    _profile_dir: tempfile::TempDir,
}

impl Browser {
    /// A new browser whose work must end `budget` after `started`; page scripts run
    /// unless `javascript` is false. Failure screenshots go to `out_dir`.
    pub async fn open(
        label: &'static str,
        out_dir: PathBuf,
        started: Instant,
        budget: Duration,
        javascript: bool,
    ) -> Browser {
        require_browser();
        let deadline = started + budget;
        let driver = ChromeDriver::start(&out_dir, deadline).await;
        let profile_dir = tempfile::tempdir().expect("browser profile directory");
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
            format!("--user-data-dir={}", profile_dir.path().display()),
        ];
        let mut chrome = json!({"binary": CHROMIUM, "args": args});
        if !javascript {
            // 2: blocked, for the run that proves a page needs no JavaScript.
            chrome["prefs"] = json!({"profile.managed_default_content_settings.javascript": 2});
        }
        let capabilities: Map<String, Value> = serde_json::from_value(json!({
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"pageLoad": 30_000, "script": 10_000, "implicit": 0},
            "goog:chromeOptions": chrome,
        }))
        .expect("capabilities are an object");
        let mut builder = ClientBuilder::new(HttpConnector::new());
        let url = driver.url();
        let connecting = builder.capabilities(capabilities).connect(&url);
        let client = match tokio::time::timeout(Duration::from_secs(30), connecting).await {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => panic!("chromedriver could not start Chromium: {e}"),
            Err(_) => panic!("chromedriver did not start Chromium within 30 s"),
        };
        Browser { client, open: true, label, out_dir, budget, deadline, _driver: driver, _profile_dir: profile_dir }
    }

    /// The session, for commands that only some tests send (through `run`).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A WebDriver command, bounded in time: its answer, or what went wrong.
    pub async fn run<T>(&self, what: &str, command: impl Future<Output = Result<T, CmdError>>) -> Result<T, String> {
        // Commands may outlive the budget a little so that a failure can still be described.
        let left = self.deadline.saturating_duration_since(Instant::now());
        let within = left.clamp(Duration::from_secs(5), Duration::from_secs(30));
        match tokio::time::timeout(within, command).await {
            Ok(answer) => answer.map_err(|e| format!("{what}: {e}")),
            Err(_) => Err(format!("{what}: no answer within {within:?}")),
        }
    }

    pub async fn go(&self, url: &str) {
        if let Err(e) = self.run("opening a page", self.client.goto(url)).await {
            self.fail::<()>(&format!("opening {url}"), &e).await;
        }
    }

    /// The elements that `xpath` matches now.
    pub async fn find_all(&self, xpath: &str) -> Result<Vec<Element>, String> {
        self.run("finding elements", self.client.find_all(Locator::XPath(xpath))).await
    }

    async fn displayed(&self, element: &Element) -> bool {
        self.run("checking display", element.is_displayed()).await.unwrap_or(false)
    }

    /// The first displayed element that `xpath` matches, waited for.
    pub async fn wait_for(&self, what: &str, xpath: &str) -> Element {
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
    pub async fn wait_for_text(&self, what: &str, xpath: &str, needles: &[&str]) -> String {
        loop {
            let element = self.wait_for(what, xpath).await;
            let last = match self.run("reading text", element.text()).await {
                Ok(text) if !text.trim().is_empty() && needles.iter().all(|n| text.contains(n)) => return text,
                Ok(text) => format!("text so far: {text:?}"),
                Err(e) => e,
            };
            self.tick(what, &format!("{xpath}: {last}")).await;
        }
    }

    /// Waits until `xpath` matches no displayed element.
    pub async fn wait_gone(&self, what: &str, xpath: &str) {
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
    pub async fn click(&self, what: &str, xpath: &str) {
        loop {
            let element = self.wait_for(what, xpath).await;
            match self.run("clicking", element.click()).await {
                Ok(()) => return,
                Err(e) => self.tick(&format!("clicking {what}"), &e).await,
            }
        }
    }

    /// Types `text` into the input, as keystrokes.
    pub async fn type_into(&self, what: &str, xpath: &str, text: &str) {
        loop {
            let element = self.wait_for(what, xpath).await;
            match self.run("typing", element.send_keys(text)).await {
                Ok(()) => return,
                Err(e) => self.tick(&format!("typing into {what}"), &e).await,
            }
        }
    }

    /// Waits a polling interval, or fails if the budget is spent.
    pub async fn tick(&self, what: &str, last: &str) {
        if Instant::now() >= self.deadline {
            self.fail::<()>(&format!("waiting for {what} (budget {} s)", self.budget.as_secs()), last).await;
        }
        tokio::time::sleep(POLL).await;
    }

    /// The page's visible text, or why it could not be read.
    pub async fn page_text(&self) -> String {
        let script = "return document.body ? document.body.innerText : '';";
        match self.run("reading the page", self.client.execute(script, Vec::new())).await {
            Ok(text) => text.as_str().unwrap_or_default().to_owned(),
            Err(e) => format!("(page text unavailable: {e})"),
        }
    }

    /// Panics with what was awaited, the last error, a screenshot and the page's text.
    async fn fail<T>(&self, what: &str, last: &str) -> T {
        let url = self.run("reading the URL", self.client.current_url()).await.map(String::from).unwrap_or_default();
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
        let label = self.label;
        panic!("{label}: failed {what}\nlast: {last}\nurl: {url}\nscreenshot: {shot}\npage text:\n{text}");
    }

    async fn save_screenshot(&self, path: &Path) -> Result<(), String> {
        let png = self.run("taking a screenshot", self.client.screenshot()).await?;
        if !png.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Err(format!("screenshot is not a PNG ({} bytes)", png.len()));
        }
        std::fs::write(path, png).map_err(|e| format!("writing {}: {e}", path.display()))
    }

    pub async fn screenshot_to(&self, path: &Path) {
        if let Err(e) = self.save_screenshot(path).await {
            self.fail::<()>("taking a screenshot", &e).await;
        }
    }

    /// Ends the session (the browser closes) and checks that it did.
    pub async fn quit(mut self) {
        let closed = self.run("closing the session", self.client.clone().close()).await;
        self.open = false;
        closed.expect("session closed");
    }
}

impl Drop for Browser {
    /// On the unhappy path the session is ended from a thread of its own: Drop cannot
    /// await, and killing chromedriver alone could leave Chromium running.
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let client = self.client.clone();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                runtime.block_on(async {
                    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
                });
            });
        });
    }
}
