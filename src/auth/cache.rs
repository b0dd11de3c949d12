//! Remembers which (user, stored hash, password) triples passed argon2, so that a
//! caller with known-good credentials costs no argon2 on later requests.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

use rand::RngCore;
use sha2::{Digest, Sha256};

/// Entries kept before the cache starts over; a miss only costs one argon2 run.
const CAPACITY: usize = 10_000;

struct Entry {
    password_hash: String,
    digest: [u8; 32],
}

/// Verified credentials, keyed by user id. The password itself is never kept: only a
/// SHA-256 of it under a random key that lives and dies with the process.
pub struct CredentialCache {
    key: [u8; 32],
    entries: RwLock<HashMap<i64, Entry>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// A random key that lives and dies with the process, for keyed digests of secrets
/// held in memory.
pub fn process_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    key
}

impl Default for CredentialCache {
    fn default() -> Self {
        CredentialCache {
            key: process_key(),
            entries: RwLock::new(HashMap::new()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }
}

impl CredentialCache {
    fn digest(&self, user_id: i64, password: &[u8]) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(self.key);
        hasher.update(user_id.to_le_bytes());
        hasher.update(password);
        hasher.finalize().into()
    }

    /// True when this password was verified against this exact stored hash. A changed
    /// password (new hash) misses, so the new hash decides.
    pub fn is_verified(&self, user_id: i64, password_hash: &str, password: &[u8]) -> bool {
        let digest = self.digest(user_id, password);
        let hit = self
            .entries
            .read()
            .map(|entries| {
                entries.get(&user_id).is_some_and(|e| e.password_hash == password_hash && e.digest == digest)
            })
            .unwrap_or(false);
        let counter = if hit { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        hit
    }

    pub fn remember(&self, user_id: i64, password_hash: &str, password: &[u8]) {
        let digest = self.digest(user_id, password);
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= CAPACITY && !entries.contains_key(&user_id) {
                entries.clear();
            }
            entries.insert(user_id, Entry { password_hash: password_hash.to_owned(), digest });
        }
    }

    /// Lookups that found verified credentials, and those that did not.
    pub fn stats(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_password_hits_only_for_the_same_hash() {
        let cache = CredentialCache::default();
        assert!(!cache.is_verified(1, "$hash1", b"pw"));
        cache.remember(1, "$hash1", b"pw");
        assert!(cache.is_verified(1, "$hash1", b"pw"));
        assert!(!cache.is_verified(1, "$hash1", b"other"));
        assert!(!cache.is_verified(1, "$hash2", b"pw"), "a changed hash must miss");
        assert!(!cache.is_verified(2, "$hash1", b"pw"));
        assert_eq!(cache.stats(), (1, 4));
    }
}
