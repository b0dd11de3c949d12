//! `spawn_app`: a real server on a random port over a fresh database of the chosen
//! backend, plus one helper per endpoint. Databases on PostgreSQL and MariaDB are
//! created per test and dropped when the test ends.

use std::io::Write;

use diesel::connection::SimpleConnection;
use diesel::Connection;
use reqwest::{Method, RequestBuilder, Response};
use secrecy::SecretString;
use serde_json::{json, Value};
use spcm::auth::{hash_password, Permission, PermissionSet};
use spcm::config::Settings;
use spcm::domain::TenantName;
use spcm::startup::{Application, Bootstrap};
use spcm::store::{self, Authority, DbPool};

pub const ADMIN_PASSWORD: &str = "admin-Secret-1";
pub const PROFILES: &str = "/pcc/spcm/provisionProfile";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
    Mysql,
}

impl TestBackend {
    fn env_var(self) -> &'static str {
        match self {
            TestBackend::Sqlite => "",
            TestBackend::Postgres => "SPCM_TEST_POSTGRES_URL",
            TestBackend::Mysql => "SPCM_TEST_MYSQL_URL",
        }
    }

    fn compiled_in(self) -> bool {
        match self {
            TestBackend::Sqlite => true,
            TestBackend::Postgres => cfg!(feature = "postgres"),
            TestBackend::Mysql => cfg!(feature = "mysql"),
        }
    }

    /// The server URL to create test databases on, or why there is none.
    fn server_url(self) -> Result<String, String> {
        let var = self.env_var();
        let url = std::env::var(var).map_err(|_| format!("{var} is not set"))?;
        if !self.compiled_in() {
            return Err(format!("{var} is set but this build lacks the backend's cargo feature"));
        }
        Ok(url)
    }
}

/// A database that exists for one test.
pub struct TestDatabase {
    pub url: String,
    backend: TestBackend,
    /// For SQLite: the directory holding the file. For servers: the admin URL and name.
    _dir: Option<tempfile::TempDir>,
    server: Option<(String, String)>,
}

fn unique_name() -> String {
    format!("spcm_test_{}", uuid::Uuid::new_v4().simple())
}

/// `scheme://user@host:port/db?x` with the database path replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl TestDatabase {
    fn create(backend: TestBackend) -> Result<TestDatabase, String> {
        match backend {
            TestBackend::Sqlite => {
                let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
                let url = format!("sqlite://{}", dir.path().join("spcm.db").display());
                Ok(TestDatabase { url, backend, _dir: Some(dir), server: None })
            }
            TestBackend::Postgres | TestBackend::Mysql => {
                let server = backend.server_url()?;
                let name = unique_name();
                run_on_server(backend, &server, &format!("CREATE DATABASE {name}"))?;
                Ok(TestDatabase {
                    url: with_database(&server, &name),
                    backend,
                    _dir: None,
                    server: Some((server, name)),
                })
            }
        }
    }
}

