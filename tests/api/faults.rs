//! Database faults on PostgreSQL and MariaDB: the database goes away mid-run behind a
//! TCP proxy that the test owns, and comes back.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use spcm::config::Settings;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::{backend_matrix, expect_json, spawn_through_proxy, wait_until, TestApp, TestBackend};

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
        let mut listener = None;
        wait_until(&format!("listening again on {}", self.port), Duration::from_secs(5), async || {
            listener = TcpListener::bind(("127.0.0.1", self.port)).await.ok();
            listener.is_some()
        })
        .await;
        self.serve(listener.expect("listening"));
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
    wait_until("recovery: the profile read again", Duration::from_secs(20), async || {
        app.get_profile(kept).await.status() == 200
    })
    .await;
    assert_eq!(status(app.client.get(app.url("/health/ready")).send().await.unwrap()).await, 200);
    let names: Value = expect_json(app.list("").await, 200).await;
    let names: Vec<&str> =
        names["provisioningProfileDTOList"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["kept"], "the 2xx write is there, the 503 write did not happen");
    assert_eq!(app.create_profile("after", false).await["name"], "after");
    drop::<TestApp>(app);
}

backend_matrix! {
    on [postgres, mysql];
    async fn outage_is_answered_503_and_recovered_from(backend) {
        the_service_rides_out_a_database_outage(backend).await;
    }
}
