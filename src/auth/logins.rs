//! Logins whose password passed argon2, so that a caller with known-good credentials
//! costs no argon2 on later requests (and, while its tenant's data version stands, no
//! database read at all: `api::spcm::reads`).

use std::sync::Arc;

use moka::sync::Cache;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use super::PermissionSet;
use crate::store::users::LoginRecord;

/// Logins kept; beyond, the least useful go (a miss costs one argon2 run).
const CAPACITY: u64 = 10_000;

/// What a login key stands for: a keyed SHA-256 of tenant, username and password under
/// a random key that lives and dies with the process. The password itself is never kept.
pub type LoginKey = [u8; 32];

/// A login verified against `password_hash`, as its user row was read at `tenant_version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedLogin {
    pub user_id: i64,
    pub tenant_id: i64,
    pub password_hash: String,
    pub permissions: PermissionSet,
    pub tenant_version: i64,
    pub username: String,
}

impl VerifiedLogin {
    pub fn from_record(record: &LoginRecord) -> VerifiedLogin {
        VerifiedLogin {
            user_id: record.user_id,
            tenant_id: record.tenant_id,
            password_hash: record.password_hash.clone(),
            permissions: PermissionSet::parse_stored(&record.permissions),
            tenant_version: record.tenant_version,
            username: record.username.clone(),
        }
    }
}

/// The one bounded cache of verified logins.
pub struct LoginCache {
    key: [u8; 32],
    entries: Cache<LoginKey, Arc<VerifiedLogin>>,
    hits: Counter,
    misses: Counter,
}

/// A random key that lives and dies with the process, for keyed digests of secrets
/// held in memory.
pub fn process_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    key
}

impl Default for LoginCache {
    fn default() -> Self {
        LoginCache {
            key: process_key(),
            entries: Cache::new(CAPACITY),
            hits: Counter::default(),
            misses: Counter::default(),
        }
    }
}

impl std::fmt::Debug for LoginCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginCache").finish_non_exhaustive()
    }
}

impl LoginCache {
    pub fn key(&self, tenant: &str, username: &str, password: &SecretString) -> LoginKey {
        let mut hasher = Sha256::new();
        hasher.update(self.key);
        for part in [tenant.as_bytes(), username.as_bytes(), password.expose_secret().as_bytes()] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        hasher.finalize().into()
    }

    /// The login as last verified, whatever has changed since (the caller checks the version).
    pub fn get(&self, login: &LoginKey) -> Option<Arc<VerifiedLogin>> {
        self.entries.get(login)
    }

    /// True when this login was verified against the hash the user row holds now; the
    /// entry then takes the row's permissions and version. A changed password (new
    /// hash) misses, so the new hash decides.
    pub fn verifies(&self, login: &LoginKey, record: &LoginRecord) -> bool {
        let known = self.entries.get(login);
        let hit = known
            .as_ref()
            .is_some_and(|known| known.user_id == record.user_id && known.password_hash == record.password_hash);
        if hit {
            self.hits.inc();
            self.store(*login, known.as_deref(), record);
        } else {
            self.misses.inc();
        }
        hit
    }

    pub fn remember(&self, login: LoginKey, record: &LoginRecord) {
        self.store(login, self.entries.get(&login).as_deref(), record);
    }

    /// Keeps `record` for `login` unless `known`, the entry there now, already says it.
    fn store(&self, login: LoginKey, known: Option<&VerifiedLogin>, record: &LoginRecord) {
        let verified = VerifiedLogin::from_record(record);
        if known != Some(&verified) {
            self.entries.insert(login, Arc::new(verified));
        }
    }

    pub fn register_metrics(&self, registry: &mut Registry) {
        registry.register(
            "spcm_credential_cache_hits",
            "Credential checks answered from verified logins, without argon2",
            self.hits.clone(),
        );
        registry.register("spcm_credential_cache_misses", "Credential checks that needed argon2", self.misses.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(hash: &str) -> LoginRecord {
        LoginRecord {
            user_id: 1,
            tenant_id: 1,
            password_hash: hash.into(),
            permissions: String::new(),
            tenant_version: 1,
            username: "admin".into(),
        }
    }

    #[test]
    fn a_remembered_login_verifies_only_against_the_same_hash() {
        let cache = LoginCache::default();
        let login = cache.key("default", "admin", &"pw".into());
        assert_ne!(login, cache.key("default", "admin", &"pw2".into()));
        assert_ne!(login, cache.key("defaulta", "dmin", &"pw".into()), "parts cannot run together");
        assert!(!cache.verifies(&login, &record("$hash1")));
        cache.remember(login, &record("$hash1"));
        assert!(cache.verifies(&login, &record("$hash1")));
        assert!(!cache.verifies(&login, &record("$hash2")), "a changed hash must miss");
        assert_eq!((cache.hits.get(), cache.misses.get()), (1, 2));
    }
}
