//! Change events against the real RabbitMQ on 127.0.0.1:5672 (contract §7): each test
//! declares its own exchange and queue and deletes them at the end. In every case every
//! committed change reaches the consumer, none that was not committed does, duplicates
//! come only by redelivery with the same `message_id` and body, and each tenant's
//! changes arrive in id order.

use std::collections::{BTreeMap, HashMap};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{ConnectionProperties, ExchangeKind};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{json, Value};
use spcm::config::Settings;
use spcm::store::{self, DbPool};

use crate::faults::Proxy;
use crate::helpers::{
    backend_matrix, create_database, spawn_app_with, wait_until, TestBackend, ADMIN_PASSWORD, PROFILES,
};

const BROKER: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
const BROKER_ADDRESS: &str = "127.0.0.1:5672";
/// Every wait for events: generous, and a deadline, never a guess.
const DELIVERY: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
struct Received {
    routing_key: String,
    message_id: i64,
    delivery_mode: Option<u8>,
    content_type: Option<String>,
    body: Value,
}

/// A queue of the test's own, bound to an exchange of the test's own.
struct Consumer {
    connection: lapin::Connection,
    channel: lapin::Channel,
    exchange: String,
    queue: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Consumer {
    async fn start() -> Consumer {
        let connection = lapin::Connection::connect(BROKER, ConnectionProperties::default())
            .await
            .expect("RabbitMQ on 127.0.0.1:5672 (guest/guest) is required");
        let channel = connection.create_channel().await.unwrap();
        let unique = uuid::Uuid::new_v4().simple().to_string();
        let exchange = format!("spcm.test.{unique}");
        let queue = format!("spcm.test.{unique}.queue");
        channel
            .exchange_declare(
                &exchange,
                ExchangeKind::Topic,
                ExchangeDeclareOptions { durable: true, ..Default::default() },
                FieldTable::default(),
            )
            .await
            .unwrap();
        channel
            .queue_declare(&queue, QueueDeclareOptions { exclusive: true, ..Default::default() }, FieldTable::default())
            .await
            .unwrap();
        channel.queue_bind(&queue, &exchange, "#", QueueBindOptions::default(), FieldTable::default()).await.unwrap();
        let mut deliveries =
            channel.basic_consume(&queue, "", BasicConsumeOptions::default(), FieldTable::default()).await.unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        tokio::spawn(async move {
            while let Some(Ok(delivery)) = deliveries.next().await {
                let properties = &delivery.properties;
                let message = Received {
                    routing_key: delivery.routing_key.to_string(),
                    message_id: properties
                        .message_id()
                        .as_ref()
                        .and_then(|id| id.as_str().parse().ok())
                        .expect("a numeric message_id"),
                    delivery_mode: *properties.delivery_mode(),
                    content_type: properties.content_type().as_ref().map(|t| t.to_string()),
                    body: serde_json::from_slice(&delivery.data).expect("a JSON body"),
                };
                sink.lock().unwrap().push(message);
                let _ = delivery.ack(BasicAckOptions::default()).await;
            }
        });
        Consumer { connection, channel, exchange, queue, received }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    fn ids(&self) -> Vec<i64> {
        self.received().iter().map(|r| r.message_id).collect()
    }

    async fn finish(self) {
        self.channel.queue_delete(&self.queue, QueueDeleteOptions::default()).await.unwrap();
        self.channel.exchange_delete(&self.exchange, ExchangeDeleteOptions::default()).await.unwrap();
        let _ = self.connection.close(200, "done").await;
    }
}

/// Every committed change of every tenant, by id, as the feed shows it.
fn committed(pool: &DbPool) -> BTreeMap<i64, Value> {
    let mut conn = pool.get().unwrap();
    let mut all = BTreeMap::new();
    for name in store::tenants::list(&mut conn).unwrap() {
        let tenant = spcm::domain::TenantName::parse(&name).unwrap();
        let id = store::tenants::find_id(&mut conn, &tenant).unwrap().unwrap();
        for change in store::changes::feed(&mut conn, id, 0, i64::MAX).unwrap() {
            all.insert(change.id, change.to_json());
        }
    }
    all
}

/// Waits until every committed change has arrived, then checks what arrived.
async fn every_committed_change_arrives_once_in_order(consumer: &Consumer, pool: &DbPool) -> BTreeMap<i64, Value> {
    let mut changes = committed(pool);
    wait_until("every committed change to reach the consumer", DELIVERY, async || {
        changes = committed(pool);
        let got: std::collections::HashSet<i64> = consumer.ids().into_iter().collect();
        changes.keys().all(|id| got.contains(id))
    })
    .await;
    let received = consumer.received();
    assert!(!changes.is_empty());
    let mut first_seen: HashMap<String, Vec<i64>> = HashMap::new();
    let mut seen = std::collections::HashSet::new();
    for message in &received {
        let committed = changes
            .get(&message.message_id)
            .unwrap_or_else(|| panic!("change {} arrived but was never committed", message.message_id));
        assert_eq!(&message.body, committed, "the body is the change");
        let tenant = committed["tenant"].as_str().unwrap();
        assert_eq!(
            message.routing_key,
            format!("{tenant}.{}.{}", committed["entity"].as_str().unwrap(), committed["action"].as_str().unwrap())
        );
        assert_eq!(message.delivery_mode, Some(2), "persistent");
        assert_eq!(message.content_type.as_deref(), Some("application/json"));
        if seen.insert(message.message_id) {
            first_seen.entry(tenant.to_owned()).or_default().push(message.message_id);
        }
    }
    for (tenant, ids) in first_seen {
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(ids, sorted, "tenant {tenant}'s changes arrive in id order");
    }
    changes
}

fn broker_settings(url: &str, exchange: &str) -> Settings {
    Settings {
        amqp_url: Some(SecretString::from(url.to_owned())),
        amqp_exchange: exchange.to_owned(),
        ..Settings::default()
    }
}

async fn metric(app_url: &str, name: &str) -> f64 {
    let text = reqwest::get(format!("{app_url}/metrics")).await.unwrap().text().await.unwrap();
    text.lines()
        .find(|line| line.starts_with(name) && line[name.len()..].starts_with(' '))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("{name} in {text}"))
}

async fn events_reach_a_consumer_with_their_routing_keys_and_properties(backend: TestBackend) {
    let consumer = Consumer::start().await;
    let app = spawn_app_with(backend, broker_settings(BROKER, &consumer.exchange)).await;
    app.add_tenant("acme");
    app.add_user("acme", "boss", "boss-Secret-1", &[spcm::auth::Permission::ProfileCreate]);
    for i in 0..5 {
        app.create_profile(&format!("d{i}"), i % 2 == 0).await;
        let other = app
            .request_as(Method::POST, PROFILES, "acme", "boss", "boss-Secret-1")
            .json(&json!({"name": format!("a{i}"), "defaultProfile": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(other.status(), 201);
    }
    let id = app.create_profile("gone", false).await["id"].as_i64().unwrap();
    assert_eq!(app.delete_profile(id).await.status(), 204);
    let changes = every_committed_change_arrives_once_in_order(&consumer, &app.pool).await;
    let keys: std::collections::BTreeSet<String> = consumer.received().into_iter().map(|r| r.routing_key).collect();
    for key in [
        "default.provisionProfile.created",
        "default.provisionProfile.updated",
        "default.provisionProfile.deleted",
        "acme.provisionProfile.created",
        "acme.tenant.created",
        "acme.user.created",
        "default.tenant.created",
    ] {
        assert!(keys.contains(key), "{key} in {keys:?}");
    }
    let url = app.address.clone();
    wait_until("the backlog gauge to fall to zero", DELIVERY, async || {
        metric(&url, "spcm_changes_waiting").await == 0.0
    })
    .await;
    assert_eq!(metric(&url, "spcm_events_published_total").await, changes.len() as f64);
    assert_eq!(metric(&url, "spcm_changes_oldest_waiting_age_seconds").await, 0.0);
    drop(app);
    consumer.finish().await;
}

backend_matrix! {
    on [sqlite, postgres, mysql] requires spcm_test_broker = "SPCM_TEST_BROKER is not set (RabbitMQ on 127.0.0.1:5672)";
    async fn events_reach_a_consumer(backend) {
        events_reach_a_consumer_with_their_routing_keys_and_properties(backend).await;
    }
}

#[cfg_attr(not(spcm_test_broker), ignore = "SPCM_TEST_BROKER is not set (RabbitMQ on 127.0.0.1:5672)")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_broker_url_nothing_is_published_and_writes_work() {
    let consumer = Consumer::start().await;
    let quiet = Settings { amqp_exchange: consumer.exchange.clone(), ..Settings::default() };
    let app = spawn_app_with(TestBackend::Sqlite, quiet).await;
    app.create_profile("quiet", true).await;
    assert_eq!(
        app.put_profile(app.create_profile("quiet2", false).await["id"].as_i64().unwrap(), &json!({"locale": "en"}))
            .await
            .status(),
        200
    );
    assert_eq!(committed(&app.pool).len(), 5, "the history is kept all the same");
    // A second service, with the broker, on the same exchange: once its changes have
    // arrived, the first had time to publish too, had it been publishing.
    let sentinel = spawn_app_with(TestBackend::Sqlite, broker_settings(BROKER, &consumer.exchange)).await;
    sentinel.create_profile("sentinel", false).await;
    let published = every_committed_change_arrives_once_in_order(&consumer, &sentinel.pool).await;
    let ids: std::collections::BTreeSet<i64> = consumer.ids().into_iter().collect();
    assert_eq!(ids, published.keys().copied().collect(), "only the sentinel's changes were published");
    assert!(consumer.received().iter().all(|r| r.body["after"]["name"] != "quiet"));
    assert_eq!(metric(&app.address, "spcm_events_published_total").await, 0.0);
    drop((app, sentinel));
    consumer.finish().await;
}

#[cfg_attr(not(spcm_test_broker), ignore = "SPCM_TEST_BROKER is not set (RabbitMQ on 127.0.0.1:5672)")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_down_at_start_gets_the_backlog_when_it_comes() {
    let consumer = Consumer::start().await;
    let proxy = Proxy::start(BROKER_ADDRESS.to_owned()).await;
    proxy.cut();
    let url = format!("amqp://guest:guest@127.0.0.1:{}/%2f", proxy.port());
    let app = spawn_app_with(TestBackend::Sqlite, broker_settings(&url, &consumer.exchange)).await;
    for i in 0..5 {
        app.create_profile(&format!("p{i}"), i == 0).await;
    }
    let ready = app.client.get(app.url("/health/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "readiness does not depend on the broker");
    let address = app.address.clone();
    wait_until("the backlog gauge to show the waiting changes", DELIVERY, async || {
        metric(&address, "spcm_changes_waiting").await == 7.0
    })
    .await;
    assert!(metric(&address, "spcm_changes_oldest_waiting_age_seconds").await > 0.0);
    assert_eq!(consumer.ids(), Vec::<i64>::new(), "nothing reached the consumer while the broker was away");

    proxy.restore().await;
    let changes = every_committed_change_arrives_once_in_order(&consumer, &app.pool).await;
    assert_eq!(changes.len(), 7);
    drop(app);
    consumer.finish().await;
}

#[cfg_attr(not(spcm_test_broker), ignore = "SPCM_TEST_BROKER is not set (RabbitMQ on 127.0.0.1:5672)")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_cut_mid_stream_loses_nothing() {
    let consumer = Consumer::start().await;
    let proxy = Proxy::start(BROKER_ADDRESS.to_owned()).await;
    let url = format!("amqp://guest:guest@127.0.0.1:{}/%2f", proxy.port());
    let app = Arc::new(spawn_app_with(TestBackend::Sqlite, broker_settings(&url, &consumer.exchange)).await);
    let written = Arc::new(Mutex::new(0usize));
    let writer = tokio::spawn({
        let (app, written) = (app.clone(), written.clone());
        async move {
            for i in 0..150 {
                app.create_profile(&format!("w{i}"), i % 10 == 0).await;
                *written.lock().unwrap() += 1;
            }
        }
    });
    wait_until("events to flow", DELIVERY, async || consumer.ids().len() >= 20).await;
    proxy.cut();
    let at_cut = *written.lock().unwrap();
    wait_until("writes to go on while the broker is cut off", DELIVERY, async || {
        *written.lock().unwrap() >= at_cut + 20
    })
    .await;
    proxy.restore().await;
    writer.await.unwrap();
    every_committed_change_arrives_once_in_order(&consumer, &app.pool).await;
    drop(app);
    consumer.finish().await;
}

/// The real binary, serving on `port`.
struct Service {
    child: Mutex<Child>,
    address: String,
}

impl Service {
    async fn start(database_url: &str, exchange: &str) -> Service {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(env!("CARGO_BIN_EXE_spcm"))
            .env("SPCM_DATABASE_URL", database_url)
            .env("SPCM_BIND", format!("127.0.0.1:{port}"))
            .env("SPCM_BOOTSTRAP_PASSWORD", ADMIN_PASSWORD)
            .env("SPCM_AMQP_URL", BROKER)
            .env("SPCM_AMQP_EXCHANGE", exchange)
            .env("SPCM_WORKERS", "2")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let service = Service { child: Mutex::new(child), address: format!("http://127.0.0.1:{port}") };
        let ready = format!("{}/health/ready", service.address);
        wait_until("the service to be ready", Duration::from_secs(30), async || {
            reqwest::get(&ready).await.is_ok_and(|r| r.status() == 200)
        })
        .await;
        service
    }

    async fn create(&self, client: &reqwest::Client, name: &str) -> Result<i64, String> {
        let response = client
            .post(format!("{}{PROFILES}", self.address))
            .basic_auth("admin", Some(ADMIN_PASSWORD))
            .header("tenant", "default")
            .json(&json!({"name": name, "defaultProfile": false}))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if response.status() != 201 {
            return Err(format!("status {}", response.status()));
        }
        Ok(response.json::<Value>().await.map_err(|e| e.to_string())?["id"].as_i64().unwrap())
    }

    /// SIGKILL: no chance to finish anything.
    fn kill(&self) {
        let mut child = self.child.lock().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap();
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Profiles created (201) through `service`, by a task that stops at the first failure.
fn keep_writing(service: Arc<Service>, prefix: &'static str, count: usize) -> tokio::task::JoinHandle<Vec<i64>> {
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        let mut created = Vec::new();
        for i in 0..count {
            match service.create(&client, &format!("{prefix}{i}")).await {
                Ok(id) => created.push(id),
                Err(_) => break,
            }
        }
        created
    })
}

fn created_ids(changes: &BTreeMap<i64, Value>) -> Vec<i64> {
    changes
        .values()
        .filter(|c| c["eventType"] == "PROVISION_PROFILE_CREATED")
        .map(|c| c["entityId"].as_str().unwrap().parse().unwrap())
        .collect()
}

#[cfg_attr(not(spcm_test_broker), ignore = "SPCM_TEST_BROKER is not set (RabbitMQ on 127.0.0.1:5672)")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_killed_while_publishing_sends_the_rest_when_started_again() {
    let consumer = Consumer::start().await;
    let db = create_database(TestBackend::Sqlite);
    let first = Arc::new(Service::start(&db.url, &consumer.exchange).await);
    let writer = keep_writing(first.clone(), "k", 400);
    wait_until("events to flow", DELIVERY, async || consumer.ids().len() >= 30).await;
    first.kill();
    let acknowledged = writer.await.unwrap();
    assert!(!acknowledged.is_empty());

    let _second = Service::start(&db.url, &consumer.exchange).await;
    let pool = DbPool::new(&db.url, 1, Duration::from_secs(5)).unwrap();
    let changes = every_committed_change_arrives_once_in_order(&consumer, &pool).await;
    let recorded = created_ids(&changes);
    for id in &acknowledged {
        assert!(recorded.contains(id), "profile {id} was answered 201; its change must be there");
    }
    consumer.finish().await;
}

backend_matrix! {
    on [postgres] requires spcm_test_broker = "SPCM_TEST_BROKER is not set (RabbitMQ on 127.0.0.1:5672)";
    async fn of_two_instances_one_publishes_and_the_other_takes_over_within_ten_seconds(backend) {
        of_two_instances_one_publishes_and_the_other_takes_over(backend).await;
    }
}

async fn of_two_instances_one_publishes_and_the_other_takes_over(backend: TestBackend) {
    let consumer = Consumer::start().await;
    let db = create_database(backend);
    let services =
        vec![Service::start(&db.url, &consumer.exchange).await, Service::start(&db.url, &consumer.exchange).await];
    let client = reqwest::Client::new();
    for i in 0..10 {
        services[i % 2].create(&client, &format!("both{i}")).await.unwrap();
    }
    let pool = DbPool::new(&db.url, 1, Duration::from_secs(5)).unwrap();
    every_committed_change_arrives_once_in_order(&consumer, &pool).await;
    let mut published = Vec::new();
    for service in &services {
        published.push(metric(&service.address, "spcm_events_published_total").await);
    }
    assert_eq!(published.iter().filter(|n| **n > 0.0).count(), 1, "one instance at a time publishes: {published:?}");
    let leader = published.iter().position(|n| *n > 0.0).unwrap();

    services[leader].kill();
    let survivor = &services[1 - leader];
    let killed_at = Instant::now();
    let id = survivor.create(&client, "after-the-kill").await.unwrap();
    let changes = committed(&pool);
    let change_id =
        *changes.iter().find(|(_, c)| c["entityId"].as_str().and_then(|e| e.parse().ok()) == Some(id)).unwrap().0;
    wait_until("the survivor to publish", Duration::from_secs(15), async || consumer.ids().contains(&change_id)).await;
    let took = killed_at.elapsed();
    assert!(took < Duration::from_secs(10), "the other instance took over after {took:?}");
    every_committed_change_arrives_once_in_order(&consumer, &pool).await;
    drop(services);
    drop(pool);
    drop(db);
    consumer.finish().await;
}

#[test]
fn the_broker_url_and_its_password_are_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("secret.db").display());
    let help = Command::new(env!("CARGO_BIN_EXE_spcm"))
        .args(["serve", "--help"])
        .env("SPCM_AMQP_URL", "amqp://u:s3cret-pw@h/%2f")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("SPCM_AMQP_URL") && !text.contains("s3cret-pw"), "{text}");
    let refused = Command::new(env!("CARGO_BIN_EXE_spcm"))
        .env("SPCM_DATABASE_URL", &database)
        .env("SPCM_BIND", "127.0.0.1:0")
        .env("SPCM_BOOTSTRAP_PASSWORD", ADMIN_PASSWORD)
        .env("SPCM_AMQP_URL", "amqp:guest:s3cret-pw@127.0.0.1")
        .output()
        .unwrap();
    assert!(!refused.status.success(), "a URL that is not an AMQP URL stops the start");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("SPCM_AMQP_URL is not a valid AMQP URL"), "{stderr}");
    assert!(!stderr.contains("s3cret-pw"), "{stderr}");
}
