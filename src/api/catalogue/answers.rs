//! Encoded answers of catalogue views, kept per tenant, catalogue version and request
//! line. A view is a function of the catalogue alone, so an answer stays right until the
//! next import gives a new version; a product that expands to 10,000 services is 2.7 MB
//! of JSON to build and encode, and is built once per version instead of per request.
//! Bounded by the bytes held (contract §1.1: caches are bounded).

use std::sync::Arc;

use actix_web::web::Bytes;
use moka::sync::Cache;
use prometheus_client::metrics::counter::Counter;

/// What the answers may take in all, in bytes of JSON and request lines.
pub const BUDGET_BYTES: u64 = 32 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    tenant_id: i64,
    /// The catalogue's version; 0 before the tenant's first import.
    version: i64,
    /// The path and query as requested: every view and filter has its own answer.
    request: Box<str>,
}

pub struct ViewAnswers {
    answers: Cache<Key, Bytes>,
    hits: Counter,
    misses: Counter,
}

impl Default for ViewAnswers {
    fn default() -> Self {
        ViewAnswers::with_budget(BUDGET_BYTES)
    }
}

impl std::fmt::Debug for ViewAnswers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewAnswers").field("entries", &self.answers.entry_count()).finish()
    }
}

impl ViewAnswers {
    pub fn with_budget(bytes: u64) -> Self {
        ViewAnswers {
            answers: Cache::builder()
                .max_capacity(bytes)
                .weigher(|key: &Key, body: &Bytes| u32::try_from(key.request.len() + body.len()).unwrap_or(u32::MAX))
                .build(),
            hits: Counter::default(),
            misses: Counter::default(),
        }
    }

    /// The answer remembered for this request at this catalogue version.
    pub fn get(&self, tenant_id: i64, version: i64, request: &str) -> Option<Bytes> {
        let key = Key { tenant_id, version, request: request.into() };
        let found = self.answers.get(&key);
        match found {
            Some(_) => self.hits.inc(),
            None => self.misses.inc(),
        };
        found
    }

    pub fn remember(&self, tenant_id: i64, version: i64, request: &str, body: Bytes) {
        self.answers.insert(Key { tenant_id, version, request: request.into() }, body);
    }

    pub fn register_metrics(self: &Arc<Self>, registry: &mut prometheus_client::registry::Registry) {
        registry.register(
            "spcm_catalogue_view_answers_hits",
            "Catalogue views answered with an answer already encoded for the same catalogue version",
            self.hits.clone(),
        );
        registry.register(
            "spcm_catalogue_view_answers_misses",
            "Catalogue views that were built and encoded",
            self.misses.clone(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_kept_per_tenant_version_and_request_within_the_budget() {
        let answers = ViewAnswers::with_budget(10_000);
        answers.remember(1, 3, "/v2/orgs/a/base_profiles", Bytes::from_static(b"[1]"));
        assert_eq!(answers.get(1, 3, "/v2/orgs/a/base_profiles").as_deref(), Some(&b"[1]"[..]));
        assert_eq!(answers.get(1, 4, "/v2/orgs/a/base_profiles"), None, "a new version is built again");
        assert_eq!(answers.get(2, 3, "/v2/orgs/a/base_profiles"), None, "another tenant's answer is its own");
        assert_eq!(answers.get(1, 3, "/v2/orgs/a/base_profiles?sale_type_name=NEW"), None);
        assert_eq!((answers.hits.get(), answers.misses.get()), (1, 3));
        for n in 0..100 {
            answers.remember(1, n, "/v2/orgs/a/base_profiles", Bytes::from(vec![b'x'; 1_000]));
        }
        answers.answers.run_pending_tasks();
        assert!(answers.answers.weighted_size() <= 10_000, "{}", answers.answers.weighted_size());
    }
}
