//! Prometheus metrics (contract §5): requests by route template and status, latency
//! per route, database pool use, requests in flight and shed. Caches and the sign-in
//! guard register their own counters (`Metrics::new`'s `register`).
//!
//! Every label comes from a fixed set, so nothing a client sends can grow the
//! exposition: methods outside the standard ones count as `other`, paths as their
//! route template or `unmatched`.

use std::borrow::Cow;

use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::store::DbPool;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: &'static str,
    pub route: Cow<'static, str>,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: &'static str,
    pub route: Cow<'static, str>,
}

/// The service's metrics; one instance shared by every worker.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    shed: Family<RouteLabels, Counter>,
}

/// Values read at scrape time from the pool and the admission bound.
struct LiveValues {
    pool: DbPool,
    /// Requests being handled now.
    in_flight: Box<dyn Fn() -> usize + Send + Sync>,
}

impl std::fmt::Debug for LiveValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveValues").field("pool", &self.pool).field("in_flight", &(self.in_flight)()).finish()
    }
}

/// The method as a label: one of the standard methods, or `other`.
pub fn method_label(method: &actix_web::http::Method) -> &'static str {
    const KNOWN: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"];
    KNOWN.into_iter().find(|known| *known == method.as_str()).unwrap_or("other")
}

impl prometheus_client::collector::Collector for LiveValues {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let (open, idle) = self.pool.state();
        let gauges = [
            (
                "spcm_db_pool_connections_in_use",
                "Database connections lent to requests",
                i64::from(open.saturating_sub(idle)),
            ),
            ("spcm_db_pool_connections_idle", "Open database connections waiting in the pool", i64::from(idle)),
            ("spcm_requests_in_flight", "Requests being handled now", (self.in_flight)() as i64),
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        let queries = ConstCounter::new(self.pool.queries());
        queries.encode(encoder.encode_descriptor(
            "spcm_db_queries",
            "Statements run on the database",
            None,
            queries.metric_type(),
        )?)?;
        if let Some(syncs) = self.pool.wal_syncs() {
            let syncs = ConstCounter::new(syncs);
            syncs.encode(encoder.encode_descriptor(
                "spcm_sqlite_wal_syncs",
                "Syncs of the SQLite write-ahead log; one makes every write committed before it durable",
                None,
                syncs.metric_type(),
            )?)?;
        }
        Ok(())
    }
}

impl Metrics {
    /// The service's metrics; `register` adds the counters that other parts own.
    /// `in_flight` counts the requests being handled now.
    pub fn new(
        pool: DbPool,
        in_flight: impl Fn() -> usize + Send + Sync + 'static,
        register: impl FnOnce(&mut Registry),
    ) -> Metrics {
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
        registry.register_collector(Box::new(LiveValues { pool, in_flight: Box::new(in_flight) }));
        register(&mut registry);
        Metrics { registry, requests, latency, shed }
    }

    /// Counts one answer; `route` is the route template (borrowed for the documented
    /// endpoints, so that the common case allocates nothing).
    pub fn observe(&self, method: &'static str, route: Cow<'static, str>, status: u16, seconds: f64) {
        let route_labels = RouteLabels { method, route };
        self.latency.get_or_create(&route_labels).observe(seconds);
        if status == 503 {
            self.shed.get_or_create(&route_labels).inc();
        }
        self.requests.get_or_create(&RequestLabels { method, route: route_labels.route, status }).inc();
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}
