//! What an attacker or a careless client can send: sign-in limits and timing, writes of
//! callers that lost their right while the body arrived, slow bodies, metric labels,
//! HEAD, private database files (contract §1.1).

use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::Method;
use serde_json::json;
use spcm::auth::Permission;
use spcm::config::Settings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{backend_tests, expect_json, spawn_with, wait_until, TestApp, ADMIN_PASSWORD, PROFILES};

/// The value of the first metric line that starts with `name`; 0 when it is absent.
pub(crate) async fn metric(app: &TestApp, name: &str) -> f64 {
    let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines()
        .find(|line| line.starts_with(name))
        .map_or(0.0, |line| line.rsplit(' ').next().unwrap().parse().unwrap())
}

/// Polls `/metrics` until `name` reaches `at_least`; panics after five seconds.
async fn wait_for_metric(app: &TestApp, name: &str, at_least: f64) {
    wait_until(&format!("{name} to reach {at_least}"), Duration::from_secs(5), async || {
        metric(app, name).await >= at_least
    })
    .await;
}

fn basic(user: &str, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

/// A request whose headers and first `sent` bytes of `body` are on the wire; the rest
/// is the caller's to send (or not).
async fn start_request(app: &TestApp, head: &str, body: &[u8], sent: usize) -> TcpStream {
    let address = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = format!("{head}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len());
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(&body[..sent]).await.unwrap();
    stream
}

/// Reads the whole answer of a connection the server closes after it.
async fn read_answer(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("the server answers and closes the connection")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

/// The status of a page of the listing as `user`: a sign-in and a cheap read (a listing
/// without `limit` is expensive work, which a tenant runs only so many of at once).
async fn status_as(app: &TestApp, tenant: &str, user: &str, password: &str) -> u16 {
    let page = format!("{PROFILES}?limit=10");
    app.request_as(Method::GET, &page, tenant, user, password).send().await.unwrap().status().as_u16()
}

backend_tests! {
    async fn a_user_removed_while_its_body_arrives_writes_nothing(app) {
        app.add_user("default", "ops", "ops-pw", &[Permission::ProfileCreate]);
        let body = br#"{"name": "late", "defaultProfile": false}"#;
        let head = format!(
            "POST {PROFILES} HTTP/1.1\r\nHost: x\r\nConnection: close\r\ntenant: default\r\nAuthorization: Basic {}\r\n",
            basic("ops", "ops-pw")
        );
        let mut stream = start_request(&app, &head, body, 5).await;
        // The password was checked, then the login verified from memory: authorized.
        wait_for_metric(&app, "spcm_credential_cache_hits_total", 1.0).await;
        app.remove_user("default", "ops");
        stream.write_all(&body[5..]).await.unwrap();
        let answer = read_answer(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
        let listed = expect_json(app.list("name=late").await, 200).await;
        assert_eq!(listed["length"], 0, "nothing was written");
    }

    async fn a_token_revoked_while_its_import_arrives_imports_nothing(app) {
        let token = app.create_token("default", &[Permission::CatalogueWrite, Permission::CatalogueRead], None);
        let body = br#"{"services": [{"id": "S1", "name": "late"}]}"#;
        let head = format!(
            "PUT /v2/orgs/default/catalogue HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n"
        );
        let before = metric(&app, "spcm_db_queries_total").await;
        let mut stream = start_request(&app, &head, body, 5).await;
        wait_for_metric(&app, "spcm_db_queries_total", before + 1.0).await;
        app.revoke_tokens("default");
        stream.write_all(&body[5..]).await.unwrap();
        let answer = read_answer(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
        let reader = app.create_token("default", &[Permission::CatalogueRead], None);
        let services = expect_json(app.get_with_token("/v2/orgs/default/catalogue", &reader).await, 200).await;
        assert_eq!(services["services"], json!([]), "nothing was imported: {services}");
    }

    async fn unknown_tenants_and_users_cost_the_same_password_check_as_a_wrong_password(app) {
        app.add_user("default", "ops", "ops-pw", &[Permission::ProfileRead]);
        let cases = [
            ("default", "ops", "wrong", "a wrong password"),
            ("default", "nobody", "ops-pw", "an unknown user"),
            ("nowhere", "ops", "ops-pw", "an unknown tenant"),
            ("default", "ops\u{0}", "ops-pw", "a username with a NUL"),
            ("default", "ops ", "ops-pw", "a username with a trailing space"),
            ("default", "OPS", "ops-pw", "a username in another case"),
            ("default", "ops", "ops-pw\u{0}", "a password with a NUL"),
        ];
        for (tenant, user, password, what) in cases {
            let before = metric(&app, "spcm_password_checks_total").await;
            assert_eq!(status_as(&app, tenant, user, password).await, 401, "{what}");
            assert_eq!(metric(&app, "spcm_password_checks_total").await, before + 1.0, "{what} runs one argon2");
        }
        assert_eq!(metric(&app, "spcm_sign_in_failures_total").await, cases.len() as f64);
        assert_eq!(status_as(&app, "default", "ops", "ops-pw").await, 200);
        let before = metric(&app, "spcm_password_checks_total").await;
        assert_eq!(status_as(&app, "default", "ops", "ops-pw").await, 200);
        assert_eq!(metric(&app, "spcm_password_checks_total").await, before, "a known login runs none");
    }

    async fn control_characters_in_the_tenant_header_are_an_unknown_tenant(app) {
        let response = app
            .client
            .get(app.url(PROFILES))
            .basic_auth("admin", Some(ADMIN_PASSWORD))
            .header("tenant", "def\tault")
            .send()
            .await
            .unwrap();
        assert_eq!(expect_json(response, 401).await["errorCode"], 401);
    }

    async fn authorization_schemes_match_in_any_case(app) {
        let credentials = basic("admin", ADMIN_PASSWORD);
        for scheme in ["basic", "BASIC", "bAsIc"] {
            let response = app
                .client
                .get(app.url(PROFILES))
                .header("authorization", format!("{scheme} {credentials}"))
                .header("tenant", "default")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{scheme}");
        }
        let token = app.create_token("default", &[Permission::CatalogueRead], None);
        let response = app
            .client
            .get(app.url("/v2/orgs/default/base_profiles"))
            .header("authorization", format!("BEARER {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    async fn a_write_that_waits_for_a_lock_held_elsewhere_is_shed_not_left_hanging(app) {
        use diesel::connection::SimpleConnection;
        let mut holder = app.pool.get().unwrap();
        holder.batch_execute("BEGIN").unwrap();
        holder.batch_execute("UPDATE tenants SET version = version + 1 WHERE name = 'default'").unwrap();
        let started = Instant::now();
        let response = app
            .request(Method::POST, PROFILES)
            .json(&json!({"name": "blocked", "defaultProfile": false}))
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .expect("an answer, not a hang");
        let waited = started.elapsed();
        assert_eq!(response.headers()["retry-after"], "1");
        expect_json(response, 503).await;
        assert!(waited < Duration::from_secs(15), "shed after {waited:?}");
        holder.batch_execute("ROLLBACK").unwrap();
        assert_eq!(app.post_profile(&json!({"name": "blocked", "defaultProfile": false})).await.status(), 201);
    }

    async fn an_id_with_a_zero_fraction_is_that_id(app) {
        let id = app.create_profile("whole", false).await["id"].as_i64().unwrap();
        let found = app.request(Method::GET, &format!("{PROFILES}/{id}.0")).send().await.unwrap();
        assert_eq!(expect_json(found, 200).await["name"], "whole");
        assert_eq!(app.request(Method::GET, &format!("{PROFILES}/-409385766245.0")).send().await.unwrap().status(), 404);
        for bad in ["1.5", "1.", "1.0x", ".0"] {
            let refused = app.request(Method::GET, &format!("{PROFILES}/{bad}")).send().await.unwrap();
            assert_eq!(refused.status(), 400, "{bad}");
        }
    }

    async fn head_answers_every_get_route_without_a_body(app) {
        let id = app.create_profile("h", true).await["id"].as_i64().unwrap();
        for path in [PROFILES.to_owned(), format!("{PROFILES}/{id}")] {
            let get = app.request(Method::GET, &path).send().await.unwrap();
            let head = app.request(Method::HEAD, &path).send().await.unwrap();
            assert_eq!(head.status(), 200, "{path}");
            assert_eq!(head.headers()["content-type"], get.headers()["content-type"]);
            assert_eq!(head.headers().get("x-total-count"), get.headers().get("x-total-count"));
            assert!(head.bytes().await.unwrap().is_empty(), "HEAD {path} has no body");
        }
        let missing = app.request(Method::HEAD, &format!("{PROFILES}/999999")).send().await.unwrap();
        assert_eq!(missing.status(), 404);
        let token = app.create_token("default", &[Permission::CatalogueRead], None);
        for path in ["/v2/orgs/default/base_profiles", "/v2/orgs/default/catalogue", "/health/live", "/metrics"] {
            let head = app.client.head(app.url(path)).bearer_auth(&token).send().await.unwrap();
            assert_eq!(head.status(), 200, "{path}");
            assert!(head.bytes().await.unwrap().is_empty(), "HEAD {path} has no body");
        }
        let refused = app.client.patch(app.url(PROFILES)).send().await.unwrap();
        assert_eq!(refused.headers()["allow"], "GET, HEAD, POST, PUT, DELETE");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_are_limited_per_account_and_address_then_allowed_again() {
    let settings = Settings { signin_account_limit: 3, signin_window_secs: 2, ..Settings::default() };
    let app = spawn_with(settings).await;
    app.add_user("default", "ops", "ops-pw", &[Permission::ProfileRead]);
    for _ in 0..3 {
        assert_eq!(status_as(&app, "default", "admin", "wrong").await, 401);
    }
    let refused = app.request_as(Method::GET, PROFILES, "default", "admin", "wrong").send().await.unwrap();
    let retry_after: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after), "Retry-After {retry_after}");
    let body = expect_json(refused, 429).await;
    assert_eq!(body, json!({"message": "too many failed sign-ins; retry later", "errorCode": 429}));

    let checks = metric(&app, "spcm_password_checks_total").await;
    assert_eq!(
        status_as(&app, "default", "admin", ADMIN_PASSWORD).await,
        429,
        "even the right password waits here, as long as it was not verified before"
    );
    assert_eq!(metric(&app, "spcm_password_checks_total").await, checks, "no password is checked meanwhile");
    assert_eq!(status_as(&app, "default", "ops", "ops-pw").await, 200, "other accounts are not affected");
    assert_eq!(metric(&app, "spcm_sign_in_failures_total").await, 3.0, "refusals do not count as failures");
    assert!(metric(&app, "spcm_sign_in_throttled_total").await >= 2.0);

    wait_until("the account's window at this address to pass", Duration::from_secs(10), async || {
        status_as(&app, "default", "admin", ADMIN_PASSWORD).await != 429
    })
    .await;
    assert_eq!(status_as(&app, "default", "admin", ADMIN_PASSWORD).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_first_requests_with_new_credentials_checks_the_password_once() {
    let app = spawn_with(Settings::default()).await;
    app.add_user("default", "burst", "burst-Secret-1", &[Permission::ProfileRead]);
    let before = metric(&app, "spcm_password_checks_total").await;
    let burst = (0..16).map(|_| status_as(&app, "default", "burst", "burst-Secret-1"));
    let statuses = futures_util::future::join_all(burst).await;
    assert_eq!(statuses, vec![200; 16]);
    assert_eq!(metric(&app, "spcm_password_checks_total").await - before, 1.0, "one argon2 run for the burst");

    // The same burst with a wrong password: every request is refused, after one check.
    // Each refusal still counts towards the sign-in limits.
    let before = metric(&app, "spcm_password_checks_total").await;
    let failures = metric(&app, "spcm_sign_in_failures_total").await;
    let burst = (0..4).map(|_| status_as(&app, "default", "burst", "wrong-Secret-1"));
    let statuses = futures_util::future::join_all(burst).await;
    assert_eq!(statuses, vec![401; 4]);
    assert_eq!(metric(&app, "spcm_password_checks_total").await - before, 1.0, "one argon2 run for the refusals");
    assert_eq!(metric(&app, "spcm_sign_in_failures_total").await - failures, 4.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_wrong_passwords_below_the_limits_gets_few_password_checks() {
    // Limits out of the way: only the pacing of the flooded account bounds the flood.
    let settings = Settings {
        signin_account_limit: 1_000_000,
        signin_address_limit: 1_000_000,
        signin_suspect_checks_per_sec: 4,
        ..Settings::default()
    };
    let app = spawn_with(settings).await;
    app.add_tenant("other");
    app.add_user("other", "target", "the-right-one-1", &[Permission::ProfileRead]);
    app.add_user("default", "ops", "ops-Secret-1", &[Permission::ProfileRead]);
    // A login verified before the flood stays fast: it needs no password check.
    assert_eq!(status_as(&app, "default", "admin", ADMIN_PASSWORD).await, 200);
    assert_eq!(status_as(&app, "other", "target", "wrong").await, 401, "the first failure makes the account suspect");

    let checks_before = metric(&app, "spcm_password_checks_total").await;
    let started = Instant::now();
    let flood = (0..16).map(|_| async {
        let mut statuses = Vec::new();
        while started.elapsed() < Duration::from_secs(3) {
            statuses.push(status_as(&app, "other", "target", "wrong").await);
        }
        statuses
    });
    let victim = async {
        let mut slowest = Duration::ZERO;
        while started.elapsed() < Duration::from_secs(3) {
            let at = Instant::now();
            assert_eq!(status_as(&app, "default", "admin", ADMIN_PASSWORD).await, 200);
            slowest = slowest.max(at.elapsed());
        }
        // Another account's first sign-in is not paced with the flooded one.
        let at = Instant::now();
        assert_eq!(status_as(&app, "default", "ops", "ops-Secret-1").await, 200);
        slowest.max(at.elapsed())
    };
    let (statuses, slowest) = tokio::join!(futures_util::future::join_all(flood), victim);
    let statuses: Vec<u16> = statuses.into_iter().flatten().collect();
    let elapsed = started.elapsed().as_secs_f64();
    // Less the one check of the victim's other account.
    let checks = metric(&app, "spcm_password_checks_total").await - checks_before - 1.0;
    assert!(checks <= 4.0 * elapsed + 6.0, "{checks} password checks in {elapsed:.1} s at 4 per second");
    assert!(statuses.iter().all(|s| *s == 401), "paced, never refused: {statuses:?}");
    // Every check that ran answered 401s; requests that came while the same login's
    // check ran shared its answer.
    assert!(checks >= 1.0 && checks <= statuses.len() as f64, "{checks} checks for {} 401s", statuses.len());
    // Each request waits for its turn: 16 connections send a trickle, not thousands.
    assert!(statuses.len() as f64 <= 4.0 * elapsed + 6.0, "{} flood requests", statuses.len());
    assert!(slowest < Duration::from_millis(500), "the victim's slowest GET took {slowest:?}");
    assert!(metric(&app, "spcm_sign_in_paced_total").await >= statuses.len() as f64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_does_not_arrive_in_time_is_408_and_frees_its_slot() {
    let app = spawn_with(Settings { body_timeout_secs: 1, max_in_flight: 1, ..Settings::default() }).await;
    app.create_profile("warm", false).await;
    let head = format!(
        "POST {PROFILES} HTTP/1.1\r\nHost: x\r\ntenant: default\r\nAuthorization: Basic {}\r\n",
        basic("admin", ADMIN_PASSWORD)
    );
    let body = br#"{"name": "never", "defaultProfile": false}"#;
    let started = Instant::now();
    let mut stream = start_request(&app, &head, body, 3).await;
    let answer = read_answer(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
    assert!(answer.contains(r#""errorCode":408"#), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5), "answered after the timeout, not later");
    assert_eq!(app.list("").await.status(), 200, "the only slot is free again");
    assert_eq!(expect_json(app.list("name=never").await, 200).await["length"], 0);

    let token = app.create_token("default", &[Permission::CatalogueWrite], None);
    let head = format!("PUT /v2/orgs/default/catalogue HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n");
    let mut stream = start_request(&app, &head, b"{}", 1).await;
    let answer = read_answer(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.ends_with("\"Request Timeout\""), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_methods_do_not_grow_the_metrics() {
    let app = spawn_with(Settings::default()).await;
    for i in 0..40 {
        let method = Method::from_bytes(format!("MADEUP{i}").as_bytes()).unwrap();
        let response = app.client.request(method, app.url(PROFILES)).send().await.unwrap();
        assert_eq!(response.status(), 405);
    }
    let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(!text.contains("MADEUP"), "{text}");
    let line = text
        .lines()
        .find(|l| {
            l.starts_with(r#"spcm_http_requests_total{method="other",route="/pcc/spcm/provisionProfile",status="405"}"#)
        })
        .unwrap_or_else(|| panic!("made-up methods count as other: {text}"));
    assert!(line.ends_with(" 40"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_with(Settings::default()).await;
    app.create_profile("written", false).await;
    let path = app.db.url.trim_start_matches("sqlite://").to_owned();
    let mut seen = 0;
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{path}{suffix}");
        if let Ok(meta) = std::fs::metadata(&file) {
            assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{file}");
            seen += 1;
        }
    }
    assert!(seen >= 2, "the database and its write-ahead log exist");
}

#[test]
fn a_database_error_names_its_cause_once() {
    let err = spcm::store::StoreError::Database(diesel::result::Error::NotFound);
    let chain = err.cause_chain();
    assert_eq!(chain.matches("NotFound").count() + chain.matches("not found").count(), 1, "{chain}");
}
