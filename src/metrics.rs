//! Prometheus metrics (contract §5): requests by route template and status, latency
//! per route, database pool use, requests shed, credential-cache hits and misses.

use std::sync::Arc;

use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::api::spcm::ReadCache;
use crate::auth::CredentialCache;
use crate::store::DbPool;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

/// The service's metrics; one instance shared by every worker.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    shed: Family<RouteLabels, Counter>,
}

/// Values read at scrape time from the pool and the credential cache.
#[derive(Debug)]
struct LiveValues {
    pool: DbPool,
    credentials: Arc<CredentialCache>,
    reads: Arc<ReadCache>,
}

impl std::fmt::Debug for DbPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbPool").field("backend", &self.backend()).finish()
    }
}

impl std::fmt::Debug for CredentialCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialCache").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ReadCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache").finish_non_exhaustive()
    }
}

impl prometheus_client::collector::Collector for LiveValues {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let (open, idle) = self.pool.state();
        let gauges = [
            ("spcm_db_pool_connections_in_use", "Database connections lent to requests", open.saturating_sub(idle)),
            ("spcm_db_pool_connections_idle", "Open database connections waiting in the pool", idle),
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(i64::from(value));
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        let (hits, misses) = self.credentials.stats();
        let (read_hits, read_misses) = self.reads.stats();
        let counters = [
            ("spcm_read_cache_hits", "SPCM reads answered from memory at the tenant's current version", read_hits),
            ("spcm_read_cache_misses", "SPCM reads that went to the database", read_misses),
            ("spcm_credential_cache_hits", "Requests whose credentials were verified without argon2", hits),
            ("spcm_credential_cache_misses", "Credential checks that ran argon2 or failed", misses),
            ("spcm_db_queries", "Statements run on the database", self.pool.queries()),
        ];
        for (name, help, value) in counters {
            let counter = ConstCounter::new(value);
            counter.encode(encoder.encode_descriptor(name, help, None, counter.metric_type())?)?;
        }
        Ok(())
    }
}

impl Metrics {
    pub fn new(pool: DbPool, credentials: Arc<CredentialCache>, reads: Arc<ReadCache>) -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ])
        });
        let shed = Family::<RouteLabels, Counter>::default();
        registry.register("spcm_http_requests", "HTTP requests by route template and status", requests.clone());
        registry.register(
            "spcm_http_request_duration_seconds",
            "HTTP request latency by route template",
            latency.clone(),
        );
        registry.register(
            "spcm_requests_shed",
            "Requests answered 503 (overload or database unavailable)",
            shed.clone(),
        );
        registry.register_collector(Box::new(LiveValues { pool, credentials, reads }));
        Metrics { registry, requests, latency, shed }
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let route_labels = RouteLabels { method: method.to_owned(), route: route.to_owned() };
        self.latency.get_or_create(&route_labels).observe(seconds);
        if status == 503 {
            self.shed.get_or_create(&route_labels).inc();
        }
        self.requests
            .get_or_create(&RequestLabels { method: method.to_owned(), route: route.to_owned(), status })
            .inc();
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}
