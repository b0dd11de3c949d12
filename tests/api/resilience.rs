//! Overload, metrics, graceful shutdown, hostile input and the logging of 500s
//! (the 500 and 503 answers).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::Connection;
use reqwest::Method;
use serde_json::{json, Value};
use spcm::config::Settings;

use crate::helpers::{
    backend_tests, expect_json, raw_exchange, raw_request, spawn_app, spawn_with, wait_until, TestBackend,
    ADMIN_PASSWORD, PROFILES,
};

const ADMIN: (&str, &str, &str) = ("default", "admin", ADMIN_PASSWORD);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_the_in_flight_bound_requests_are_shed_at_once() {
    let app = spawn_with(Settings { max_in_flight: 1, pool_timeout_ms: 1500, ..Settings::default() }).await;
    app.create_profile("warm", false).await;
    let mut blocker = diesel::SqliteConnection::establish(app.db.url.trim_start_matches("sqlite://")).unwrap();
    blocker.batch_execute("BEGIN IMMEDIATE").unwrap();

    // One write waits for the lock and holds the only slot.
    let slow = tokio::spawn({
        let request = app.request(Method::POST, PROFILES).json(&json!({"name": "slow", "defaultProfile": false}));
        async move { request.send().await.unwrap().status().as_u16() }
    });
    let pool = app.server_pool.clone();
    wait_until("the write to be admitted and hold a connection", Duration::from_secs(10), async || {
        let (open, idle) = pool.state();
        open > idle
    })
    .await;
    let started = Instant::now();
    let shed = app.list("").await;
    let took = started.elapsed();
    assert_eq!(shed.headers()["retry-after"], "1");
    assert_eq!(expect_json(shed, 503).await, json!({"message": "request rejected due to overload", "status": "error"}));
    assert!(took < Duration::from_millis(500), "shed at once, took {took:?}");
    let live = app.client.get(app.url("/health/live")).send().await.unwrap();
    assert_eq!(live.status(), 200, "health checks are never shed");

    blocker.batch_execute("ROLLBACK").unwrap();
    assert_eq!(slow.await.unwrap(), 201, "the admitted request completes");
    assert_eq!(app.list("").await.status(), 200, "the slot is free again");

    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains(r#"spcm_requests_shed_total{method="GET",route="unmatched"} 1"#)
            || metrics.contains(r#"spcm_requests_shed_total{method="GET",route="/pcc/spcm/provisionProfile"} 1"#),
        "{metrics}"
    );
}

backend_tests! {
    async fn metrics_count_requests_latency_pool_and_caches(app) {
        let id = app.create_profile("m", false).await["id"].as_i64().unwrap();
        for _ in 0..3 {
            assert_eq!(app.get_profile(id).await.status(), 200);
        }
        assert_eq!(app.get_profile(999_999).await.status(), 404);
        let response = app.client.get(app.url("/metrics")).send().await.unwrap();
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
        let text = response.text().await.unwrap();
        let line = |prefix: &str| -> f64 {
            text.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("{prefix} in {text}"))
                .rsplit(' ').next().unwrap().parse().unwrap()
        };
        assert_eq!(line(r#"spcm_http_requests_total{method="GET",route="/pcc/spcm/provisionProfile/{id}",status="200"}"#), 3.0);
        assert_eq!(line(r#"spcm_http_requests_total{method="GET",route="/pcc/spcm/provisionProfile/{id}",status="404"}"#), 1.0);
        assert_eq!(line(r#"spcm_http_requests_total{method="POST",route="/pcc/spcm/provisionProfile",status="201"}"#), 1.0);
        assert_eq!(line(r#"spcm_http_request_duration_seconds_count{method="GET",route="/pcc/spcm/provisionProfile/{id}"}"#), 4.0);
        assert!(line("spcm_credential_cache_hits_total") >= 2.0, "known-good credentials hit the cache");
        assert_eq!(line("spcm_read_cache_hits_total"), 2.0, "the second and third GET come from memory");
        assert_eq!(line("spcm_read_cache_misses_total"), 2.0, "the first GET and the 404 read the database");
        assert!(line("spcm_credential_cache_misses_total") >= 1.0);
        assert!(line("spcm_db_pool_connections_idle") >= 1.0);
        assert_eq!(line("spcm_db_pool_connections_in_use"), 0.0, "every connection is back in the pool between requests");
        assert!(line("spcm_db_queries_total") > 0.0);
        assert!(text.contains("# TYPE spcm_http_request_duration_seconds histogram"));
    }

    async fn hostile_input_is_refused_without_harm(app) {
        let id = app.create_profile("target", true).await["id"].as_i64().unwrap();
        let send = |body: Vec<u8>| app.request(Method::POST, PROFILES).header("content-type", "application/json").body(body).send();

        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(send(deep.into_bytes()).await.unwrap().status(), 400, "deep nesting");
        let deep_object = format!("{{\"name\": {}1{}, \"defaultProfile\": false}}", "[".repeat(5000), "]".repeat(5000));
        assert_eq!(send(deep_object.into_bytes()).await.unwrap().status(), 400, "deep nesting inside a field");
        assert_eq!(send(vec![b'{', 0xff, 0xfe, b'}']).await.unwrap().status(), 400, "invalid UTF-8");
        assert_eq!(send(b"{\"name\": \"\xc3\x28\", \"defaultProfile\": false}".to_vec()).await.unwrap().status(), 400);
        let huge = format!("[{}]", vec!["{\"name\":\"x\"}"; 200_000].join(","));
        let length = huge.len().to_string();
        let headers = [("content-type", "application/json"), ("content-length", length.as_str())];
        let huge = raw_exchange(&app, raw_request("POST", PROFILES, ADMIN, &headers, huge.as_bytes())).await;
        assert_eq!((huge.status, huge.json()["errorCode"].clone()), (413, json!(413)), "huge body: {huge:?}");

        for raw in ["1;DROP TABLE provisioning_profiles", "99999999999999999999999", "-0x10", "1e3", "%00"] {
            let path = format!("{PROFILES}/{}", raw.replace(' ', "%20").replace(';', "%3B"));
            assert_eq!(app.request(Method::GET, &path).send().await.unwrap().status(), 400, "{raw}");
        }
        let out_of_range = json!({"id": 1e300, "name": "big"});
        assert_eq!(expect_json(app.put_profile(id, &out_of_range).await, 412).await["errors"][0]["field"], "id");
        let numbers = json!({"name": 12345678901234567890u64, "defaultProfile": false});
        assert_eq!(expect_json(app.post_profile(&numbers).await, 412).await["errors"][0]["field"], "name");

        let large = app.request(Method::GET, PROFILES).header("x-junk", "x".repeat(16 * 1024)).send().await.unwrap();
        assert_eq!(large.status(), 200, "a large but sane header is fine");
        // Its own connection: the server closes it, which must not touch the others.
        let junk = "x".repeat(512 * 1024);
        let absurd = raw_exchange(&app, raw_request("GET", PROFILES, ADMIN, &[("x-junk", &junk)], b"")).await;
        assert_eq!(absurd.status, 431, "absurd headers are refused: {}", absurd.head);
        let long_tenant = app.request_as(Method::GET, PROFILES, &"t".repeat(10_000), "admin", ADMIN_PASSWORD).send().await.unwrap();
        assert_eq!(long_tenant.status(), 401);

        // Nothing was stored half-written, and the service still answers.
        let listing = expect_json(app.list("").await, 200).await;
        assert_eq!(listing["length"], 1);
        assert_eq!(listing["provisioningProfileDTOList"][0]["name"], "target");
    }
}

/// A client that sends half a request and stalls is cut off; others are served meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_do_not_hold_the_service() {
    let app = spawn_with(Settings::default()).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let stalled = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n").unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let started = Instant::now();
        let mut buffer = Vec::new();
        let _ = stream.read_to_end(&mut buffer);
        (started.elapsed(), String::from_utf8_lossy(&buffer).into_owned())
    });
    assert_eq!(app.client.get(app.url("/health/live")).send().await.unwrap().status(), 200);
    let (waited, answer) = tokio::task::spawn_blocking(move || stalled.join().unwrap()).await.unwrap();
    assert!(waited < Duration::from_secs(20), "the stalled connection is closed by the server, after {waited:?}");
    assert!(answer.starts_with("HTTP/1.1 408"), "the server answers 408 before closing: {answer:?}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `spcm` serving the SQLite file `db` on a free port, with `env` added; returns the
/// process and its base URL once it answers.
async fn serve(db: &std::path::Path, env: &[(&str, &str)], stderr: Stdio) -> (std::process::Child, String) {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_spcm"))
        .env("SPCM_DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("SPCM_BIND", format!("127.0.0.1:{port}"))
        .env("SPCM_BOOTSTRAP_PASSWORD", ADMIN_PASSWORD)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    wait_until("the server to answer", Duration::from_secs(30), async || {
        client.get(format!("{base}/health/live")).send().await.is_ok()
    })
    .await;
    (child, base)
}

/// SIGTERM: stop accepting, finish the request in flight, exit 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_in_flight_requests_then_exits_zero() {
    a_signal_finishes_in_flight_requests_then_exits_zero("TERM").await;
}

/// SIGINT (Ctrl-C) is as graceful as SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_finishes_in_flight_requests_then_exits_zero() {
    a_signal_finishes_in_flight_requests_then_exits_zero("INT").await;
}

async fn a_signal_finishes_in_flight_requests_then_exits_zero(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("graceful.db");
    let (mut child, base) =
        serve(&db, &[("SPCM_SHUTDOWN_GRACE_SECS", "20"), ("SPCM_POOL_TIMEOUT_MS", "10000")], Stdio::null()).await;
    let client = reqwest::Client::new();

    // Hold SQLite's write lock so that the request stays in flight until we let go.
    let mut blocker = diesel::SqliteConnection::establish(db.to_str().unwrap()).unwrap();
    blocker.batch_execute("BEGIN IMMEDIATE").unwrap();
    let in_flight = tokio::spawn({
        let request = client
            .post(format!("{base}{PROFILES}"))
            .basic_auth("admin", Some(ADMIN_PASSWORD))
            .header("tenant", "default")
            .json(&json!({"name": "in-flight", "defaultProfile": true}));
        async move { request.send().await.map(|r| r.status().as_u16()) }
    });
    wait_until("the write to be in flight, holding a connection", Duration::from_secs(10), async || {
        let metrics = client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
        metrics.lines().any(|line| line == "spcm_db_pool_connections_in_use 1")
    })
    .await;
    assert!(Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap().success());
    wait_until("new connections to be refused after the signal", Duration::from_secs(10), async || {
        let probe = reqwest::Client::new().get(format!("{base}/health/live")).timeout(Duration::from_secs(1));
        probe.send().await.is_err()
    })
    .await;
    assert!(!in_flight.is_finished(), "the write is still in flight when the listener has closed");
    blocker.batch_execute("ROLLBACK").unwrap();

    assert_eq!(in_flight.await.unwrap().expect("the in-flight request is answered"), 201);
    let mut exit = None;
    wait_until("the process to exit", Duration::from_secs(20), async || {
        exit = child.try_wait().unwrap();
        exit.is_some()
    })
    .await;
    let status = exit.expect("exited");
    assert!(status.success(), "exit status {status:?}");
    let mut conn = diesel::SqliteConnection::establish(db.to_str().unwrap()).unwrap();
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count: Count = diesel::RunQueryDsl::get_result(
        diesel::sql_query("SELECT COUNT(*) AS n FROM provisioning_profiles WHERE name = 'in-flight'"),
        &mut conn,
    )
    .unwrap();
    assert_eq!(count.n, 1, "the answered write is stored");
}

/// A 500 is logged with its request id and cause; its body names neither.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_is_logged_with_its_request_id_and_cause() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("broken.db");
    let (mut child, base) = serve(&db, &[], Stdio::piped()).await;
    let client = reqwest::Client::new();
    diesel::SqliteConnection::establish(db.to_str().unwrap())
        .unwrap()
        .batch_execute("ALTER TABLE provisioning_profiles RENAME TO sabotaged")
        .unwrap();

    let response = client
        .get(format!("{base}{PROFILES}"))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .header("tenant", "default")
        .header("x-request-id", "trace-500-abc")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"message": "Internal server error - [database error]", "status": "error"}));

    // SIGTERM: a graceful stop flushes the log writer.
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let mut logs = String::new();
    child.stderr.take().unwrap().read_to_string(&mut logs).unwrap();
    child.wait().unwrap();
    let line =
        logs.lines().find(|l| l.contains("internal server error")).unwrap_or_else(|| panic!("no 500 log line: {logs}"));
    assert!(line.contains("trace-500-abc"), "the request id is in the log line: {line}");
    assert!(line.contains("no such table"), "the cause is in the log line: {line}");
    assert!(!line.contains(ADMIN_PASSWORD));
}

/// On a SQLite file, a write is answered only after the write-ahead log was synced after
/// its commit; concurrent writes share syncs rather than each waiting for its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_writes_are_answered_after_a_sync_of_the_log_and_share_it() {
    let app = spawn_app(TestBackend::Sqlite).await;
    let syncs = || async {
        let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        let line =
            text.lines().find(|l| l.starts_with("spcm_sqlite_wal_syncs_total ")).unwrap_or_else(|| panic!("{text}"));
        line.rsplit(' ').next().unwrap().parse::<u64>().unwrap()
    };
    let before = syncs().await;
    app.create_profile("durable", true).await;
    assert_eq!(syncs().await, before + 1, "one write, one sync before its answer");

    let before = syncs().await;
    let bodies: Vec<Value> = (0..24).map(|n| json!({"name": format!("burst-{n}"), "defaultProfile": false})).collect();
    let responses = futures_util::future::join_all(bodies.iter().map(|body| app.post_profile(body))).await;
    assert!(
        responses.iter().all(|r| r.status() == 201),
        "{:?}",
        responses.iter().map(|r| r.status()).collect::<Vec<_>>()
    );
    let after = syncs().await;
    assert!(after > before && after <= before + 24, "between 1 and 24 syncs for 24 writes: {}", after - before);
    let list = expect_json(app.request(Method::GET, &format!("{PROFILES}?limit=100")).send().await.unwrap(), 200).await;
    assert_eq!(list.to_string().matches("burst-").count(), 24, "{list}");
}
