//! A per-tenant bound on how many expensive operations run at once (contract §1.1:
//! one tenant's legal work cannot make another tenant's requests fail or crawl).
//!
//! Expensive is what can hold a pooled connection, a blocking thread, the write lock
//! or the CPU for long: catalogue imports and exports, catalogue views not answered from
//! memory, listings without `limit`, 207 batches, pages of the change history and feed. Beyond the bound, that tenant alone gets 429
//! with `Retry-After`; other tenants' turns are not touched. The tenant is the one the
//! credentials were verified for, never a header a stranger could send.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use crate::background::{Background, JobFailed};
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// When a refused client may try again: expensive operations take a fraction of a second.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The kinds of expensive work, as the refusals metric names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Expensive {
    CatalogueImport,
    CatalogueExport,
    /// A catalogue view built and encoded (not answered from memory).
    CatalogueView,
    /// A listing of provisioning profiles without `limit`: every matching profile.
    FullListing,
    /// A 207 batch: up to 1,000 items, each its own transaction.
    Batch,
    /// A page of the change history or feed.
    ChangePage,
}

impl Expensive {
    pub fn as_str(self) -> &'static str {
        match self {
            Expensive::CatalogueImport => "catalogue_import",
            Expensive::CatalogueExport => "catalogue_export",
            Expensive::CatalogueView => "catalogue_view",
            Expensive::FullListing => "full_listing",
            Expensive::Batch => "batch",
            Expensive::ChangePage => "change_page",
        }
    }

    const ALL: [Expensive; 6] = [
        Expensive::CatalogueImport,
        Expensive::CatalogueExport,
        Expensive::CatalogueView,
        Expensive::FullListing,
        Expensive::Batch,
        Expensive::ChangePage,
    ];
}

impl EncodeLabelValue for Expensive {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct WorkLabel {
    work: Expensive,
}

/// The tenant is at its bound: refused, retry after `RETRY_AFTER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// How many expensive operations each tenant runs now.
#[derive(Debug)]
pub struct FairShare {
    per_tenant: usize,
    /// Only tenants with work running have an entry, so its size is bounded by the
    /// requests in flight.
    running: Mutex<HashMap<i64, usize>>,
    refused: Family<WorkLabel, Counter>,
    /// Where a turn's CPU-heavy part runs: below every short request's priority.
    background: Background,
}

/// A tenant's turn at expensive work; the slot is free again when it drops.
#[derive(Debug)]
pub struct Turn {
    share: Arc<FairShare>,
    tenant_id: i64,
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut running = self.share.running.lock();
        if let Some(count) = running.get_mut(&self.tenant_id) {
            *count -= 1;
            if *count == 0 {
                running.remove(&self.tenant_id);
            }
        }
    }
}

impl Turn {
    /// Runs the CPU-heavy part of the turn's work (parsing, validating, encoding) on the
    /// low-priority threads. `f` must not hold a pooled connection or a lock.
    pub async fn run<T, F>(&self, f: F) -> Result<T, JobFailed>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.share.background.run(f).await
    }
}

impl FairShare {
    /// At most `per_tenant` expensive operations of one tenant at once (at least one);
    /// their heavy parts run on `background`.
    pub fn new(per_tenant: usize, background: Background) -> Arc<FairShare> {
        let refused = Family::default();
        // Every series exists from the start, so that an alert on it never reads "no data".
        for work in Expensive::ALL {
            let _ = refused.get_or_create(&WorkLabel { work });
        }
        Arc::new(FairShare { per_tenant: per_tenant.max(1), running: Mutex::default(), refused, background })
    }

    /// A turn for `work` of the tenant, or `Busy` when it already runs its bound.
    pub fn enter(self: &Arc<Self>, tenant_id: i64, work: Expensive) -> Result<Turn, Busy> {
        let mut running = self.running.lock();
        let count = running.entry(tenant_id).or_insert(0);
        if *count >= self.per_tenant {
            drop(running);
            self.refused.get_or_create(&WorkLabel { work }).inc();
            return Err(Busy);
        }
        *count += 1;
        Ok(Turn { share: self.clone(), tenant_id })
    }

    pub fn register_metrics(&self, registry: &mut Registry) {
        registry.register(
            "spcm_tenant_work_refused",
            "Expensive requests refused with 429 because their tenant already ran as many at once as allowed, by kind",
            self.refused.clone(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_at_its_bound_is_refused_and_others_are_not() {
        let share = FairShare::new(2, Background::start(1).expect("threads start"));
        let first = share.enter(1, Expensive::CatalogueImport).unwrap();
        let _second = share.enter(1, Expensive::FullListing).unwrap();
        assert_eq!(share.enter(1, Expensive::Batch).unwrap_err(), Busy);
        let _other = share.enter(2, Expensive::Batch).expect("another tenant has its own turns");
        drop(first);
        let _again = share.enter(1, Expensive::Batch).expect("a turn came free");
        assert_eq!(share.refused.get_or_create(&WorkLabel { work: Expensive::Batch }).get(), 1);
        drop(_again);
        drop(_second);
        drop(_other);
        assert!(share.running.lock().is_empty(), "no entry outlives its turns");
    }
}
