//! Failed sign-ins limited per account (tenant and username) and per client address
//! (contract §1.1): a sliding window of the latest failures, in bounded caches.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::sync::Cache;
use parking_lot::Mutex;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;
use std::hash::BuildHasher;

/// Accounts and addresses tracked at once; beyond, the least recently failed go.
const TRACKED: u64 = 100_000;

/// Suspect sign-ins held back at once (see `SignInGuard::pace`); beyond, the refusal
/// is immediate.
const HELD_BACK: usize = 64;

/// How many failures each key may have within the window, and how many password
/// checks per second suspect sign-ins get in all.
#[derive(Debug, Clone, Copy)]
pub struct SignInLimits {
    pub per_account: u32,
    pub per_address: u32,
    pub window: Duration,
    pub suspect_checks_per_sec: u32,
    /// The longest a suspect sign-in waits for its turn, and how long a refused one is
    /// held before its 429.
    pub suspect_wait: Duration,
}

impl Default for SignInLimits {
    fn default() -> Self {
        SignInLimits {
            per_account: 10,
            per_address: 100,
            window: Duration::from_secs(300),
            suspect_checks_per_sec: 4,
            suspect_wait: Duration::from_secs(1),
        }
    }
}

/// The times of a key's latest failures, oldest first, at most the limit of them.
type Failures = Arc<Mutex<VecDeque<Instant>>>;

pub struct SignInGuard {
    limits: SignInLimits,
    /// Keyed by a keyed hash of (tenant, username): bounded size whatever a client
    /// sends, and its key is random per process, so no client can aim at a collision.
    accounts: Cache<u64, Failures>,
    account_hasher: std::collections::hash_map::RandomState,
    addresses: Cache<IpAddr, Failures>,
    failures: Counter,
    throttled: Counter,
    /// When the latest failure happened, in milliseconds since `started`: while no
    /// failure lies within the window, no key can be at its limit and a check costs
    /// one atomic load.
    latest_failure: std::sync::atomic::AtomicU64,
    started: Instant,
    /// The next free turn of a suspect sign-in's password check.
    next_suspect_turn: Mutex<Instant>,
    held_back: Arc<tokio::sync::Semaphore>,
    paced: Counter,
}

impl std::fmt::Debug for SignInGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInGuard").field("limits", &self.limits).finish_non_exhaustive()
    }
}

/// How long until `failures` holds fewer than `limit` within the window; `None` when it does now.
fn blocked_for(failures: &Failures, limit: u32, window: Duration, now: Instant) -> Option<Duration> {
    let failures = failures.lock();
    if failures.len() < limit as usize {
        return None;
    }
    let oldest = *failures.get(failures.len() - limit as usize)?;
    (oldest + window).checked_duration_since(now).filter(|left| !left.is_zero())
}

fn record(failures: &Failures, limit: u32, now: Instant) {
    let mut failures = failures.lock();
    failures.push_back(now);
    while failures.len() > limit.max(1) as usize {
        failures.pop_front();
    }
}

impl SignInGuard {
    pub fn new(limits: SignInLimits) -> SignInGuard {
        SignInGuard {
            limits,
            accounts: Cache::builder().max_capacity(TRACKED).time_to_idle(limits.window).build(),
            addresses: Cache::builder().max_capacity(TRACKED).time_to_idle(limits.window).build(),
            account_hasher: std::collections::hash_map::RandomState::new(),
            latest_failure: std::sync::atomic::AtomicU64::new(0),
            started: Instant::now(),
            failures: Counter::default(),
            throttled: Counter::default(),
            next_suspect_turn: Mutex::new(Instant::now()),
            held_back: Arc::new(tokio::sync::Semaphore::new(HELD_BACK)),
            paced: Counter::default(),
        }
    }

    /// Whether no failure at all lies within the window (one atomic load).
    fn quiet(&self, now: Instant) -> bool {
        let latest = self.latest_failure.load(std::sync::atomic::Ordering::Relaxed);
        let since = now.duration_since(self.started).as_millis() as u64;
        latest == 0 || since.saturating_sub(latest) > self.limits.window.as_millis() as u64
    }

    /// Whether the account or the address has failed within the window.
    fn suspect(&self, tenant: &str, username: &str, address: Option<IpAddr>, now: Instant) -> bool {
        let failed_lately = |failures: Failures| {
            failures.lock().back().is_some_and(|latest| now.duration_since(*latest) < self.limits.window)
        };
        !self.quiet(now)
            && (self.accounts.get(&self.account_key(tenant, username)).is_some_and(failed_lately)
                || address.and_then(|a| self.addresses.get(&a)).is_some_and(failed_lately))
    }

    /// Waits for a password check's turn. A sign-in whose account or address failed
    /// within the window is suspect: all suspects share `suspect_checks_per_sec` checks
    /// per second, so that a flood of wrong passwords, even below the limits, costs
    /// little CPU. A suspect whose turn is further away than `suspect_wait` is refused
    /// (`Err(retry after)`), after being held that long itself (at most `HELD_BACK` at
    /// once), so that a flooding client cannot turn refusals into a flood of requests.
    /// Any other sign-in goes at once.
    pub async fn pace(&self, tenant: &str, username: &str, address: Option<IpAddr>) -> Result<(), Duration> {
        let now = Instant::now();
        if !self.suspect(tenant, username, address, now) {
            return Ok(());
        }
        let interval = Duration::from_secs(1) / self.limits.suspect_checks_per_sec.max(1);
        let turn = {
            let mut next = self.next_suspect_turn.lock();
            let turn = (*next).max(now);
            if turn - now <= self.limits.suspect_wait {
                *next = turn + interval;
                Ok(turn)
            } else {
                Err(turn - now)
            }
        };
        self.paced.inc();
        match turn {
            Ok(turn) => {
                tokio::time::sleep_until(turn.into()).await;
                Ok(())
            }
            Err(retry_after) => {
                self.throttled.inc();
                if let Ok(_held) = self.held_back.try_acquire() {
                    tokio::time::sleep(self.limits.suspect_wait).await;
                }
                Err(retry_after)
            }
        }
    }

