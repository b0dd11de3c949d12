//! Database faults on PostgreSQL and MariaDB: the database goes away mid-run behind a
//! TCP proxy that the test owns, and comes back.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use spcm::config::Settings;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::{expect_json, spawn_through_proxy, TestApp, TestBackend};

/// A TCP proxy to the database server that can be cut (listener closed, every
/// connection dropped) and restored on the same port.
pub struct Proxy {
    port: u16,
    target: String,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    pub async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy port");
        let port = listener.local_addr().unwrap().port();
        let proxy = Proxy { port, target, tasks: Arc::new(Mutex::new(Vec::new())) };
        proxy.serve(listener);
        proxy
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn serve(&self, listener: TcpListener) {
        let (target, tasks) = (self.target.clone(), self.tasks.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let relay = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(relay);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    /// The database is gone: new connections are refused, open ones are dropped.
    pub fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    pub async fn restore(&self) {
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(listener) => break listener,
                Err(err) if tries < 50 => {
                    tries += 1;
                    let _ = err;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(err) => panic!("cannot listen again on {}: {err}", self.port),
            }
        };
        self.serve(listener);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
    }
}

async fn status(response: reqwest::Response) -> u16 {
    response.status().as_u16()
}

async fn the_service_rides_out_a_database_outage(backend: TestBackend) {
    let settings = Settings { pool_timeout_ms: 300, pool_size: 4, ..Settings::default() };
    let (app, proxy) = spawn_through_proxy(backend, settings).await;
    let kept = app.create_profile("kept", true).await["id"].as_i64().unwrap();
    for _ in 0..2 {
        assert_eq!(status(app.get_profile(kept).await).await, 200, "the second read is answered from memory");
    }

    proxy.cut();
    let started = Instant::now();
    let write = app.post_profile(&json!({"name": "during-outage", "defaultProfile": false})).await;
    assert_eq!(write.headers()["retry-after"], "1");
    assert_eq!(
        expect_json(write, 503).await,
        json!({"message": "request rejected due to overload", "status": "error"})
    );
    assert_eq!(
        status(app.get_profile(kept).await).await,
        503,
        "a remembered answer is not served when its version cannot be checked"
    );
    let ready = app.client.get(app.url("/health/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 503, "not ready without a database");
    assert_eq!(status(app.client.get(app.url("/health/live")).send().await.unwrap()).await, 200);
    assert!(started.elapsed() < Duration::from_secs(10), "503s come within the wait, took {:?}", started.elapsed());

    proxy.restore().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let response = app.get_profile(kept).await;
        if response.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "no recovery: still {}", response.status());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status(app.client.get(app.url("/health/ready")).send().await.unwrap()).await, 200);
    let names: Value = expect_json(app.list("").await, 200).await;
    let names: Vec<&str> =
        names["provisioningProfileDTOList"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["kept"], "the 2xx write is there, the 503 write did not happen");
    assert_eq!(app.create_profile("after", false).await["name"], "after");
    drop::<TestApp>(app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(all(not(spcm_test_postgres), feature = "postgres"), ignore = "SPCM_TEST_POSTGRES_URL is not set")]
#[cfg_attr(all(not(spcm_test_postgres), not(feature = "postgres")), ignore = "built without the postgres feature")]
async fn postgres_outage_is_answered_503_and_recovered_from() {
    the_service_rides_out_a_database_outage(TestBackend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(all(not(spcm_test_mysql), feature = "mysql"), ignore = "SPCM_TEST_MYSQL_URL is not set")]
#[cfg_attr(all(not(spcm_test_mysql), not(feature = "mysql")), ignore = "built without the mysql feature")]
async fn mysql_outage_is_answered_503_and_recovered_from() {
    the_service_rides_out_a_database_outage(TestBackend::Mysql).await;
}
