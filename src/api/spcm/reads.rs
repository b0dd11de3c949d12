//! Repeated reads of the SPCM face, answered from memory and still exact.
//!
//! A remembered login (credentials → caller) and a remembered answer (tenant + path and
//! query → body) each carry the tenant's version they were read at. Both are used only
//! when the version checker says, from a query that started after the request arrived,
//! that the tenant is still at that version: nothing of the tenant (profiles, users,
//! passwords, permissions) changed since, on any instance sharing the database. Anything
//! else reads the database as before.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use parking_lot::RwLock;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::auth::Principal;

/// Logins kept before that part of the cache starts over.
const LOGIN_CAPACITY: usize = 10_000;
/// Bytes of answers kept before that part of the cache starts over.
const ANSWER_BUDGET: usize = 8 << 20;

const X_TOTAL_COUNT: HeaderName = HeaderName::from_static("x-total-count");

/// A 200 answer of a GET, as sent.
pub struct Answer {
    body: Bytes,
    /// `X-Total-Count` of a listing.
    total: Option<HeaderValue>,
}

impl Answer {
    pub fn new(body: Vec<u8>, total: Option<i64>) -> Answer {
        Answer { body: Bytes::from(body), total: total.map(HeaderValue::from) }
    }

    pub fn response(&self) -> HttpResponse {
        let mut response = HttpResponse::Ok();
        response.content_type(super::handlers::HAL_JSON);
        if let Some(total) = &self.total {
            response.insert_header((X_TOTAL_COUNT, total.clone()));
        }
        response.body(self.body.clone())
    }
}

/// What a login key stands for. The key is a SHA-256 of the credentials under a random
/// key that lives and dies with the process; the password itself is never kept.
pub type LoginKey = [u8; 32];

struct Versioned<T> {
    version: i64,
    value: T,
}

#[derive(Default)]
struct Answers {
    by_tenant: HashMap<i64, HashMap<Box<str>, Versioned<Arc<Answer>>>>,
    bytes: usize,
}

pub struct ReadCache {
    key: [u8; 32],
    logins: RwLock<HashMap<LoginKey, Versioned<Principal>>>,
    answers: RwLock<Answers>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Default for ReadCache {
    fn default() -> Self {
        ReadCache {
            key: crate::auth::process_key(),
            logins: RwLock::default(),
            answers: RwLock::default(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }
}

impl ReadCache {
    pub fn login_key(&self, tenant: &str, username: &str, password: &secrecy::SecretString) -> LoginKey {
        let mut hasher = Sha256::new();
        hasher.update(self.key);
        for part in [tenant.as_bytes(), username.as_bytes(), password.expose_secret().as_bytes()] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        hasher.finalize().into()
    }

    /// The caller and the answer remembered for this login and path, when both were
    /// read at the same version (which the caller must still confirm as current).
    pub fn lookup(&self, login: &LoginKey, path: &str) -> Option<(Principal, i64, Arc<Answer>)> {
        let (principal, version) = {
            let logins = self.logins.read();
            let entry = logins.get(login)?;
            (entry.value.clone(), entry.version)
        };
        let answers = self.answers.read();
        let answer = answers.by_tenant.get(&principal.tenant_id)?.get(path).filter(|a| a.version == version)?;
        Some((principal, version, answer.value.clone()))
    }

    pub fn remember_login(&self, login: LoginKey, principal: &Principal) {
        let mut logins = self.logins.write();
        if logins.len() >= LOGIN_CAPACITY && !logins.contains_key(&login) {
            logins.clear();
        }
        logins.insert(login, Versioned { version: principal.tenant_version, value: principal.clone() });
    }

    /// Remembers `answer` of `path`, read at the tenant's `version`; answers of older
    /// versions of the tenant can never be used again and go.
    pub fn remember_answer(&self, tenant_id: i64, version: i64, path: &str, answer: Arc<Answer>) {
        let size = path.len() + answer.body.len();
        if size > ANSWER_BUDGET / 4 {
            return;
        }
        let mut answers = self.answers.write();
        if answers.bytes + size > ANSWER_BUDGET {
            *answers = Answers::default();
        }
        let Answers { by_tenant, bytes } = &mut *answers;
        let tenant = by_tenant.entry(tenant_id).or_default();
        if tenant.values().any(|a| a.version > version) {
            return; // a newer read of this tenant already came back
        }
        tenant.retain(|p, a| {
            let keep = a.version == version && **p != *path;
            if !keep {
                *bytes -= p.len() + a.value.body.len();
            }
            keep
        });
        tenant.insert(path.into(), Versioned { version, value: answer });
        *bytes += size;
    }

    pub fn count(&self, hit: bool) {
        let counter = if hit { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Reads answered from memory, and reads that went to the database.
    pub fn stats(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::PermissionSet;

    fn principal(tenant_version: i64) -> Principal {
        Principal { tenant_id: 1, user_id: 7, permissions: PermissionSet::all(), tenant_version }
    }

    #[test]
    fn an_answer_is_found_only_with_a_login_of_its_version() {
        let cache = ReadCache::default();
        let login = cache.login_key("default", "admin", &"pw".into());
        assert_ne!(login, cache.login_key("default", "admin", &"pw2".into()));
        assert_ne!(login, cache.login_key("defaulta", "dmin", &"pw".into()), "parts cannot run together");

        cache.remember_login(login, &principal(3));
        assert!(cache.lookup(&login, "/p/1").is_none(), "no answer yet");
        cache.remember_answer(1, 3, "/p/1", Arc::new(Answer::new(b"{}".to_vec(), None)));
        let (found, version, _) = cache.lookup(&login, "/p/1").expect("hit");
        assert_eq!((found.user_id, version), (7, 3));

        cache.remember_answer(1, 4, "/p/2", Arc::new(Answer::new(b"[]".to_vec(), Some(2))));
        assert!(cache.lookup(&login, "/p/1").is_none(), "version 3 answers went with version 4");
        assert!(cache.lookup(&login, "/p/2").is_none(), "the login is of version 3");
        cache.remember_login(login, &principal(4));
        assert!(cache.lookup(&login, "/p/2").is_some());

        cache.remember_answer(1, 3, "/p/1", Arc::new(Answer::new(b"{}".to_vec(), None)));
        assert!(cache.lookup(&login, "/p/1").is_none(), "an older read does not come back");
        assert_eq!(cache.answers.read().bytes, "/p/2".len() + 2);
    }
}
