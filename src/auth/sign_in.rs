//! Failed sign-ins limited per (account, client address) and per client address, and
//! the password checks of an account that failed lately paced, never refused (contract
//! §1.1). A known-good login meets only its address's limit, so that nobody else's wrong
//! passwords, from anywhere, can stop a caller that signs in correctly.

use std::collections::VecDeque;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::sync::Cache;
use parking_lot::Mutex;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;

/// Keys of each kind tracked at once; beyond, the least recently used go.
const TRACKED: u64 = 100_000;

/// How many failures each key may have within the window, and how fast the password
/// checks of an account that failed within it go.
#[derive(Debug, Clone, Copy)]
pub struct SignInLimits {
    /// Failures of one account (tenant and username) from one address; then that
    /// address gets 429 for that account.
    pub per_account_address: u32,
    /// Failures from one address, whatever the account; then 429 for every sign-in from it.
    pub per_address: u32,
    pub window: Duration,
    /// Password checks per second of an account that failed within the window.
    pub account_checks_per_sec: u32,
}

impl SignInLimits {
    /// The limits `settings` set; each at least 1.
    pub fn of(settings: &crate::config::Settings) -> SignInLimits {
        SignInLimits {
            per_account_address: settings.signin_account_limit.max(1),
            per_address: settings.signin_address_limit.max(1),
            window: Duration::from_secs(settings.signin_window_secs.max(1)),
            account_checks_per_sec: settings.signin_suspect_checks_per_sec.max(1),
        }
    }
}

impl Default for SignInLimits {
    fn default() -> Self {
        SignInLimits {
            per_account_address: 10,
            per_address: 100,
            window: Duration::from_secs(300),
            account_checks_per_sec: 4,
        }
    }
}

/// The times of a key's latest failures, oldest first, at most the limit of them.
type Failures = Arc<Mutex<VecDeque<Instant>>>;

/// An account that failed: when it last did, and the queue of its paced password checks.
struct Account {
    last_failure: Mutex<Instant>,
    /// Held by the sign-in whose turn comes next, while it waits; holds when the latest
    /// turn was taken. tokio's mutex is fair, so turns go first come, first served, and
    /// a waiter that goes away (its client hung up) leaves the queue without a turn.
    turns: tokio::sync::Mutex<Option<Instant>>,
}