fn run_on_server(backend: TestBackend, server: &str, sql: &str) -> Result<(), String> {
    match backend {
        #[cfg(feature = "postgres")]
        TestBackend::Postgres => diesel::PgConnection::establish(server)
            .map_err(|e| e.to_string())?
            .batch_execute(sql)
            .map_err(|e| e.to_string()),
        #[cfg(feature = "mysql")]
        TestBackend::Mysql => diesel::MysqlConnection::establish(server)
            .map_err(|e| e.to_string())?
            .batch_execute(sql)
            .map_err(|e| e.to_string()),
        _ => Err(format!("cannot run SQL on {backend:?} in this build: {sql}")),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.server {
            let sql = match self.backend {
                TestBackend::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                _ => format!("DROP DATABASE IF EXISTS {name}"),
            };
            if let Err(err) = run_on_server(self.backend, server, &sql) {
                let _ = writeln!(std::io::stderr(), "could not drop test database {name}: {err}");
            }
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub pool: DbPool,
    /// The server's own pool: its query counter is what the service ran.
    pub server_pool: DbPool,
    server: actix_web::dev::ServerHandle,
    // Dropped last: the database outlives the server and the pool. Shared by the
    // instances of `another_instance`.
    pub db: std::sync::Arc<TestDatabase>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stops accepting at once; the pools go with the server's workers.
        drop(self.server.stop(false));
    }
}

/// The app on a fresh database of `backend`. Panics when the backend is unavailable:
/// a test variant that cannot run is ignored at build time (see `backend_tests!`),
/// never passed without running.
pub async fn spawn_app(backend: TestBackend) -> TestApp {
    spawn_on(create_database(backend), Settings::default()).await
}

/// The app on a fresh database of `backend` with some settings changed.
pub async fn spawn_app_with(backend: TestBackend, settings: Settings) -> TestApp {
    spawn_on(create_database(backend), settings).await
}

pub fn create_database(backend: TestBackend) -> TestDatabase {
    TestDatabase::create(backend).unwrap_or_else(|why| panic!("{backend:?} backend required but unavailable: {why}"))
}

/// An app on `backend` whose database connections all pass through `proxy`, so that
/// a test can cut the database away and bring it back.
pub async fn spawn_through_proxy(backend: TestBackend, settings: Settings) -> (TestApp, crate::faults::Proxy) {
    let db = create_database(backend);
    let url = db.url.clone();
    let (prefix, rest) = url.split_once("://").expect("scheme");
    let (credentials, rest) = rest.rsplit_once('@').map_or(("", rest), |(c, r)| (c, r));
    let (authority, path) = rest.split_once('/').expect("database path");
    let proxy = crate::faults::Proxy::start(authority.to_owned()).await;
    let at = if credentials.is_empty() { String::new() } else { format!("{credentials}@") };
    let proxied = format!("{prefix}://{at}127.0.0.1:{}/{path}", proxy.port());
    (spawn_on_url(db.into(), &proxied, settings).await, proxy)
}

/// A SQLite app with some settings changed (pool size, body limit…).
pub async fn spawn_with(settings: Settings) -> TestApp {
    spawn_on(create_database(TestBackend::Sqlite), settings).await
}

async fn spawn_on(db: TestDatabase, settings: Settings) -> TestApp {
    let url = db.url.clone();
    spawn_on_url(db.into(), &url, settings).await
}

async fn spawn_on_url(db: std::sync::Arc<TestDatabase>, url: &str, settings: Settings) -> TestApp {
    let settings = Settings {
        database_url: url.to_owned(),
        bind: "127.0.0.1:0".into(),
        workers: 2,
        pool_size: settings.pool_size.min(8),
        ..settings
    };
    let bootstrap = Bootstrap { tenant: "default".into(), password: Some(SecretString::from(ADMIN_PASSWORD)) };
    let app = Application::build(settings.clone(), bootstrap).await.expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let server = app.server_handle();
    let server_pool = app.pool();
    tokio::spawn(app.run_until_stopped());
    let pool = DbPool::new(&db.url, 2, settings.pool_timeout()).expect("test pool");
    TestApp { address, client: reqwest::Client::new(), pool, server_pool, server, db }
}

impl TestApp {
    /// A second server on the same database, as behind a load balancer.
    pub async fn another_instance(&self) -> TestApp {
        let url = self.db.url.clone();
        spawn_on_url(self.db.clone(), &url, Settings::default()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A request as `user:password` of `tenant`.
    pub fn request_as(&self, method: Method, path: &str, tenant: &str, user: &str, password: &str) -> RequestBuilder {
        self.client.request(method, self.url(path)).basic_auth(user, Some(password)).header("tenant", tenant)
    }

    /// A request as the bootstrap admin of tenant `default`.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.request_as(method, path, "default", "admin", ADMIN_PASSWORD)
    }

    pub async fn send_json(&self, method: Method, path: &str, body: &Value) -> Response {
        self.request(method, path).json(body).send().await.expect("request sent")
    }

    pub async fn post_profile(&self, body: &Value) -> Response {
        self.send_json(Method::POST, PROFILES, body).await
    }

    /// Creates a profile and returns its body; panics unless 201.
    pub async fn create_profile(&self, name: &str, default_profile: bool) -> Value {
        let response = self.post_profile(&json!({"name": name, "defaultProfile": default_profile})).await;
        assert_eq!(response.status(), 201, "creating {name}");
        response.json().await.expect("profile JSON")
    }

    pub async fn get_profile(&self, id: i64) -> Response {
        self.request(Method::GET, &format!("{PROFILES}/{id}")).send().await.expect("request sent")
    }

    pub async fn put_profile(&self, id: i64, body: &Value) -> Response {
        self.send_json(Method::PUT, &format!("{PROFILES}/{id}"), body).await
    }

    pub async fn delete_profile(&self, id: i64) -> Response {
        self.request(Method::DELETE, &format!("{PROFILES}/{id}")).send().await.expect("request sent")
    }

    /// `GET /pcc/spcm/provisionProfile?<query>`.
    pub async fn list(&self, query: &str) -> Response {
        let path = if query.is_empty() { PROFILES.to_owned() } else { format!("{PROFILES}?{query}") };
        self.request(Method::GET, &path).send().await.expect("request sent")
    }

    /// The names of the tenant's default profiles, straight from the listing.
    pub async fn default_names(&self) -> Vec<String> {
        self.names("defaultProfile=true").await
    }

    /// The names of the profiles the list answers with for `query`, in its order.
    pub async fn names(&self, query: &str) -> Vec<String> {
        let body: Value = self.list(query).await.json().await.expect("list JSON");
        body["provisioningProfileDTOList"]
            .as_array()
            .expect("list")
            .iter()
            .map(|p| p["name"].as_str().expect("name").to_owned())
            .collect()
    }

    pub fn add_tenant(&self, name: &str) {
        let mut conn = self.pool.get().expect("connection");
        store::tenants::create(&mut conn, &TenantName::parse(name).expect("tenant name")).expect("tenant created");
    }

    pub fn add_user(&self, tenant: &str, username: &str, password: &str, permissions: &[Permission]) {
        let mut conn = self.pool.get().expect("connection");
        let tenant_id = store::tenants::find_id(&mut conn, &TenantName::parse(tenant).expect("name"))
            .expect("query")
            .expect("tenant exists");
        let hash = hash_password(&SecretString::from(password)).expect("hash");
        let granted: PermissionSet = permissions.iter().copied().collect();
        store::users::add(&mut conn, &self.pool.write_scope(tenant_id, Authority::Cli), username, &hash, granted)
            .expect("user added");
    }

    /// A bearer token of `tenant` with `permissions`, expiring at `expires_at` (Unix seconds).
    pub fn create_token(&self, tenant: &str, permissions: &[Permission], expires_at: Option<i64>) -> String {
        use secrecy::ExposeSecret;
        let mut conn = self.pool.get().expect("connection");
        let tenant_id = store::tenants::find_id(&mut conn, &TenantName::parse(tenant).expect("name"))
            .expect("query")
            .expect("tenant exists");
        let token = spcm::auth::generate_token();
        let granted: PermissionSet = permissions.iter().copied().collect();
        let digest = spcm::auth::token_digest(&token);
        store::tokens::create(
            &mut conn,
            &self.pool.write_scope(tenant_id, Authority::Cli),
            &digest,
            granted,
            0,
            expires_at,
        )
        .expect("token");
        token.expose_secret().to_owned()
    }

    pub fn revoke_tokens(&self, tenant: &str) {
        let mut conn = self.pool.get().expect("connection");
        let tenant_id = store::tenants::find_id(&mut conn, &TenantName::parse(tenant).expect("name"))
            .expect("query")
            .expect("tenant exists");
        for token in store::tokens::list(&mut conn, tenant_id).expect("list") {
            store::tokens::revoke(&mut conn, &self.pool.write_scope(tenant_id, Authority::Cli), token.id)
                .expect("revoke");
        }
    }

    /// `GET path` with a bearer token.
    pub async fn get_with_token(&self, path: &str, token: &str) -> Response {
        self.client.get(self.url(path)).bearer_auth(token).send().await.expect("request sent")
    }

    /// `PUT /v2/orgs/{org}/catalogue` with a bearer token.
    pub async fn import_catalogue(&self, org: &str, token: &str, document: &Value) -> Response {
        let url = self.url(&format!("/v2/orgs/{org}/catalogue"));
        self.client.put(url).bearer_auth(token).json(document).send().await.expect("request sent")
    }

    pub fn set_password(&self, tenant: &str, username: &str, password: &str) {
        let mut conn = self.pool.get().expect("connection");
        let tenant_id = store::tenants::find_id(&mut conn, &TenantName::parse(tenant).expect("name"))
            .expect("query")
            .expect("tenant exists");
        let hash = hash_password(&SecretString::from(password)).expect("hash");
        store::users::set_password(&mut conn, &self.pool.write_scope(tenant_id, Authority::Cli), username, &hash)
            .expect("update");
    }

    pub fn remove_user(&self, tenant: &str, username: &str) {
        let mut conn = self.pool.get().expect("connection");
        let tenant_id = store::tenants::find_id(&mut conn, &TenantName::parse(tenant).expect("name"))
            .expect("query")
            .expect("tenant exists");
        store::users::remove(&mut conn, &self.pool.write_scope(tenant_id, Authority::Cli), username, true)
            .expect("delete");
    }
}

/// One `#[tokio::test]` per backend of the list, each calling `$run(backend)`. The
/// PostgreSQL and MariaDB variants are ignored, with the reason, when the build did not
/// find their server configured (`build.rs`); with `SPCM_TEST_ALL_BACKENDS=1` none is
/// ignored, so an unavailable backend fails. `requires cfg = "why"` also ignores every
/// variant while that cfg is off (for a broker, say), unless its backend already is.
macro_rules! backend_variants {
    ($run:ident; [] $($requires:tt)*) => {};
    ($run:ident; [$first:ident $(, $rest:ident)*] $($requires:tt)*) => {
        $crate::helpers::backend_variants!(@ $first, $run $($requires)*);
        $crate::helpers::backend_variants!($run; [$($rest),*] $($requires)*);
    };
    (@ sqlite, $run:ident $(, $cfg:ident, $why:literal)?) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        $(#[cfg_attr(not($cfg), ignore = $why)])?
        async fn sqlite() {
            $run($crate::helpers::TestBackend::Sqlite).await;
        }
    };
    (@ postgres, $run:ident $(, $cfg:ident, $why:literal)?) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        $(#[cfg_attr(all(not($cfg), spcm_test_postgres), ignore = $why)])?
        #[cfg_attr(all(not(spcm_test_postgres), feature = "postgres"), ignore = "SPCM_TEST_POSTGRES_URL is not set")]
        #[cfg_attr(all(not(spcm_test_postgres), not(feature = "postgres")), ignore = "built without the postgres feature")]
        async fn postgres() {
            $run($crate::helpers::TestBackend::Postgres).await;
        }
    };
    (@ mysql, $run:ident $(, $cfg:ident, $why:literal)?) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        $(#[cfg_attr(all(not($cfg), spcm_test_mysql), ignore = $why)])?
        #[cfg_attr(all(not(spcm_test_mysql), feature = "mysql"), ignore = "SPCM_TEST_MYSQL_URL is not set")]
        #[cfg_attr(all(not(spcm_test_mysql), not(feature = "mysql")), ignore = "built without the mysql feature")]
        async fn mysql() {
            $run($crate::helpers::TestBackend::Mysql).await;
        }
    };
}
pub(crate) use backend_variants;

/// Each test body once per listed backend, given the backend:
/// `on [postgres, mysql] (requires cfg = "why")?; async fn name(backend) { … }` makes
/// `mod name { postgres, mysql }`. For tests that start their own app or database.
macro_rules! backend_matrix {
    (on $backends:tt $(requires $cfg:ident = $why:literal)?; $($tests:tt)*) => {
        $crate::helpers::backend_matrix!(@tests $backends [$(, $cfg, $why)?] $($tests)*);
    };
    (@tests $backends:tt [$($requires:tt)*]) => {};
    (@tests $backends:tt [$($requires:tt)*]
     $(#[$meta:meta])* async fn $name:ident($b:ident) $body:block $($rest:tt)*) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($b: $crate::helpers::TestBackend) $body

            $crate::helpers::backend_variants!(run; $backends $($requires)*);
        }
        $crate::helpers::backend_matrix!(@tests $backends [$($requires)*] $($rest)*);
    };
}
pub(crate) use backend_matrix;

/// Runs each test body once per backend on a fresh app: `mod name { sqlite, postgres, mysql }`.
macro_rules! backend_tests {
    ($( $(#[$meta:meta])* async fn $name:ident($app:ident) $body:block )*) => {
        $(
            $(#[$meta])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($app: $crate::helpers::TestApp) $body

                async fn on(backend: $crate::helpers::TestBackend) {
                    run($crate::helpers::spawn_app(backend).await).await;
                }

                $crate::helpers::backend_variants!(on; [sqlite, postgres, mysql]);
            }
        )*
    };
}
pub(crate) use backend_tests;

/// Each test body once per backend, on an app with `settings`.
macro_rules! backend_tests_with {
    ($settings:expr; $( async fn $name:ident($app:ident) $body:block )*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($app: $crate::helpers::TestApp) $body

                async fn on(backend: $crate::helpers::TestBackend) {
                    run($crate::helpers::spawn_app_with(backend, $settings).await).await;
                }

                $crate::helpers::backend_variants!(on; [sqlite, postgres, mysql]);
            }
        )*
    };
}
pub(crate) use backend_tests_with;

/// Asserts the status and returns the JSON body.
pub async fn expect_json(response: Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let body = response.text().await.expect("body");
    assert_eq!(actual, status, "unexpected status; body: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {body}"))
}

/// An HTTP/1.1 request as bytes, as `user:password` of `tenant`, with `headers` (give
/// `Content-Length` there: it may deliberately differ from the body sent).
pub fn raw_request(
    method: &str,
    path: &str,
    (tenant, user, password): (&str, &str, &str),
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    use base64::Engine;
    let credentials = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {credentials}\r\n");
    head.push_str(&format!("tenant: {tenant}\r\n"));
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A response read off a raw connection.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl RawResponse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {self:?}"))
    }
}

