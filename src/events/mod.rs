//! Change events (contract §7): the relay that publishes the outbox (`outbox`)
//! to a RabbitMQ topic exchange, and the pruning of old changes.
//!
//! One thread per process, `spcm-changes`, with a database connection of its own. It
//! prunes old changes on every instance; with `SPCM_AMQP_URL` set it also competes for
//! the publisher's lease, and the instance holding it publishes: unpublished changes in
//! id order, each persistent, with publisher confirms, marked published only once the
//! broker confirmed it. So a change goes out at least once and never before its commit,
//! and one tenant's changes go out in id order, which is their commit order.
//!
//! Database calls block this thread, never an HTTP worker; lapin runs its own I/O
//! threads, so a slow query does not stop its heartbeats.

mod outbox;

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::publisher_confirm::Confirmation;
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use secrecy::{ExposeSecret, SecretString};

use crate::store::changes::{self, ChangeRecord};
use crate::store::{CommitSignal, DbConnection, DbPool, StoreError};

/// How long the publisher's lease lasts without renewal: another instance takes over
/// within this (plus one `STANDBY_POLL`) when the publisher stops without giving it up.
const LEASE_TTL: Duration = Duration::from_secs(5);
/// How often the publisher renews its lease.
const LEASE_RENEWAL: Duration = Duration::from_secs(1);
/// How often an instance that does not publish asks for the lease.
const STANDBY_POLL: Duration = Duration::from_secs(1);
/// The longest the publisher sleeps between two looks at the outbox (writes of this
/// process wake it at once; writes of other instances are seen by this poll).
const PUBLISHER_POLL: Duration = Duration::from_millis(200);
/// Changes published per batch; their confirms are awaited together.
const BATCH: i64 = 500;
/// The longest wait for a connection to the broker, and for a batch's confirms. Below
/// the lease's lifetime, so a stuck publisher notices before another takes over.
const BROKER_WAIT: Duration = Duration::from_secs(4);
/// Back-off between tries to reach the broker: doubles up to the maximum.
const FIRST_RETRY: Duration = Duration::from_millis(250);
const LAST_RETRY: Duration = Duration::from_secs(10);
/// How often the backlog gauges are refreshed and old changes pruned.
const GAUGE_EVERY: Duration = Duration::from_secs(1);
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// Changes removed per statement, and the pause between two such statements, so that
/// pruning never holds up writes for long.
const PRUNE_BATCH: i64 = 500;
const PRUNE_PAUSE: Duration = Duration::from_millis(50);

/// Where events go.
#[derive(Clone)]
pub struct Broker {
    pub url: SecretString,
    pub exchange: String,
}

impl Broker {
    /// Where change events go, when `settings` name a broker.
    pub fn of(settings: &crate::config::Settings) -> Option<Broker> {
        settings.amqp_url.clone().map(|url| Broker { url, exchange: settings.amqp_exchange.clone() })
    }

    /// The parsed URL. The parser's own message can quote the URL, password included,
    /// so it is never shown.
    pub fn uri(&self) -> Result<lapin::uri::AMQPUri, BrokerError> {
        self.url.expose_secret().parse().map_err(|_| BrokerError::InvalidUrl)
    }
}

/// Why the broker cannot be used. No message quotes the URL: it may hold a password.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("SPCM_AMQP_URL is not a valid AMQP URL")]
    InvalidUrl,
    #[error("{0}")]
    Amqp(lapin::Error),
    #[error("cannot declare the exchange '{exchange}': {cause}")]
    DeclareExchange { exchange: String, cause: lapin::Error },
    #[error("no answer within {0:?}")]
    NoAnswer(Duration),
}

/// The relay's counters and the backlog, for `/metrics`.
#[derive(Debug, Default)]
pub struct RelayMetrics {
    published: Counter,
    failed: Counter,
    waiting: AtomicI64,
    /// `at` of the oldest waiting change in ms, 0 when none waits.
    oldest_ms: AtomicI64,
}

impl RelayMetrics {
    pub fn register(self: &Arc<Self>, registry: &mut Registry) {
        registry.register(
            "spcm_events_published",
            "Change events confirmed by the broker (by this instance)",
            self.published.clone(),
        );
        registry.register(
            "spcm_events_publish_failures",
            "Change events sent but not confirmed (broker refused or connection lost); they are sent again",
            self.failed.clone(),
        );
        registry.register_collector(Box::new(Backlog(self.clone())));
    }
}