    fn account_key(&self, tenant: &str, username: &str) -> u64 {
        self.account_hasher.hash_one((tenant, username))
    }

    /// `Err(wait)` when the account or the address has reached its limit: the attempt is
    /// refused without checking the password, and `wait` is when one is allowed again.
    pub fn check(&self, tenant: &str, username: &str, address: Option<IpAddr>) -> Result<(), Duration> {
        let now = Instant::now();
        if self.quiet(now) {
            return Ok(());
        }
        let account = self
            .accounts
            .get(&self.account_key(tenant, username))
            .and_then(|f| blocked_for(&f, self.limits.per_account, self.limits.window, now));
        let address = address
            .and_then(|a| self.addresses.get(&a))
            .and_then(|f| blocked_for(&f, self.limits.per_address, self.limits.window, now));
        match account.max(address) {
            None => Ok(()),
            Some(wait) => {
                self.throttled.inc();
                Err(wait)
            }
        }
    }

    /// Counts a failed sign-in against the account and the address, and logs it.
    pub fn failed(&self, tenant: &str, username: &str, address: Option<IpAddr>) {
        let now = Instant::now();
        // At least 1, so that 0 keeps meaning "never".
        let since = now.duration_since(self.started).as_millis() as u64 + 1;
        self.latest_failure.fetch_max(since, std::sync::atomic::Ordering::Relaxed);
        let failures = self.accounts.get_with(self.account_key(tenant, username), Failures::default);
        record(&failures, self.limits.per_account, now);
        if let Some(address) = address {
            let failures = self.addresses.get_with(address, Failures::default);
            record(&failures, self.limits.per_address, now);
        }
        self.failures.inc();
        let shown = |text: &str| text.chars().take(64).collect::<String>();
        tracing::warn!(
            request_id = %crate::telemetry::current_request_id(),
            tenant = %shown(tenant),
            username = %shown(username),
            address = %address.map_or_else(|| "-".to_owned(), |a| a.to_string()),
            "sign-in failed"
        );
    }

    pub fn register_metrics(&self, registry: &mut Registry) {
        registry.register("spcm_sign_in_failures", "Sign-ins refused for bad credentials", self.failures.clone());
        registry.register(
            "spcm_sign_in_throttled",
            "Sign-ins refused with 429: the account or address had too many failures, or suspect sign-ins had no turn",
            self.throttled.clone(),
        );
        registry.register(
            "spcm_sign_in_paced",
            "Suspect sign-ins (their account or address failed lately) that waited for a password check's turn",
            self.paced.clone(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_holds_within_the_window_and_lifts_after_it() {
        let limits =
            SignInLimits { per_account: 2, per_address: 3, window: Duration::from_millis(200), ..Default::default() };
        let guard = SignInGuard::new(limits);
        let here: Option<IpAddr> = Some([10, 0, 0, 1].into());
        guard.failed("t", "u", here);
        assert!(guard.check("t", "u", here).is_ok(), "one failure of two allowed");
        guard.failed("t", "u", here);
        let wait = guard.check("t", "u", here).unwrap_err();
        assert!(wait <= Duration::from_millis(200) && !wait.is_zero(), "{wait:?}");
        assert!(guard.check("t", "other", Some([10, 0, 0, 2].into())).is_ok(), "other accounts are free");
        guard.failed("t", "v", here);
        assert!(guard.check("t", "w", here).is_err(), "the address reached its limit of three");
        assert!(guard.check("t", "w", None).is_ok());
        let deadline = Instant::now() + Duration::from_secs(5);
        while guard.check("t", "u", here).is_err() {
            assert!(Instant::now() < deadline, "the window passed but the account is still blocked");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[tokio::test]
    async fn suspect_sign_ins_share_a_few_turns_per_second_and_others_go_at_once() {
        let limits = SignInLimits {
            per_account: 1000,
            per_address: 1000,
            window: Duration::from_secs(60),
            suspect_checks_per_sec: 10,
            suspect_wait: Duration::from_millis(300),
        };
        let guard = SignInGuard::new(limits);
        let flooder: Option<IpAddr> = Some([10, 0, 0, 9].into());
        let stranger: Option<IpAddr> = Some([10, 0, 0, 7].into());
        guard.failed("t", "victim", flooder);
        let started = Instant::now();
        // Turns 100 ms apart: four fit in the 300 ms wait (0, 100, 200, 300), the fifth is refused.
        let attempts = (0..5).map(|_| guard.pace("t", "victim", flooder));
        let outcomes = futures_util::future::join_all(attempts).await;
        assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 4, "{outcomes:?}");
        let retry = outcomes.iter().find_map(|o| o.err()).expect("one refusal");
        assert!(!retry.is_zero());
        assert!(
            started.elapsed() >= Duration::from_millis(290),
            "paced, and the refusal held back: {:?}",
            started.elapsed()
        );
        assert!(
            guard.pace("t", "other", flooder).await.is_ok(),
            "the address is suspect, its turn within the wait again"
        );
        let free = Instant::now();
        guard.pace("t", "someone", stranger).await.expect("no failure of this account or address");
        assert!(free.elapsed() < Duration::from_millis(50), "not suspect, not paced");
    }
}
