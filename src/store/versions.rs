//! The current version of tenants' data, asked in batches.
//!
//! Every write of a tenant's data raises `tenants.version` in its own transaction
//! (`lock_tenant`), so a read answered at version V is still exact while the tenant is
//! at V. Checking that costs one query; one thread asks it for every request that
//! arrived since its previous query, so a check is exact (it starts after the request
//! arrived, and therefore sees every write committed before) while costing the
//! database one statement per batch instead of one per request, and the request no
//! trip to the blocking pool.
//!
//! On SQLite most checks need no query at all: the thread notes the WAL-index header
//! (`wal_index`) before each of its queries, and while the header has not changed since,
//! nothing was committed by any connection of any process, so the versions it read are
//! still the current ones. A request compares the header itself and gets its answer
//! without waiting for the thread.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use tokio::sync::oneshot;

use super::schema::tenants::dsl as t;
use super::wal_index::{CommitStamp, WalIndex};
use super::{DbConnection, DbPool};

/// After a failed connect, how long checks answer "unknown" before the next try.
const RECONNECT_PAUSE: Duration = Duration::from_millis(250);

/// On a database server, how long the thread lets a batch gather once its first request
/// is waiting: each statement costs the server far more than it costs a request to wait
/// this long, and every request of the batch still arrived before its statement started.
const SERVER_BATCH_WINDOW: Duration = Duration::from_micros(50);

type Reply = oneshot::Sender<Option<i64>>;

#[derive(Default)]
struct Queue {
    waiting: Vec<(i64, Reply)>,
    closed: bool,
}

#[derive(Default)]
struct Checks {
    queue: Mutex<Queue>,
    arrived: Condvar,
    /// SQLite: the versions read while the WAL-index header was `stamp`.
    known: parking_lot::Mutex<Option<Known>>,
}

/// Versions that are current for as long as the database's WAL-index header reads `stamp`.
struct Known {
    /// Mapped while the thread's connection is open; dropped with it.
    index: Arc<WalIndex>,
    stamp: CommitStamp,
    versions: HashMap<i64, i64>,
}

impl Checks {
    /// The tenant's version when nothing was committed since it was read.
    fn known_version(&self, tenant_id: i64) -> Option<i64> {
        let known = self.known.lock();
        let known = known.as_ref()?;
        let version = *known.versions.get(&tenant_id)?;
        (known.index.stamp()? == known.stamp).then_some(version)
    }

    /// Keeps `versions`, read by a query that started while the header read `stamp`.
    fn remember(&self, index: &Arc<WalIndex>, stamp: CommitStamp, versions: &HashMap<i64, i64>) {
        let mut known = self.known.lock();
        match known.as_mut() {
            Some(known) if known.stamp == stamp => known.versions.extend(versions),
            _ => *known = Some(Known { index: index.clone(), stamp, versions: versions.clone() }),
        }
    }

    fn forget(&self) {
        *self.known.lock() = None;
    }
}

/// Asks the database for tenants' versions on behalf of many requests at once.
/// Dropping it stops its thread.
pub struct VersionChecker {
    shared: Arc<Checks>,
    /// How long a request waits for its check: the pool's wait for a connection.
    wait: Duration,
}

impl VersionChecker {
    /// Starts the checking thread; it opens its own connection, outside the pool.
    pub fn start(pool: &DbPool) -> std::io::Result<VersionChecker> {
        let shared = Arc::new(Checks::default());
        let window = (pool.backend() != super::Backend::Sqlite).then_some(SERVER_BATCH_WINDOW);
        let worker =
            CheckThread { shared: shared.clone(), pool: pool.clone(), conn: None, index: None, retry_at: None, window };
        std::thread::Builder::new().name("spcm-versions".into()).spawn(move || worker.run())?;
        Ok(VersionChecker { shared, wait: pool.wait() })
    }

    /// The tenant's version as of a query that started after this call; `None` when
    /// the database could not say within the pool's wait (the caller then reads the
    /// database itself).
    pub async fn current(&self, tenant_id: i64) -> Option<i64> {
        if let Some(version) = self.shared.known_version(tenant_id) {
            return Some(version);
        }
        let (reply, answer) = oneshot::channel();
        let was_empty = {
            let mut queue = self.shared.queue.lock().ok()?;
            if queue.closed {
                return None;
            }
            queue.waiting.push((tenant_id, reply));
            queue.waiting.len() == 1
        };
        // The thread only sleeps on an empty queue: one wake-up per batch is enough.
        if was_empty {
            self.shared.arrived.notify_one();
        }
        tokio::time::timeout(self.wait, answer).await.ok()?.ok().flatten()
    }
}

