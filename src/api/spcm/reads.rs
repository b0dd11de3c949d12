//! Repeated reads of the SPCM face, answered from memory and still exact.
//!
//! A remembered login (`auth::LoginCache`) and a remembered answer (tenant + path and
//! query → body) each carry the tenant's version they were read at. Both are used only
//! when the version checker says, from a query that started after the request arrived,
//! that the tenant is still at that version: nothing of the tenant (profiles, users,
//! passwords, permissions) changed since, on any instance sharing the database. Anything
//! else reads the database as before.
//!
//! An answer does not depend on the representation asked for until it is sent: it keeps
//! the JSON body and the ETag of every representation, picks the tag per request, and
//! the XML, `Vary` and `Cache-Control` are added on the way out (`envelope`), as for an
//! answer read from the database.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use moka::sync::Cache;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;

use super::conditional::{Condition, EntityTags};

/// Bytes of answers kept; beyond, the least useful go.
const ANSWER_BUDGET: u64 = 8 << 20;

const X_TOTAL_COUNT: HeaderName = HeaderName::from_static("x-total-count");

/// A 200 answer of a GET, as the handler writes it (JSON; the XML is made from it on the
/// way out), with the ETag of each representation: the one sent is the one asked for.
pub struct Answer {
    body: Bytes,
    tags: EntityTags,
    /// `X-Total-Count` of a listing.
    total: Option<HeaderValue>,
    /// The paging links of a listing with a `limit`, as an RFC 8288 `Link` header.
    links: Option<HeaderValue>,
}

impl Answer {
    pub fn new(body: Vec<u8>, tags: EntityTags, total: Option<i64>) -> Answer {
        Answer { body: Bytes::from(body), tags, total: total.map(HeaderValue::from), links: None }
    }

    /// The same answer with a `Link` header (a value that is not a header value is left out).
    pub fn with_links(mut self, links: Option<String>) -> Answer {
        self.links = links.and_then(|links| HeaderValue::try_from(links).ok());
        self
    }

    /// The answer to `req`: 304 without a body when its `If-None-Match` names the ETag of
    /// the representation it asked for.
    pub fn response(&self, req: &HttpRequest, if_none_match: Option<&Condition>) -> HttpResponse {
        let etag = self.tags.answering(req);
        if if_none_match.is_some_and(|condition| condition.names(etag)) {
            return HttpResponse::NotModified().insert_header((header::ETAG, etag.clone())).finish();
        }
        let mut response = HttpResponse::Ok();
        response.content_type(super::handlers::HAL_JSON).insert_header((header::ETAG, etag.clone()));
        if let Some(total) = &self.total {
            response.insert_header((X_TOTAL_COUNT, total.clone()));
        }
        if let Some(links) = &self.links {
            response.insert_header((header::LINK, links.clone()));
        }
        response.body(self.body.clone())
    }
}

struct Versioned {
    version: i64,
    answer: Arc<Answer>,
}

/// The weight of an answer: its bytes and its key's (at most a quarter of the budget).
fn answer_weight(key: &Key, value: &Arc<Versioned>) -> u32 {
    u32::try_from(key.path.len() + value.answer.body.len() + 128).unwrap_or(u32::MAX)
}

/// A tenant and a path with its query.
struct Key {
    tenant_id: i64,
    path: Box<str>,
}

/// A tenant and a path, owned (`Key`) or borrowed (`(i64, &str)`), so that an answer
/// is looked up without building its key; both hash and compare by these parts.
trait AnswerKey {
    fn parts(&self) -> (i64, &str);
}

impl AnswerKey for Key {
    fn parts(&self) -> (i64, &str) {
        (self.tenant_id, &self.path)
    }
}

impl AnswerKey for (i64, &str) {
    fn parts(&self) -> (i64, &str) {
        *self
    }
}

impl<'a> Borrow<dyn AnswerKey + 'a> for Key {
    fn borrow(&self) -> &(dyn AnswerKey + 'a) {
        self
    }
}

impl Hash for dyn AnswerKey + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parts().hash(state);
    }
}

impl PartialEq for dyn AnswerKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn AnswerKey + '_ {}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parts().hash(state);
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for Key {}

/// Answers by tenant and path, each with the tenant's version it was read at: an answer
/// of an older version is simply never used again (and is evicted in time), so a write
/// costs the cache nothing.
pub struct ReadCache {
    answers: Cache<Key, Arc<Versioned>>,
    hits: Counter,
    misses: Counter,
}

impl Default for ReadCache {
    fn default() -> Self {
        ReadCache {
            answers: Cache::builder().max_capacity(ANSWER_BUDGET).weigher(answer_weight).build(),
            hits: Counter::default(),
            misses: Counter::default(),
        }
    }
}

impl std::fmt::Debug for ReadCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache").finish_non_exhaustive()
    }
}

impl ReadCache {
    /// The answer of `path` read at the tenant's `version`, if remembered.
    pub fn lookup(&self, tenant_id: i64, version: i64, path: &str) -> Option<Arc<Answer>> {
        let found = self.answers.get(&(tenant_id, path) as &dyn AnswerKey).filter(|entry| entry.version == version);
        found.map(|entry| entry.answer.clone())
    }

    /// Remembers `answer` of `path`, read at the tenant's `version`, unless a read of a
    /// newer version already came back.
    pub fn remember(&self, tenant_id: i64, version: i64, path: &str, answer: Arc<Answer>) {
        if (path.len() + answer.body.len()) as u64 > ANSWER_BUDGET / 4 {
            return;
        }
        if self.answers.get(&(tenant_id, path) as &dyn AnswerKey).is_some_and(|entry| entry.version > version) {
            return;
        }
        self.answers.insert(Key { tenant_id, path: path.into() }, Arc::new(Versioned { version, answer }));
    }

    pub fn count(&self, hit: bool) {
        let counter = if hit { &self.hits } else { &self.misses };
        counter.inc();
    }

    pub fn register_metrics(&self, registry: &mut Registry) {
        registry.register(
            "spcm_read_cache_hits",
            "SPCM reads answered from memory at the tenant's current version",
            self.hits.clone(),
        );
        registry.register("spcm_read_cache_misses", "SPCM reads that went to the database", self.misses.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &[u8]) -> Arc<Answer> {
        Arc::new(Answer::new(body.to_vec(), EntityTags::profile(1, 1, 1), None))
    }

    #[test]
    fn an_answer_is_found_only_at_its_version() {
        let cache = ReadCache::default();
        assert!(cache.lookup(1, 3, "/p/1").is_none(), "no answer yet");
        cache.remember(1, 3, "/p/1", answer(b"{}"));
        assert!(cache.lookup(1, 3, "/p/1").is_some());
        assert!(cache.lookup(2, 3, "/p/1").is_none(), "another tenant's answer");
        assert!(cache.lookup(1, 4, "/p/1").is_none(), "a newer version misses");
        cache.remember(1, 4, "/p/1", answer(b"[]"));
        cache.remember(1, 3, "/p/1", answer(b"{}"));
        assert!(cache.lookup(1, 4, "/p/1").is_some(), "an older read does not come back");
        assert!(cache.lookup(1, 3, "/p/1").is_none());
    }
}