#[derive(Debug)]
struct Backlog(Arc<RelayMetrics>);

impl Collector for Backlog {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let waiting = ConstGauge::new(self.0.waiting.load(Ordering::Relaxed));
        waiting.encode(encoder.encode_descriptor(
            "spcm_changes_waiting",
            "Changes committed but not yet confirmed by the broker",
            None,
            waiting.metric_type(),
        )?)?;
        let oldest = self.0.oldest_ms.load(Ordering::Relaxed);
        let age =
            if oldest == 0 { 0.0 } else { (crate::clock::unix_ms().unwrap_or(0) - oldest).max(0) as f64 / 1000.0 };
        let age = ConstGauge::new(age);
        age.encode(encoder.encode_descriptor(
            "spcm_changes_oldest_waiting_age_seconds",
            "Age of the oldest change not yet confirmed by the broker (0 when none waits)",
            None,
            age.metric_type(),
        )?)?;
        Ok(())
    }
}

/// The running relay. Stopping it (`stop`, or dropping it) gives the lease up.
pub struct Relay {
    stop: Arc<AtomicBool>,
    commits: Arc<CommitSignal>,
    thread: Option<JoinHandle<()>>,
}

impl Relay {
    /// Starts the thread. Without a broker it only prunes (every change older than the
    /// retention: nothing would ever publish it).
    pub fn start(
        pool: &DbPool,
        broker: Option<Broker>,
        retention: Duration,
        metrics: Arc<RelayMetrics>,
    ) -> std::io::Result<Relay> {
        let stop = Arc::new(AtomicBool::new(false));
        let commits = pool.commits();
        let worker = RelayThread {
            pool: pool.clone(),
            broker,
            retention,
            metrics,
            stop: stop.clone(),
            commits: commits.clone(),
            holder: uuid::Uuid::new_v4().simple().to_string(),
            conn: None,
            leader: false,
            lease_renewed: None,
            amqp: None,
            next_connect: Instant::now(),
            retry: FIRST_RETRY,
            next_gauge: Instant::now(),
            next_prune: Instant::now(),
        };
        let thread = std::thread::Builder::new().name("spcm-changes".into()).spawn(move || worker.run())?;
        Ok(Relay { stop, commits, thread: Some(thread) })
    }

    /// Stops the thread and waits for it (it gives the lease up on its way out).
    pub fn stop(mut self) {
        self.signal_stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    fn signal_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.commits.ring();
        if let Some(thread) = &self.thread {
            thread.thread().unpark();
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.signal_stop();
    }
}

/// A connection to the broker with a channel in confirm mode.
struct Amqp {
    connection: Connection,
    channel: Channel,
}

struct RelayThread {
    pool: DbPool,
    broker: Option<Broker>,
    retention: Duration,
    metrics: Arc<RelayMetrics>,
    stop: Arc<AtomicBool>,
    commits: Arc<CommitSignal>,
    /// This instance's name in the lease.
    holder: String,
    conn: Option<DbConnection>,
    leader: bool,
    lease_renewed: Option<Instant>,
    amqp: Option<Amqp>,
    next_connect: Instant,
    retry: Duration,
    next_gauge: Instant,
    next_prune: Instant,
}

impl RelayThread {
    fn run(mut self) {
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_time().build() {
            Ok(runtime) => runtime,
            Err(err) => {
                tracing::error!(error = %err, "change relay cannot start");
                return;
            }
        };
        while !self.stop.load(Ordering::SeqCst) {
            let seen = self.commits.count();
            let pause = match self.turn(&runtime) {
                Ok(pause) => pause,
                Err(err) => {
                    tracing::warn!(error = %err.cause_chain(), "change relay: database error; reconnecting");
                    self.conn = None;
                    self.leader = false;
                    STANDBY_POLL
                }
            };
            if pause.is_zero() {
                continue;
            }
            if self.broker.is_some() {
                self.commits.wait_past(seen, pause);
            } else {
                // Nothing to publish: commits need not wake this thread, only `stop` does.
                std::thread::park_timeout(pause);
            }
        }
        if let Some(amqp) = self.amqp.take() {
            let _ = runtime.block_on(tokio::time::timeout(BROKER_WAIT, amqp.connection.close(200, "shutting down")));
        }
        if self.leader {
            if let Some(conn) = self.conn.as_mut() {
                if let Err(err) = outbox::release_lease(conn, &self.holder) {
                    tracing::warn!(error = %err, "change relay could not give up its lease");
                }
            }
        }
    }

