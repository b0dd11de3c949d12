//! Parsed catalogues kept between requests. Each request reads the stored version
//! (one small query), so an import on any instance is seen at once. The cache is
//! bounded by the size of the stored documents (contract §1.1: caches are bounded), and
//! a tenant's catalogue is loaded by one request at a time: the others wait for it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use moka::ops::compute::{CompResult, Op};
use moka::sync::Cache;

use crate::domain::catalogue::CatalogueIndex;
use crate::store::catalogue::StoredCatalogue;
use crate::store::{self, DbConnection, StoreError};

/// What the cache may hold, in bytes of stored JSON; the parsed form takes a small
/// multiple of that. A larger catalogue is still served, parsed once per request.
pub const BUDGET_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Clone)]
struct Entry {
    index: Arc<CatalogueIndex>,
    /// The stored document's length: the entry's weight.
    bytes: u32,
}

/// Hits and misses since start, and what the cache holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogueCacheStats {
    /// Answered from memory.
    pub hits: u64,
    /// Not in memory at the wanted version (or newer).
    pub misses: u64,
    /// Documents read from the database and parsed; at most one per miss, fewer when
    /// concurrent misses of one tenant wait for the same load.
    pub loads: u64,
    pub entries: u64,
    /// Sum of the stored lengths of the documents held.
    pub weighted_bytes: u64,
}

pub struct CatalogueCache {
    entries: Cache<i64, Entry>,
    hits: AtomicU64,
    misses: AtomicU64,
    loads: AtomicU64,
}

impl Default for CatalogueCache {
    fn default() -> Self {
        CatalogueCache::with_budget(BUDGET_BYTES)
    }
}

impl CatalogueCache {
    pub fn with_budget(bytes: u64) -> Self {
        CatalogueCache {
            entries: Cache::builder().max_capacity(bytes).weigher(|_, entry: &Entry| entry.bytes).build(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            loads: AtomicU64::new(0),
        }
    }

    /// The tenant's current catalogue, `None` before its first import.
    pub fn current(&self, conn: &mut DbConnection, tenant_id: i64) -> Result<Option<Arc<CatalogueIndex>>, StoreError> {
        let Some(version) = store::catalogue::version(conn, tenant_id)? else {
            return Ok(None);
        };
        self.at_least(tenant_id, version, || store::catalogue::load(conn, tenant_id))
    }

    /// The cached catalogue if it is at `version` or newer, else the one `load` reads.
    /// Loads of one tenant run one at a time; a request that waited for another's load
    /// takes its result instead of loading again.
    fn at_least(
        &self,
        tenant_id: i64,
        version: i64,
        load: impl FnOnce() -> Result<Option<StoredCatalogue>, StoreError>,
    ) -> Result<Option<Arc<CatalogueIndex>>, StoreError> {
        let fresh = |entry: &Entry| entry.index.version >= version;
        if let Some(entry) = self.entries.get(&tenant_id).filter(fresh) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Some(entry.index));
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let computed = self.entries.entry(tenant_id).and_try_compute_with(|current| {
            if current.as_ref().is_some_and(|entry| fresh(entry.value())) {
                return Ok(Op::Nop);
            }
            self.loads.fetch_add(1, Ordering::Relaxed);
            Ok::<_, StoreError>(match load()? {
                Some(stored) => Op::Put(Entry {
                    bytes: u32::try_from(stored.bytes).unwrap_or(u32::MAX),
                    index: Arc::new(CatalogueIndex::new(stored.version, stored.document)),
                }),
                // Gone since its version was read (the tenant was removed).
                None => Op::Remove,
            })
        })?;
        Ok(match computed {
            CompResult::Inserted(entry) | CompResult::ReplacedWith(entry) | CompResult::Unchanged(entry) => {
                Some(entry.into_value().index)
            }
            CompResult::Removed(_) | CompResult::StillNone(_) => None,
        })
    }

    pub fn stats(&self) -> CatalogueCacheStats {
        CatalogueCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            loads: self.loads.load(Ordering::Relaxed),
            entries: self.entries.entry_count(),
            weighted_bytes: self.entries.weighted_size(),
        }
    }
}

impl std::fmt::Debug for CatalogueCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogueCache").field("stats", &self.stats()).finish()
    }
}

/// The cache's figures, read at scrape time.
#[derive(Debug)]
struct CacheMetrics(Arc<CatalogueCache>);

