//! Durable SQLite commits, one `fdatasync` for many of them (group commit).
//!
//! With `synchronous = FULL`, every commit syncs the WAL file itself, inside the one
//! writer's turn: writers queue behind each other's disk flushes. spcm opens file
//! databases with `synchronous = NORMAL` instead, where a commit only writes its frames
//! to the WAL file, and syncs that file itself after the commit, outside the turn. A
//! sync makes durable every frame written before it started, so one sync serves every
//! commit that was waiting for one: a writer that finds a sync running waits for it to
//! end, and the next sync, run by one of the waiters, covers all of them.
//!
//! A write is answered only after a sync that started after its commit ended, so a
//! write answered 2xx survives a power cut, as with `FULL`. SQLite keeps the database
//! consistent in this mode by itself (it syncs around checkpoints); what it leaves out
//! is exactly the per-commit sync that this module runs.

use std::path::PathBuf;

use parking_lot::{Condvar, Mutex};
use prometheus_client::metrics::counter::Counter;

#[derive(Debug, Default)]
struct Progress {
    /// Commits that asked to be made durable, counted from 1.
    committed: u64,
    /// Every commit up to this one is durable.
    synced: u64,
    /// A sync is running.
    syncing: bool,
}

/// The WAL file of one database and the commits waiting for it to be synced.
#[derive(Debug)]
pub struct WalSync {
    wal: PathBuf,
    progress: Mutex<Progress>,
    done: Condvar,
    syncs: Counter,
}

impl WalSync {
    /// For the SQLite database at `database` (its WAL is `<database>-wal`, as SQLite names it).
    pub fn new(database: &str) -> WalSync {
        WalSync {
            wal: PathBuf::from(format!("{database}-wal")),
            progress: Mutex::default(),
            done: Condvar::new(),
            syncs: Counter::default(),
        }
    }

    /// Returns once everything committed before the call is on disk. Blocking: call it
    /// after the commit, outside the writers' turn, never on the async executor.
    pub fn commit_durably(&self) -> std::io::Result<()> {
        let mut progress = self.progress.lock();
        progress.committed += 1;
        let ticket = progress.committed;
        loop {
            if progress.synced >= ticket {
                return Ok(());
            }
            if progress.syncing {
                self.done.wait(&mut progress);
                continue;
            }
            // This thread syncs for every commit counted so far.
            progress.syncing = true;
            let covers = progress.committed;
            drop(progress);
            let result = self.sync_file();
            progress = self.progress.lock();
            progress.syncing = false;
            if result.is_ok() {
                progress.synced = progress.synced.max(covers);
            }
            self.done.notify_all();
            // A failed sync fails its caller; the waiters try one of their own.
            result?;
        }
    }

    /// Opened by path each time: SQLite may delete the WAL file when the database's
    /// last connection closes and create a new one later.
    fn sync_file(&self) -> std::io::Result<()> {
        self.syncs.inc();
        match std::fs::File::open(&self.wal) {
            Ok(file) => file.sync_data(),
            // No WAL file: the last connection closed and checkpointed it, and SQLite
            // synced the database file then.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Syncs of the WAL file run so far.
    pub fn syncs(&self) -> &Counter {
        &self.syncs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn every_caller_returns_after_a_sync_that_covers_its_commit() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("spcm.db");
        std::fs::write(format!("{}-wal", database.display()), b"frames").unwrap();
        let sync = Arc::new(WalSync::new(&database.display().to_string()));

        sync.commit_durably().unwrap();
        assert_eq!(sync.syncs().get(), 1, "a lone commit runs its own sync");

        let (threads, calls_each) = (16, 50);
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let sync = sync.clone();
                std::thread::spawn(move || {
                    for _ in 0..calls_each {
                        let before = sync.progress.lock().committed;
                        sync.commit_durably().unwrap();
                        // This call's commit came after `before`, and a sync covers it.
                        assert!(sync.progress.lock().synced > before);
                    }
                })
            })
            .collect();
        handles.into_iter().for_each(|h| h.join().unwrap());
        let progress = sync.progress.lock();
        assert_eq!(progress.committed, 1 + threads * calls_each);
        assert_eq!(progress.synced, progress.committed);
        assert!(!progress.syncing);
        assert!(sync.syncs().get() <= progress.committed, "never more syncs than commits");
    }

    #[test]
    fn a_missing_wal_file_needs_no_sync_and_one_that_cannot_be_opened_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        WalSync::new(&dir.path().join("gone.db").display().to_string()).commit_durably().unwrap();

        let file = dir.path().join("plain");
        std::fs::write(&file, b"").unwrap();
        let through_file = WalSync::new(&file.join("db").display().to_string());
        assert!(through_file.commit_durably().is_err(), "not a directory is an error, not 'no WAL'");
        assert_eq!(through_file.progress.lock().synced, 0);
    }
}