    /// One round: gauges, pruning, the lease, one batch. Returns how long to wait for
    /// the next round (zero: a full batch went out, more may wait).
    fn turn(&mut self, runtime: &tokio::runtime::Runtime) -> Result<Duration, StoreError> {
        if self.conn.is_none() {
            self.conn = Some(self.pool.connect_dedicated()?);
        }
        let now = Instant::now();
        // Without a broker nothing waits: every change would count as waiting forever.
        if self.broker.is_some() && now >= self.next_gauge {
            self.next_gauge = now + GAUGE_EVERY;
            let (waiting, oldest) = outbox::backlog(self.conn()?)?;
            self.metrics.waiting.store(waiting, Ordering::Relaxed);
            self.metrics.oldest_ms.store(oldest.unwrap_or(0), Ordering::Relaxed);
        }
        if now >= self.next_prune {
            self.next_prune = now + PRUNE_EVERY;
            self.prune()?;
        }
        let Some(broker) = self.broker.clone() else {
            return Ok(PRUNE_EVERY.min(Duration::from_secs(5)));
        };
        if !self.leader || self.lease_renewed.is_none_or(|at| at.elapsed() >= LEASE_RENEWAL) {
            let was_leader = self.leader;
            let holder = self.holder.clone();
            self.leader = outbox::hold_lease(self.conn()?, &holder, LEASE_TTL)?;
            self.lease_renewed = Some(Instant::now());
            if self.leader && !was_leader {
                tracing::info!("change relay: this instance publishes events now");
            } else if was_leader && !self.leader {
                tracing::warn!("change relay: lease lost; another instance publishes");
            }
        }
        if !self.leader {
            if let Some(amqp) = self.amqp.take() {
                let _ = runtime.block_on(tokio::time::timeout(BROKER_WAIT, amqp.connection.close(200, "standby")));
            }
            return Ok(STANDBY_POLL);
        }
        if self.amqp.as_ref().is_some_and(|amqp| !amqp.connection.status().connected()) {
            self.amqp = None;
        }
        if self.amqp.is_none() {
            if Instant::now() < self.next_connect {
                return Ok(self.next_connect - Instant::now());
            }
            match runtime.block_on(connect(&broker)) {
                Ok(amqp) => {
                    tracing::info!(exchange = broker.exchange.as_str(), "change relay: connected to the broker");
                    self.amqp = Some(amqp);
                    self.retry = FIRST_RETRY;
                }
                Err(why) => {
                    tracing::warn!(
                        error = %why,
                        retry_in_ms = self.retry.as_millis() as u64,
                        "change relay: broker unreachable; changes wait in the database"
                    );
                    self.next_connect = Instant::now() + self.retry;
                    self.retry = (self.retry * 2).min(LAST_RETRY);
                    return Ok(FIRST_RETRY);
                }
            }
        }
        let batch = outbox::waiting(self.conn()?, BATCH)?;
        if batch.is_empty() {
            return Ok(PUBLISHER_POLL);
        }
        let Some(amqp) = self.amqp.as_ref() else {
            return Ok(PUBLISHER_POLL);
        };
        let (confirmed, failure) = runtime.block_on(publish(&amqp.channel, &broker.exchange, &batch));
        outbox::mark_published(self.conn()?, &confirmed)?;
        self.metrics.published.inc_by(confirmed.len() as u64);
        if let Some(why) = failure {
            self.metrics.failed.inc_by((batch.len() - confirmed.len()) as u64);
            tracing::warn!(
                error = why.as_str(),
                unconfirmed = batch.len() - confirmed.len(),
                "change relay: publishing failed; reconnecting and sending again"
            );
            self.amqp = None;
            self.next_connect = Instant::now() + self.retry;
            self.retry = (self.retry * 2).min(LAST_RETRY);
            return Ok(FIRST_RETRY);
        }
        let (waiting, oldest) = outbox::backlog(self.conn()?)?;
        self.metrics.waiting.store(waiting, Ordering::Relaxed);
        self.metrics.oldest_ms.store(oldest.unwrap_or(0), Ordering::Relaxed);
        Ok(if batch.len() as i64 == BATCH { Duration::ZERO } else { PUBLISHER_POLL })
    }