impl prometheus_client::collector::Collector for CacheMetrics {
    fn encode(&self, mut encoder: prometheus_client::encoding::DescriptorEncoder) -> Result<(), std::fmt::Error> {
        use prometheus_client::encoding::EncodeMetric;
        use prometheus_client::metrics::counter::ConstCounter;
        use prometheus_client::metrics::gauge::ConstGauge;
        let stats = self.0.stats();
        let counters = [
            ("spcm_catalogue_cache_hits", "Catalogue views answered from a parsed catalogue in memory", stats.hits),
            ("spcm_catalogue_cache_misses", "Catalogue views that needed the stored document", stats.misses),
            ("spcm_catalogue_cache_loads", "Stored catalogues read and parsed", stats.loads),
        ];
        for (name, help, value) in counters {
            let counter = ConstCounter::new(value);
            counter.encode(encoder.encode_descriptor(name, help, None, counter.metric_type())?)?;
        }
        let gauges = [
            ("spcm_catalogue_cache_entries", "Parsed catalogues held", stats.entries),
            ("spcm_catalogue_cache_bytes", "Stored size of the catalogues held", stats.weighted_bytes),
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX));
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        Ok(())
    }
}

impl CatalogueCache {
    pub fn register_metrics(self: &Arc<Self>, registry: &mut prometheus_client::registry::Registry) {
        registry.register_collector(Box::new(CacheMetrics(self.clone())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    use crate::domain::catalogue::CatalogueDocument;

    fn stored(version: i64, bytes: usize) -> Result<Option<StoredCatalogue>, StoreError> {
        Ok(Some(StoredCatalogue { version, document: CatalogueDocument::default(), bytes }))
    }

    #[test]
    fn a_version_is_loaded_once_and_a_newer_one_replaces_it() {
        let cache = CatalogueCache::default();
        let first = cache.at_least(1, 3, || stored(3, 10)).unwrap().unwrap();
        let again = cache.at_least(1, 3, || panic!("loaded twice")).unwrap().unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        // A request that read an older version takes the newer catalogue in memory.
        assert_eq!(cache.at_least(1, 2, || panic!("loaded for an older version")).unwrap().unwrap().version, 3);
        assert_eq!(cache.at_least(1, 4, || stored(4, 10)).unwrap().unwrap().version, 4);
        assert_eq!(cache.at_least(2, 1, || Ok(None)).unwrap().map(|index| index.version), None);
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses, stats.loads), (2, 3, 3));
    }

    #[test]
    fn the_cache_keeps_within_its_budget() {
        let cache = CatalogueCache::with_budget(1_000);
        for tenant in 0..10 {
            cache.at_least(tenant, 1, || stored(1, 400)).unwrap();
        }
        cache.entries.run_pending_tasks();
        let stats = cache.stats();
        assert!(stats.weighted_bytes <= 1_000, "{stats:?}");
        assert!(stats.entries <= 2, "{stats:?}");
        // A catalogue larger than the whole budget is still answered.
        assert!(cache.at_least(99, 1, || stored(1, 5_000)).unwrap().is_some());
    }

    #[test]
    fn concurrent_misses_of_one_tenant_wait_for_one_load() {
        let cache = Arc::new(CatalogueCache::default());
        let (loading, started) = mpsc::channel::<()>();
        let (release, released) = mpsc::channel::<()>();
        let first = {
            let (cache, loading) = (cache.clone(), loading.clone());
            std::thread::spawn(move || {
                cache.at_least(7, 1, || {
                    loading.send(()).unwrap();
                    released.recv().unwrap();
                    stored(1, 10)
                })
            })
        };
        started.recv().unwrap();
        let others: Vec<_> = (0..4)
            .map(|_| {
                let (cache, loading) = (cache.clone(), loading.clone());
                std::thread::spawn(move || {
                    cache.at_least(7, 1, || {
                        loading.send(()).unwrap();
                        stored(1, 10)
                    })
                })
            })
            .collect();
        // While the first load is held, no other request may start one of its own.
        assert!(started.recv_timeout(Duration::from_millis(300)).is_err(), "a second load ran concurrently");
        release.send(()).unwrap();
        let first = first.join().unwrap().unwrap().unwrap();
        for other in others {
            assert!(Arc::ptr_eq(&other.join().unwrap().unwrap().unwrap(), &first));
        }
        assert_eq!(cache.stats().loads, 1);
    }
}
