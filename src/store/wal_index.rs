//! Whether anything was committed to a SQLite database since a given moment, without a
//! query: the header of the database's WAL index.
//!
//! In WAL mode every connection, in any process, shares the `-shm` file of the database.
//! Its first bytes hold two copies of the WAL-index header (the documented layout of
//! <https://www.sqlite.org/walformat.html>), which the writer rewrites when a transaction
//! commits, before the commit returns, with a new change counter and checksum. SQLite's
//! own readers compare this header with the one they saw before to decide whether their
//! page cache still holds; `VersionChecker` does the same for the tenant versions it read
//! (`versions`). The header is read as SQLite reads it: the first copy, a barrier, the
//! second copy, and the two must match (otherwise a commit is being written).
//!
//! The mapping stays meaningful only while a connection of this process has the
//! database open: SQLite removes or truncates the `-shm` file only when the last
//! connection of the last process closes. The owner keeps its connection open for as
//! long as it keeps the mapping.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::atomic::{fence, Ordering};

/// Bytes of one copy of the header.
const HEADER_BYTES: usize = 48;
/// `iVersion` of every WAL index SQLite has written since 3.7.0.
const WAL_INDEX_VERSION: u32 = 3_007_000;

/// One consistent reading of the header: equal readings mean nothing was committed in
/// between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitStamp([u8; HEADER_BYTES]);

/// The first bytes of a database's `-shm` file, mapped read-only.
#[derive(Debug)]
pub struct WalIndex {
    header: *const u8,
}

// SAFETY: the mapping is read-only and only read through volatile reads.
unsafe impl Send for WalIndex {}
unsafe impl Sync for WalIndex {}

impl WalIndex {
    /// Maps the WAL index of the SQLite database at `database` (after symbolic links, as
    /// SQLite resolves them). `None` when there is none: not in WAL mode, not opened yet,
    /// or not a WAL index.
    pub fn open(database: &Path) -> Option<WalIndex> {
        let database = std::fs::canonicalize(database).ok()?;
        let mut shm = database.into_os_string();
        shm.push("-shm");
        let file = File::open(shm).ok()?;
        // A shorter file cannot be read through the mapping (SIGBUS beyond its end).
        if file.metadata().ok()?.len() < 2 * HEADER_BYTES as u64 {
            return None;
        }
        // SAFETY: a fresh read-only shared mapping of an open file; the file may be closed
        // afterwards, the mapping lives until `munmap` in `drop`.
        let header = unsafe {
            libc::mmap(std::ptr::null_mut(), 2 * HEADER_BYTES, libc::PROT_READ, libc::MAP_SHARED, file.as_raw_fd(), 0)
        };
        if header == libc::MAP_FAILED {
            return None;
        }
        let index = WalIndex { header: header.cast() };
        index.stamp().map(|_| index)
    }

    /// The header now, or `None` while a commit is writing it.
    pub fn stamp(&self) -> Option<CommitStamp> {
        let first = self.read_copy(0);
        fence(Ordering::SeqCst);
        let second = self.read_copy(1);
        let version = u32::from_ne_bytes([first[0], first[1], first[2], first[3]]);
        let initialised = first[12] == 1;
        (first == second && version == WAL_INDEX_VERSION && initialised).then_some(CommitStamp(first))
    }

    fn read_copy(&self, copy: usize) -> [u8; HEADER_BYTES] {
        let mut bytes = [0u8; HEADER_BYTES];
        for (i, byte) in bytes.iter_mut().enumerate() {
            // SAFETY: within the mapped 2 × HEADER_BYTES; other processes write these bytes
            // concurrently, hence volatile reads (a torn copy fails the comparison).
            *byte = unsafe { self.header.add(copy * HEADER_BYTES + i).read_volatile() };
        }
        bytes
    }
}

impl Drop for WalIndex {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `open`, unmapped once.
        unsafe {
            libc::munmap(self.header as *mut libc::c_void, 2 * HEADER_BYTES);
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, SqliteConnection};

    use super::*;

    fn open(path: &Path) -> SqliteConnection {
        let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        conn.batch_execute("PRAGMA journal_mode = WAL; CREATE TABLE IF NOT EXISTS t (x INTEGER)").unwrap();
        conn
    }

    #[test]
    fn the_stamp_changes_with_every_commit_of_any_connection_and_only_then() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        assert!(WalIndex::open(&path).is_none(), "no database yet");
        let mut ours = open(&path);
        let mut other = open(&path);
        let index = WalIndex::open(&path).expect("a WAL index");
        let before = index.stamp().unwrap();
        ours.batch_execute("SELECT count(*) FROM t").unwrap();
        other.batch_execute("BEGIN; INSERT INTO t VALUES (1); ROLLBACK").unwrap();
        assert_eq!(index.stamp(), Some(before), "reads and rolled-back writes commit nothing");
        other.batch_execute("INSERT INTO t VALUES (1)").unwrap();
        let after_other = index.stamp().unwrap();
        assert_ne!(after_other, before, "another connection's commit");
        ours.batch_execute("INSERT INTO t VALUES (2)").unwrap();
        assert_ne!(index.stamp().unwrap(), after_other, "a commit of the connection itself");
        ours.batch_execute("PRAGMA wal_checkpoint(TRUNCATE); INSERT INTO t VALUES (3)").unwrap();
        let restarted = index.stamp().unwrap();
        assert_ne!(restarted, after_other, "a commit after the WAL restarts");
        assert_eq!(index.stamp(), Some(restarted));
    }

    #[test]
    fn a_database_not_in_wal_mode_has_no_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        conn.batch_execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)").unwrap();
        std::fs::write(dir.path().join("db.sqlite-shm"), [0u8; 4096]).unwrap();
        assert!(WalIndex::open(&path).is_none());
    }
}