    fn conn(&mut self) -> Result<&mut DbConnection, StoreError> {
        self.conn.as_mut().ok_or_else(|| StoreError::Unavailable("no connection".into()))
    }

    /// Removes changes older than the retention, a batch at a time, each batch its own
    /// short statement. A change not yet published stays while a broker is configured.
    fn prune(&mut self) -> Result<(), StoreError> {
        let cutoff = crate::clock::unix_ms().unwrap_or(0) - self.retention.as_millis() as i64;
        let any = self.broker.is_none();
        let mut removed = 0;
        loop {
            let gone = outbox::prune(self.conn()?, cutoff, any, PRUNE_BATCH)?;
            removed += gone;
            if (gone as i64) < PRUNE_BATCH || self.stop.load(Ordering::SeqCst) {
                break;
            }
            std::thread::sleep(PRUNE_PAUSE);
        }
        if removed > 0 {
            tracing::info!(removed, "old changes pruned");
        }
        Ok(())
    }
}

/// Connects, opens a channel in confirm mode and declares the durable topic exchange.
async fn connect(broker: &Broker) -> Result<Amqp, BrokerError> {
    let attempt = async {
        let connection =
            Connection::connect_uri(broker.uri()?, ConnectionProperties::default()).await.map_err(BrokerError::Amqp)?;
        let channel = connection.create_channel().await.map_err(BrokerError::Amqp)?;
        channel.confirm_select(ConfirmSelectOptions::default()).await.map_err(BrokerError::Amqp)?;
        channel
            .exchange_declare(
                &broker.exchange,
                ExchangeKind::Topic,
                ExchangeDeclareOptions { durable: true, ..ExchangeDeclareOptions::default() },
                FieldTable::default(),
            )
            .await
            .map_err(|cause| BrokerError::DeclareExchange { exchange: broker.exchange.clone(), cause })?;
        Ok::<_, BrokerError>(Amqp { connection, channel })
    };
    match tokio::time::timeout(BROKER_WAIT, attempt).await {
        Ok(result) => result,
        Err(_) => Err(BrokerError::NoAnswer(BROKER_WAIT)),
    }
}

/// Publishes the batch in order and awaits the confirms. Returns the ids the broker
/// confirmed, a prefix of the batch, and why the rest were not.
async fn publish(channel: &Channel, exchange: &str, batch: &[ChangeRecord]) -> (Vec<i64>, Option<String>) {
    let mut pending = Vec::with_capacity(batch.len());
    let mut failure = None;
    for change in batch {
        let body = match serde_json::to_vec(&change.to_event()) {
            Ok(body) => body,
            Err(err) => {
                failure = Some(err.to_string());
                break;
            }
        };
        let properties = BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_type("application/json".into())
            .with_message_id(change.id.to_string().into())
            .with_type(changes::event_type(&change.entity, &change.action).into())
            .with_timestamp((change.at_ms / 1000).max(0) as u64);
        let sent = channel
            .basic_publish(exchange, &change.routing_key(), BasicPublishOptions::default(), &body, properties)
            .await;
        match sent {
            Ok(confirm) => pending.push((change.id, confirm)),
            Err(err) => {
                failure = Some(err.to_string());
                break;
            }
        }
    }
    let mut confirmed = Vec::with_capacity(pending.len());
    let deadline = tokio::time::Instant::now() + BROKER_WAIT;
    for (id, confirm) in pending {
        match tokio::time::timeout_at(deadline, confirm).await {
            Ok(Ok(Confirmation::Ack(_))) => confirmed.push(id),
            Ok(Ok(other)) => {
                failure.get_or_insert_with(|| format!("the broker did not accept change {id}: {other:?}"));
                break;
            }
            Ok(Err(err)) => {
                failure.get_or_insert_with(|| err.to_string());
                break;
            }
            Err(_) => {
                failure.get_or_insert_with(|| format!("no confirm within {BROKER_WAIT:?}"));
                break;
            }
        }
    }
    (confirmed, failure)
}