/// Sends `request` as raw bytes on a connection of its own and returns the response.
/// The response is read while the request is still being written, so an answer given
/// before the whole request arrived (to a refused head or a refused body) is read even
/// when the server then drops the connection.
pub async fn raw_exchange(app: &TestApp, request: Vec<u8>) -> RawResponse {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.address.trim_start_matches("http://");
    let stream = tokio::net::TcpStream::connect(address).await.expect("connected");
    let (mut reader, mut writer) = stream.into_split();
    // Writing fails once the server has answered and closed: that is expected here.
    let writing = tokio::spawn(async move {
        let _ = writer.write_all(&request).await;
        writer
    });
    let reading = async {
        let mut received = Vec::new();
        let mut buffer = [0u8; 8192];
        loop {
            if let Some(length) = complete_response_length(&received) {
                received.truncate(length);
                return received;
            }
            match reader.read(&mut buffer).await {
                Ok(0) => return received,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
                Err(err) if received.is_empty() => panic!("no response: {err}"),
                Err(_) => return received,
            }
        }
    };
    let received =
        tokio::time::timeout(std::time::Duration::from_secs(20), reading).await.expect("a response within 20 s");
    writing.abort();
    let text = String::from_utf8_lossy(&received).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no complete response head: {text:?}"));
    let status = head
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP/1.1 status line: {head:?}"));
    RawResponse { status, head: head.to_owned(), body: body.to_owned() }
}

/// The length of the first complete HTTP/1.1 response in `bytes` (a head and the body
/// its `Content-Length` announces), if it has all arrived.
fn complete_response_length(bytes: &[u8]) -> Option<usize> {
    let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&bytes[..head_end]).to_ascii_lowercase();
    let body: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(0, |value| value.trim().parse().expect("a numeric Content-Length"));
    (bytes.len() >= head_end + body).then_some(head_end + body)
}

/// Polls `condition` until it holds; panics naming what was awaited once `within` has
/// passed. For readiness that a test would otherwise guess with a fixed sleep.
pub async fn wait_until(what: &str, within: std::time::Duration, mut condition: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + within;
    while !condition().await {
        assert!(std::time::Instant::now() < deadline, "waited {within:?} for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// `wait_until` for code that cannot await (a child process, a terminal's settings).
pub fn wait_until_blocking(what: &str, within: std::time::Duration, mut condition: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + within;
    while !condition() {
        assert!(std::time::Instant::now() < deadline, "waited {within:?} for {what}");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
