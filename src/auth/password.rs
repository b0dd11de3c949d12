//! argon2id password hashes as PHC strings.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::distributions::{Alphanumeric, DistString};
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::sync::Arc;

use super::logins::LoginKey;

/// Why the password machinery could not do its work.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("cannot hash password: {0}")]
    Hash(argon2::password_hash::Error),
    #[error("cannot start a password-check thread: {0}")]
    Thread(std::io::Error),
}

/// A new password refused for being too short.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the password has {chars} characters; at least {MIN_PASSWORD_CHARS} are needed")]
pub struct ShortPassword {
    pub chars: usize,
}

/// Hashes with argon2id and the crate's recommended cost (19 MiB, 2 passes).
pub fn hash_password(password: &SecretString) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(PasswordError::Hash)
}

/// True when `password` matches the PHC string; a malformed hash never matches.
pub fn verify(phc: &str, password: &[u8]) -> bool {
    match PasswordHash::new(phc) {
        Ok(hash) => Argon2::default().verify_password(password, &hash).is_ok(),
        Err(_) => {
            tracing::error!("stored password hash is not a PHC string");
            false
        }
    }
}

/// Argon2 memory a check thread keeps between checks: up to 64 MiB (the default cost
/// takes 19 MiB). A stored hash asking for more is verified with memory of its own.
const MAX_KEPT_BLOCKS: usize = 64 * 1024;

/// As `verify`, with `memory` as argon2's working memory, kept by the caller between
/// checks: a flood of checks then neither maps nor unmaps 19 MiB per check (and the
/// other threads of the process are spared the TLB flushes that unmapping costs).
fn verify_reusing(phc: &str, password: &[u8], memory: &mut Vec<argon2::Block>) -> bool {
    use argon2::{Algorithm, Params, Version};
    let Ok(hash) = PasswordHash::new(phc) else {
        tracing::error!("stored password hash is not a PHC string");
        return false;
    };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(hash.algorithm), Params::try_from(&hash)) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let blocks = params.block_count();
    if blocks > MAX_KEPT_BLOCKS {
        return verify(phc, password);
    }
    if memory.len() < blocks {
        memory.resize(blocks, argon2::Block::new());
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password,
        salt,
        &mut out,
        &mut memory[..blocks],
    );
    // `Output`'s equality is constant-time.
    hashed.is_ok() && argon2::password_hash::Output::new(&out).is_ok_and(|out| out == expected)
}

/// The shortest password the CLI and `SPCM_BOOTSTRAP_PASSWORD` accept, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Refuses a new password shorter than [`MIN_PASSWORD_CHARS`] characters.
pub fn check_new_password(password: &SecretString) -> Result<(), ShortPassword> {
    let chars = password.expose_secret().chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(ShortPassword { chars });
    }
    Ok(())
}

/// A random password of 24 letters and digits, for the bootstrap admin.
pub fn generate_password() -> SecretString {
    SecretString::from(Alphanumeric.sample_string(&mut rand::rngs::OsRng, 24))
}

/// A hash, a password, where to answer, and the permit the job holds until it is done
/// (also when its request has gone away), so that jobs never outnumber threads.
type Job = (String, SecretString, tokio::sync::oneshot::Sender<bool>, tokio::sync::OwnedSemaphorePermit);

/// Password checks run here: on `threads` threads of their own, at a lower scheduling
/// priority than the threads that serve requests, never holding a database connection,
/// and against a dummy hash when the tenant or user does not exist, so that a wrong
/// password, an unknown user and an unknown tenant cost the same time (contract §1.1).
/// A flood of wrong passwords therefore takes at most `threads` cores, and only the
/// time that requests leave over.
pub struct PasswordChecks {
    /// Checks under way for a login against a hash; those that come while one runs
    /// wait for its answer (`verify_login`).
    running: Running,
    permits: std::sync::Arc<tokio::sync::Semaphore>,
    /// The longest a check waits for a thread before the request is shed (503).
    wait: std::time::Duration,
    dummy: String,
    jobs: std::sync::mpsc::SyncSender<Job>,
    runs: prometheus_client::metrics::counter::Counter,
}

impl std::fmt::Debug for PasswordChecks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordChecks").field("available", &self.permits.available_permits()).finish()
    }
}

/// Nice value of the password-check threads: below the request threads' 0.
const CHECK_NICENESS: i32 = 10;

fn check_thread(jobs: std::sync::Arc<std::sync::Mutex<std::sync::mpsc::Receiver<Job>>>) {
    crate::background::lower_priority(CHECK_NICENESS);
    // Kept while checks keep coming; given back after a second without one.
    let mut memory: Vec<argon2::Block> = Vec::new();
    loop {
        let job = match jobs.lock() {
            Ok(receiver) => receiver.recv_timeout(std::time::Duration::from_secs(1)),
            Err(_) => return,
        };
        let (phc, password, reply, _permit) = match job {
            Ok(job) => job,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                memory = Vec::new();
                continue;
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return, // the checks were dropped
        };
        let _ = reply.send(verify_reusing(&phc, password.expose_secret().as_bytes(), &mut memory));
    }
}

