//! `spcm backup FILE`: a consistent copy of a SQLite database (contract §6). The copy
//! holds password hashes and token and session digests, so it is readable by its owner
//! only, and it never lands on a symbolic link or an existing file (contract §1.1).
//!
//! SQLite's `VACUUM INTO` writes into a new file inside a directory of our own (mode
//! 0700, next to FILE, so on its file system); the file is made 0600 before SQLite
//! writes a byte, synced once complete, then linked to FILE, which fails when anything,
//! a dangling link included, is already there. Nothing is written at FILE until the copy
//! is whole.

use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};

use super::output::line;
use crate::config::Settings;
use crate::store::{Backend, DbConnection};

pub fn run(settings: &Settings, file: &Path) -> anyhow::Result<()> {
    let (backend, _) = Backend::from_url(&settings.database_url)?;
    match backend {
        Backend::Sqlite => {}
        Backend::Postgres => bail!(
            "spcm backup copies SQLite databases; back up PostgreSQL with `pg_dump --format=custom --file FILE DATABASE_URL` \
             and restore with `pg_restore --clean --if-exists --dbname DATABASE_URL FILE`"
        ),
        Backend::Mysql => bail!(
            "spcm backup copies SQLite databases; back up MySQL/MariaDB with `mysqldump --single-transaction DATABASE > FILE` \
             and restore with `mysql DATABASE < FILE`"
        ),
    }
    // Said early, before the copy is taken; the link at the end decides for certain.
    if std::fs::symlink_metadata(file).is_ok() {
        bail!("{} already exists (a file or a symbolic link); name a new file", file.display());
    }
    let pool = super::admin::open_existing(settings)?;
    let mut conn = pool.get()?;
    let DbConnection::Sqlite(sqlite) = &mut *conn else { bail!("not a SQLite connection") };

    let (staging, copy) = Staging::next_to(file)
        .with_context(|| format!("cannot prepare a private directory next to {}", file.display()))?;
    let staged = staging.copy.to_str().ok_or_else(|| anyhow!("the backup path is not valid UTF-8"))?;
    diesel::RunQueryDsl::execute(diesel::sql_query("VACUUM INTO ?").bind::<diesel::sql_types::Text, _>(staged), sqlite)
        .with_context(|| format!("cannot write the backup to {}", file.display()))?;
    // SQLite does not sync the file it vacuums into.
    copy.sync_all().with_context(|| format!("cannot sync the backup of {}", file.display()))?;
    staging.publish(file)?;
    line(format!("backup written to {}", file.display()))
}

/// A directory of its own for the copy, removed with what it holds when dropped.
struct Staging {
    dir: PathBuf,
    copy: PathBuf,
}

impl Staging {
    /// Creates the directory (0700) next to `file` and in it the empty copy (0600,
    /// whatever the umask), which `VACUUM INTO` accepts as its target.
    fn next_to(file: &Path) -> std::io::Result<(Staging, File)> {
        let name = file.file_name().ok_or_else(|| std::io::Error::other("the backup path names no file"))?;
        let dir =
            parent_of(file).join(format!(".{}.spcm-backup-{:016x}", name.to_string_lossy(), rand::random::<u64>()));
        // mkdir creates or fails: it never follows a link, nor reuses what is there.
        DirBuilder::new().mode(0o700).create(&dir)?;
        let staging = Staging { copy: dir.join("copy.db"), dir };
        let copy = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&staging.copy)?;
        copy.set_permissions(Permissions::from_mode(0o600))?;
        Ok((staging, copy))
    }

    /// Gives the copy its name `file`: never over anything already there, never through
    /// a link. A hard link where the file system has them, else a rename that refuses
    /// to replace; then the directory entry is synced.
    fn publish(&self, file: &Path) -> anyhow::Result<()> {
        let linked = match std::fs::hard_link(&self.copy, file) {
            Err(err) if err.kind() != ErrorKind::AlreadyExists => rename_without_replacing(&self.copy, file),
            other => other,
        };
        match linked {
            Ok(()) => {}
            Err(err) if err.kind() == ErrorKind::AlreadyExists => {
                bail!("{} already exists (a file or a symbolic link); name a new file", file.display())
            }
            Err(err) => return Err(err).with_context(|| format!("cannot write the backup to {}", file.display())),
        }
        File::open(parent_of(file))
            .and_then(|dir| dir.sync_all())
            .with_context(|| format!("cannot sync the directory of {}", file.display()))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Err(err) = std::fs::remove_dir_all(&self.dir) {
            eprintln!("spcm: warning: cannot remove {}: {err}", self.dir.display());
        }
    }
}

/// The directory `file` is in (`.` for a bare name).
fn parent_of(file: &Path) -> &Path {
    file.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// `renameat2(RENAME_NOREPLACE)`: fails with `AlreadyExists` instead of replacing `to`.
#[cfg(target_os = "linux")]
fn rename_without_replacing(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let from = CString::new(from.as_os_str().as_bytes())?;
    let to = CString::new(to.as_os_str().as_bytes())?;
    // SAFETY: both paths are NUL-terminated strings that live across the call.
    let done =
        unsafe { libc::renameat2(libc::AT_FDCWD, from.as_ptr(), libc::AT_FDCWD, to.as_ptr(), libc::RENAME_NOREPLACE) };
    if done == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn rename_without_replacing(_from: &Path, _to: &Path) -> std::io::Result<()> {
    Err(std::io::Error::new(ErrorKind::Unsupported, "this file system has no hard links"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the early check cannot see: a link or a file that appears at FILE while the
    /// copy is taken. Publishing refuses it and leaves it as it is.
    #[test]
    fn publishing_never_replaces_or_follows_what_appeared_meanwhile() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let target = dir.path().join("elsewhere.db");
        let link = dir.path().join("backup.db");
        let file = dir.path().join("other.db");
        std::os::unix::fs::symlink(&target, &link).expect("link");
        std::fs::write(&file, b"keep").expect("file");
        for existing in [&link, &file] {
            let (staging, copy) = Staging::next_to(existing).expect("staging");
            assert_eq!(copy.metadata().expect("metadata").permissions().mode() & 0o777, 0o600);
            assert_eq!(std::fs::metadata(&staging.dir).expect("metadata").permissions().mode() & 0o777, 0o700);
            let refused = staging.publish(existing).expect_err("refused");
            assert!(refused.to_string().contains("already exists"), "{refused}");
            drop(staging);
        }
        assert!(!target.exists(), "nothing written through the link");
        assert_eq!(std::fs::read(&file).expect("read"), b"keep");
        let mut left: Vec<_> =
            std::fs::read_dir(dir.path()).expect("list").map(|e| e.expect("entry").file_name()).collect();
        left.sort();
        assert_eq!(left, ["backup.db", "other.db"], "the staging directories are gone");
    }

    #[test]
    fn a_rename_that_would_replace_is_refused() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let (from, to) = (dir.path().join("from"), dir.path().join("to"));
        std::fs::write(&from, b"new").expect("file");
        std::fs::write(&to, b"old").expect("file");
        let refused = rename_without_replacing(&from, &to).expect_err("refused");
        assert_eq!(refused.kind(), ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&to).expect("read"), b"old");
        std::fs::remove_file(&to).expect("remove");
        rename_without_replacing(&from, &to).expect("renamed");
        assert_eq!(std::fs::read(&to).expect("read"), b"new");
    }
}
