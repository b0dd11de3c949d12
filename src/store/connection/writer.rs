//! SQLite's queue of writers, the durability of a commit, and the signal rung after
//! one: what a write needs besides its connection.

use std::sync::Arc;
use std::time::Duration;

use crate::store::wal_sync::WalSync;
use crate::store::{Authority, StoreError};

/// Wakes whoever waits for a write to commit (the event relay of this process).
#[derive(Debug, Default)]
pub struct CommitSignal {
    commits: parking_lot::Mutex<u64>,
    rung: parking_lot::Condvar,
}

impl CommitSignal {
    pub fn ring(&self) {
        *self.commits.lock() += 1;
        self.rung.notify_all();
    }

    /// Commits so far.
    pub fn count(&self) -> u64 {
        *self.commits.lock()
    }

    /// Waits until the count passes `seen` or `timeout` passes; returns the count.
    pub fn wait_past(&self, seen: u64, timeout: Duration) -> u64 {
        let mut commits = self.commits.lock();
        if *commits == seen {
            self.rung.wait_for(&mut commits, timeout);
        }
        *commits
    }
}

pub(super) fn sync_commits(writers: Option<&WriterQueue>) -> Result<(), StoreError> {
    match writers.and_then(|queue| queue.wal.as_ref()) {
        Some(wal) => wal.commit_durably().map_err(|err| {
            tracing::error!(error = %err, "cannot sync the SQLite write-ahead log");
            StoreError::Internal("the write could not be made durable".into())
        }),
        None => Ok(()),
    }
}

/// SQLite's writers of one database in this process.
#[derive(Debug, Clone)]
pub(super) struct WriterQueue {
    pub(super) turn: Arc<parking_lot::Mutex<()>>,
    /// The longest a writer waits for its turn.
    pub(super) wait: Duration,
    /// Syncs commits to a database file (`None` in memory: SQLite syncs, if anything).
    pub(super) wal: Option<Arc<WalSync>>,
}

/// What a write needs besides its connection: the tenant, who writes (checked again in
/// the transaction) and, on SQLite, the queue of the database's writers.
#[derive(Debug, Clone)]
pub struct WriteScope {
    pub tenant_id: i64,
    pub authority: Authority,
    /// The request that writes, for its change records.
    pub request_id: Option<String>,
    pub(super) writers: Option<WriterQueue>,
    pub(crate) committed: Arc<CommitSignal>,
}

impl WriteScope {
    /// The same scope, for the request `request_id` (`-` stands for none).
    pub fn with_request_id(mut self, request_id: String) -> WriteScope {
        self.request_id = (request_id != "-").then_some(request_id);
        self
    }

    /// SQLite has one writer at a time. Writers of this process take turns here instead
    /// of in SQLite's busy handler, which sleeps in growing steps and lets a late writer
    /// overtake one that waited long (tail latency, needless 503s). The turn passes to
    /// whichever writer is running when it is free, and parking_lot hands it to the
    /// longest waiter at least every half millisecond, so none waits long. `None` on
    /// other backends.
    pub(crate) fn writer_turn(
        &self,
    ) -> Result<Option<parking_lot::ArcMutexGuard<parking_lot::RawMutex, ()>>, StoreError> {
        let Some(queue) = &self.writers else {
            return Ok(None);
        };
        parking_lot::Mutex::try_lock_arc_for(&queue.turn, queue.wait)
            .map(Some)
            .ok_or_else(|| StoreError::Unavailable("no turn to write within the wait".into()))
    }

    /// Returns once the scope's committed writes are on disk (`WalSync`); at once where
    /// the commit itself synced.
    pub(crate) fn commit_durably(&self) -> Result<(), StoreError> {
        sync_commits(self.writers.as_ref())
    }
}