impl PasswordChecks {
    pub fn new(threads: usize, wait: std::time::Duration) -> Result<PasswordChecks, PasswordError> {
        let threads = threads.max(1);
        let (jobs, receiver) = std::sync::mpsc::sync_channel(threads);
        let receiver = std::sync::Arc::new(std::sync::Mutex::new(receiver));
        for n in 0..threads {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("spcm-password-{n}"))
                .spawn(move || check_thread(receiver))
                .map_err(PasswordError::Thread)?;
        }
        Ok(PasswordChecks {
            running: Default::default(),
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(threads)),
            wait,
            dummy: hash_password(&generate_password())?,
            jobs,
            runs: Default::default(),
        })
    }

    /// True when `password` matches `hash`; with no hash, the same work against a hash
    /// nothing matches. `Unavailable` when no thread was free within the wait.
    pub async fn verify(&self, hash: Option<String>, password: SecretString) -> Result<bool, crate::store::StoreError> {
        let busy = || crate::store::StoreError::Unavailable("no password check within the wait".into());
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        self.runs.inc();
        let known = hash.is_some();
        let phc = hash.unwrap_or_else(|| self.dummy.clone());
        let (reply, matched) = tokio::sync::oneshot::channel();
        // Never blocks: the permits keep at most one job per thread in the channel.
        self.jobs
            .try_send((phc, password, reply, permit))
            .map_err(|_| crate::store::StoreError::Internal("password checks stopped".into()))?;
        let matched = matched.await.map_err(|_| crate::store::StoreError::Internal("password check failed".into()))?;
        Ok(known && matched)
    }

    /// As `verify`, for `login` (a keyed digest of tenant, username and password): while
    /// a check of the same login against the same hash runs, another one waits for its
    /// answer instead of running argon2 again, so a burst of first requests with new
    /// credentials costs one check. Entries live only while their check runs: at most
    /// one per request in flight.
    pub async fn verify_login(
        &self,
        login: LoginKey,
        hash: Option<String>,
        password: SecretString,
    ) -> Result<bool, crate::store::StoreError> {
        let key = (login, hash);
        let shared = {
            let mut running = self.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            running.entry(key.clone()).or_default().clone()
        };
        let _leaving = Leaving { running: &self.running, key: &key, shared: &shared };
        // A waiter whose check failed (no thread free in time) lets the next one try.
        shared.get_or_try_init(|| self.verify(key.1.clone(), password)).await.copied()
    }

    pub fn register_metrics(&self, registry: &mut prometheus_client::registry::Registry) {
        registry.register(
            "spcm_password_checks",
            "Argon2 verifications run, against a user's hash or the dummy hash",
            self.runs.clone(),
        );
    }
}

/// The answer of one check, shared by every request that waits for it.
type SharedAnswer = tokio::sync::OnceCell<bool>;

/// The checks under way, by login and the hash it is checked against.
type Running = std::sync::Mutex<HashMap<(LoginKey, Option<String>), Arc<SharedAnswer>>>;

/// Takes a shared check off the list of running ones when a request that took part in
/// it leaves (answered, failed or dropped): later requests then start afresh, or find
/// the login remembered. Requests already waiting keep their share.
struct Leaving<'a> {
    running: &'a Running,
    key: &'a (LoginKey, Option<String>),
    shared: &'a Arc<SharedAnswer>,
}

impl Drop for Leaving<'_> {
    fn drop(&mut self) {
        let mut running = self.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if running.get(self.key).is_some_and(|current| Arc::ptr_eq(current, self.shared)) {
            running.remove(self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_reusing_its_memory_agrees_with_the_plain_one() {
        let phc = hash_password(&SecretString::from("s3cret")).unwrap();
        let mut memory = Vec::new();
        assert!(verify_reusing(&phc, b"s3cret", &mut memory));
        assert!(!verify_reusing(&phc, b"s3cret ", &mut memory), "the same memory, another password");
        assert!(verify_reusing(&phc, b"s3cret", &mut memory), "memory left by a failed check is fine");
        assert!(!verify_reusing("not a hash", b"s3cret", &mut memory));
        let cheap = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(1024, 1, 1, None).unwrap(),
        );
        let salt = SaltString::generate(&mut OsRng);
        let other = cheap.hash_password(b"pw", &salt).unwrap().to_string();
        assert!(verify_reusing(&other, b"pw", &mut memory), "another cost, in memory sized before");
        assert!(!verify_reusing(&other, b"pw2", &mut memory));
    }

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let phc = hash_password(&SecretString::from("s3cret")).unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify(&phc, b"s3cret"));
        assert!(!verify(&phc, b"s3cret "));
        assert!(!verify("not a hash", b"s3cret"));
    }
}