pub struct SignInGuard {
    limits: SignInLimits,
    /// The keys below are keyed hashes of (tenant, username[, address]): bounded size
    /// whatever a client sends, and the key is random per process, so no client can aim
    /// at a collision.
    hasher: std::collections::hash_map::RandomState,
    pairs: Cache<u64, Failures>,
    addresses: Cache<IpAddr, Failures>,
    accounts: Cache<u64, Arc<Account>>,
    /// When the latest failure happened, in milliseconds since `started`: while no
    /// failure lies within the window, nothing is limited or paced and a sign-in costs
    /// one atomic load.
    latest_failure: AtomicU64,
    started: Instant,
    failures: Counter,
    throttled: Counter,
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
            hasher: std::collections::hash_map::RandomState::new(),
            pairs: Cache::builder().max_capacity(TRACKED).time_to_idle(limits.window).build(),
            addresses: Cache::builder().max_capacity(TRACKED).time_to_idle(limits.window).build(),
            accounts: Cache::builder().max_capacity(TRACKED).time_to_idle(limits.window).build(),
            latest_failure: AtomicU64::new(0),
            started: Instant::now(),
            failures: Counter::default(),
            throttled: Counter::default(),
            paced: Counter::default(),
        }
    }

    /// Whether no failure at all lies within the window (one atomic load).
    fn quiet(&self, now: Instant) -> bool {
        let latest = self.latest_failure.load(Ordering::Relaxed);
        let since = now.duration_since(self.started).as_millis() as u64;
        latest == 0 || since.saturating_sub(latest) > self.limits.window.as_millis() as u64
    }

    fn account_key(&self, tenant: &str, username: &str) -> u64 {
        self.hasher.hash_one((tenant, username))
    }

    fn pair_key(&self, tenant: &str, username: &str, address: Option<IpAddr>) -> u64 {
        self.hasher.hash_one((tenant, username, address))
    }

    /// Decides a sign-in before its password is checked, and waits for its turn when it
    /// must: `Err(retry after)` (429) when the address is at its limit or, unless the
    /// login is known-good, the account is at its limit from this address. An unverified
    /// login of an account that failed within the window then waits for the account's
    /// next turn, and is never refused for the waiting. A known-good login (the same
    /// tenant, username and password verified against the account's current hash) meets
    /// only the address's limit.
    ///
    /// What bounds the waiters: each is a request in flight, so at most
    /// `SPCM_MAX_IN_FLIGHT` wait in all, each holding no thread and no database
    /// connection; a waiter that goes away leaves its queue without taking a turn, and
    /// one whose address or (account, address) reached its limit while it queued is
    /// refused at the head of the queue without taking a turn, so the queue of an
    /// account drains at once when its guessers are stopped by their limits.
    pub async fn admit(
        &self,
        tenant: &str,
        username: &str,
        address: Option<IpAddr>,
        known_good: bool,
    ) -> Result<(), Duration> {
        let now = Instant::now();
        if self.quiet(now) {
            return Ok(());
        }
        let address = address.map(|a| a.to_canonical());
        let pair = self.pair_key(tenant, username, address);
        self.refusal(pair, address, known_good, now)?;
        if known_good {
            return Ok(());
        }
        let Some(account) = self.accounts.get(&self.account_key(tenant, username)) else {
            return Ok(());
        };
        if now.duration_since(*account.last_failure.lock()) >= self.limits.window {
            return Ok(());
        }
        self.paced.inc();
        let mut latest_turn = account.turns.lock().await;
        self.refusal(pair, address, false, Instant::now())?;
        if let Some(latest) = *latest_turn {
            let interval = Duration::from_secs(1) / self.limits.account_checks_per_sec.max(1);
            tokio::time::sleep_until((latest + interval).into()).await;
        }
        *latest_turn = Some(Instant::now());
        Ok(())
    }

    /// `Err(wait)` when the address, or unless `known_good` the (account, address), is at
    /// its limit; `wait` is when an attempt is allowed again.
    fn refusal(&self, pair: u64, address: Option<IpAddr>, known_good: bool, now: Instant) -> Result<(), Duration> {
        let window = self.limits.window;
        let by_address = address
            .and_then(|a| self.addresses.get(&a))
            .and_then(|f| blocked_for(&f, self.limits.per_address, window, now));
        let by_pair = if known_good {
            None
        } else {
            self.pairs.get(&pair).and_then(|f| blocked_for(&f, self.limits.per_account_address, window, now))
        };
        match by_address.max(by_pair) {
            None => Ok(()),
            Some(wait) => {
                self.throttled.inc();
                Err(wait)
            }
        }
    }

    /// Counts a failed sign-in against the (account, address) and the address, paces
    /// the account's next checks, and logs it.
    pub fn failed(&self, tenant: &str, username: &str, address: Option<IpAddr>) {
        let now = Instant::now();
        let address = address.map(|a| a.to_canonical());
        // At least 1, so that 0 keeps meaning "never".
        let since = now.duration_since(self.started).as_millis() as u64 + 1;
        self.latest_failure.fetch_max(since, Ordering::Relaxed);
        let failures = self.pairs.get_with(self.pair_key(tenant, username, address), Failures::default);
        record(&failures, self.limits.per_account_address, now);
        if let Some(address) = address {
            let failures = self.addresses.get_with(address, Failures::default);
            record(&failures, self.limits.per_address, now);
        }
        let account = self.accounts.get_with(self.account_key(tenant, username), || {
            Arc::new(Account { last_failure: Mutex::new(now), turns: tokio::sync::Mutex::new(None) })
        });
        let mut last_failure = account.last_failure.lock();
        *last_failure = (*last_failure).max(now);
        drop(last_failure);
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
            "Sign-ins refused with 429: the address, or the account from that address, had too many failures",
            self.throttled.clone(),
        );
        registry.register(
            "spcm_sign_in_paced",
            "Sign-ins that waited for a password check's turn because their account failed lately",
            self.paced.clone(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(last: u8) -> Option<IpAddr> {
        Some([10, 0, 0, last].into())
    }

    fn limits(per_account_address: u32, per_address: u32, window: Duration) -> SignInLimits {
        SignInLimits { per_account_address, per_address, window, account_checks_per_sec: 1000 }
    }

    #[tokio::test]
    async fn an_account_is_limited_per_address_and_the_limit_lifts_after_the_window() {
        let guard = SignInGuard::new(limits(2, 100, Duration::from_millis(300)));
        guard.failed("t", "u", at(1));
        assert!(guard.admit("t", "u", at(1), false).await.is_ok(), "one failure of two allowed");
        guard.failed("t", "u", at(1));
        let wait = guard.admit("t", "u", at(1), false).await.unwrap_err();
        assert!(wait <= Duration::from_millis(300) && !wait.is_zero(), "{wait:?}");
        assert!(guard.admit("t", "u", at(2), false).await.is_ok(), "the same account from another address");
        assert!(guard.admit("t", "v", at(1), false).await.is_ok(), "another account from the same address");
        assert!(guard.admit("t", "u", at(1), true).await.is_ok(), "a known-good login is not limited per account");
        assert_eq!(guard.throttled.get(), 1);
        let deadline = Instant::now() + Duration::from_secs(5);
        while guard.admit("t", "u", at(1), false).await.is_err() {
            assert!(Instant::now() < deadline, "the window passed but the account is still refused there");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(guard.failures.get(), 2, "refusals are not failures");
    }

    #[tokio::test]
    async fn an_address_at_its_limit_is_refused_even_for_a_known_good_login() {
        let guard = SignInGuard::new(limits(100, 3, Duration::from_secs(60)));
        for user in ["a", "b", "c"] {
            guard.failed("t", user, at(1));
        }
        assert!(guard.admit("t", "admin", at(1), true).await.is_err(), "a known-good login from the address");
        assert!(guard.admit("t", "admin", at(1), false).await.is_err());
        assert!(guard.admit("t", "admin", at(2), false).await.is_ok(), "another address");
        assert!(guard.admit("t", "admin", None, false).await.is_ok(), "no address, no address limit");
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert!(guard.admit("t", "admin", Some(mapped), true).await.is_err(), "the same address over IPv6");
    }

    #[tokio::test]
    async fn an_account_that_failed_has_its_checks_paced_and_never_refused() {
        let limits = SignInLimits { account_checks_per_sec: 20, ..limits(1000, 1000, Duration::from_secs(60)) };
        let guard = SignInGuard::new(limits);
        guard.failed("t", "victim", at(9));
        let started = Instant::now();
        // Turns 50 ms apart: the first at once, the tenth 450 ms later; none refused.
        let attempts = (1..=10).map(|n| guard.admit("t", "victim", at(n), false));
        let outcomes = futures_util::future::join_all(attempts).await;
        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(440), "paced: {took:?}");
        assert_eq!(guard.paced.get(), 10);

        let free = Instant::now();
        guard.admit("t", "victim", at(9), true).await.expect("known-good");
        guard.admit("t", "someone", at(9), false).await.expect("an account that did not fail");
        assert!(free.elapsed() < Duration::from_millis(40), "neither is paced: {:?}", free.elapsed());
        assert_eq!(guard.paced.get(), 10);
    }

    #[tokio::test]
    async fn a_waiter_that_goes_away_or_reaches_its_limit_takes_no_turn() {
        let limits = SignInLimits { account_checks_per_sec: 5, ..limits(2, 1000, Duration::from_secs(60)) };
        let guard = SignInGuard::new(limits);
        guard.failed("t", "victim", at(1));
        guard.admit("t", "victim", at(2), false).await.expect("the first turn, at once");
        // Turns 200 ms apart: these two would wait 200 and 400 ms, but give up.
        let gone = tokio::time::timeout(Duration::from_millis(20), async {
            tokio::join!(guard.admit("t", "victim", at(3), false), guard.admit("t", "victim", at(4), false))
        });
        assert!(gone.await.is_err());
        let started = Instant::now();
        guard.admit("t", "victim", at(5), false).await.expect("the next turn");
        let waited = started.elapsed();
        assert!(waited < Duration::from_millis(400), "no turn was taken by those that left: {waited:?}");

        // Queued behind another's turn when its own (account, address) reaches its limit:
        // refused at the head of the queue, at once, without a turn of its own.
        let mut ahead = Box::pin(guard.admit("t", "victim", at(6), false));
        let mut queued = Box::pin(guard.admit("t", "victim", at(1), false));
        assert!(futures_util::FutureExt::now_or_never(&mut ahead).is_none(), "waits for its turn");
        assert!(futures_util::FutureExt::now_or_never(&mut queued).is_none(), "queued behind it");
        guard.failed("t", "victim", at(1));
        ahead.await.expect("its turn");
        let turn = Instant::now();
        assert!(queued.await.is_err());
        assert!(turn.elapsed() < Duration::from_millis(100), "{:?}", turn.elapsed());
        let next = Instant::now();
        guard.admit("t", "victim", at(7), false).await.expect("the next turn");
        let waited = next.elapsed();
        assert!(waited < Duration::from_millis(350), "the refused one took no turn: {waited:?}");
    }
}