impl Drop for VersionChecker {
    fn drop(&mut self) {
        if let Ok(mut queue) = self.shared.queue.lock() {
            queue.closed = true;
        }
        self.shared.arrived.notify_one();
    }
}

struct CheckThread {
    shared: Arc<Checks>,
    pool: DbPool,
    conn: Option<DbConnection>,
    /// SQLite: the WAL index, mapped once `conn` has opened it; lives no longer than `conn`.
    index: Option<Arc<WalIndex>>,
    retry_at: Option<Instant>,
    /// How long a batch gathers before its statement (`SERVER_BATCH_WINDOW`); none on SQLite.
    window: Option<Duration>,
}

impl CheckThread {
    fn run(mut self) {
        if self.window.is_some() {
            // The window is a few tens of microseconds: without this, Linux lets a sleep
            // overrun by its default timer slack of 50 µs.
            // Elsewhere the sleep overruns by what the system allows.
            #[cfg(target_os = "linux")]
            // SAFETY: PR_SET_TIMERSLACK changes only this thread's timer slack.
            unsafe {
                libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong);
            }
        }
        while let Some(mut batch) = self.next_batch() {
            if let Some(window) = self.window {
                std::thread::sleep(window);
                if let Ok(mut queue) = self.shared.queue.lock() {
                    batch.append(&mut queue.waiting);
                }
            }
            let mut ids: Vec<i64> = batch.iter().map(|(id, _)| *id).collect();
            ids.sort_unstable();
            ids.dedup();
            let versions = self.versions(&ids);
            for (id, reply) in batch {
                let _ = reply.send(versions.as_ref().and_then(|v| v.get(&id).copied()));
            }
        }
        self.disconnect();
    }

    /// The requests waiting now, after waiting for at least one; `None` once closed.
    fn next_batch(&self) -> Option<Vec<(i64, Reply)>> {
        let mut queue = self.shared.queue.lock().ok()?;
        loop {
            if queue.closed {
                return None;
            }
            if !queue.waiting.is_empty() {
                return Some(std::mem::take(&mut queue.waiting));
            }
            queue = self.shared.arrived.wait(queue).ok()?;
        }
    }

    /// One statement per tenant of the batch (most batches hold one tenant): a fixed
    /// statement stays prepared, where an `IN` list of varying length would not.
    fn versions(&mut self, ids: &[i64]) -> Option<HashMap<i64, i64>> {
        // Read before the queries start: whatever they read is at least this recent.
        let stamp = self.index.as_ref().and_then(|index| index.stamp());
        let conn = self.connection()?;
        let mut versions = HashMap::with_capacity(ids.len());
        for &id in ids {
            match super::on_backend!(conn, |c| t::tenants
                .select(t::version)
                .filter(t::id.eq(id))
                .first::<i64>(c)
                .optional())
            {
                Ok(Some(version)) => {
                    versions.insert(id, version);
                }
                Ok(None) => {}
                Err(err) => {
                    tracing::debug!(error = %err, "version check failed; reconnecting");
                    self.disconnect();
                    return None;
                }
            }
        }
        match (&self.index, stamp) {
            (Some(index), Some(stamp)) => self.shared.remember(index, stamp, &versions),
            // The connection has now read the database, so its WAL index exists.
            (None, _) => self.index = self.pool.sqlite_file().and_then(WalIndex::open).map(Arc::new),
            (Some(_), None) => {}
        }
        Some(versions)
    }

    /// Drops the connection, and first the WAL index and every version read through it.
    fn disconnect(&mut self) {
        self.shared.forget();
        self.index = None;
        self.conn = None;
    }

    fn connection(&mut self) -> Option<&mut DbConnection> {
        if self.conn.is_none() {
            if self.retry_at.is_some_and(|at| Instant::now() < at) {
                return None;
            }
            match self.pool.connect_dedicated() {
                Ok(conn) => {
                    self.conn = Some(conn);
                    self.retry_at = None;
                }
                Err(err) => {
                    tracing::debug!(error = %err, "version check cannot connect");
                    self.retry_at = Some(Instant::now() + RECONNECT_PAUSE);
                }
            }
        }
        self.conn.as_mut()
    }
}
