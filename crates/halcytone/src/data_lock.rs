//! One server per data directory. `halcytone up` and `halcytone serve` (on SQLite) hold an
//! exclusive lock on `<data dir>/halcytone.lock` for as long as they run; the file says who
//! holds it (PID, start time, command). A second server on the same directory exits at once,
//! naming the holder, instead of sharing a database it assumes it owns. The lock is the
//! operating system's (released when the process ends, even when killed), so a stale file
//! never blocks a restart.

use anyhow::{Result, bail};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The name of the lock file inside a data directory.
pub const LOCK_FILE: &str = "halcytone.lock";

/// A held lock; dropping it releases the directory.
#[derive(Debug)]
pub struct DataLock {
    _file: File,
}

/// Takes the lock on `dir` for `command` (e.g. `halcytone up`), or says who holds it.
pub fn acquire(dir: &Path, command: &str) -> Result<DataLock> {
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| anyhow::anyhow!("cannot open the lock file {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            bail!(
                "the data directory {} is in use by another Halcytone server ({}); stop it first, or give this one another directory (--data-dir, or DATABASE_URL)",
                dir.display(),
                if holder.is_empty() {
                    "it has not written its name yet".to_string()
                } else {
                    holder.replace('\n', ", ")
                }
            );
        }
        Err(TryLockError::Error(e)) => {
            bail!("cannot lock the data directory {}: {e}", dir.display())
        }
    }
    let started = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let note = format!(
        "pid {}\nstarted {started}\ncommand {command}\n",
        std::process::id()
    );
    file.set_len(0)
        .and_then(|()| file.seek(SeekFrom::Start(0)).map(|_| ()))
        .and_then(|()| file.write_all(note.as_bytes()))
        .and_then(|()| file.flush())
        .map_err(|e| anyhow::anyhow!("cannot write the lock file {}: {e}", path.display()))?;
    tracing::debug!(lock = %path.display(), "data directory locked");
    Ok(DataLock { _file: file })
}

/// The directory holding a `sqlite://` database, when the URL names one.
pub fn sqlite_dir(database_url: &str) -> Option<PathBuf> {
    let path = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path.starts_with(':') {
        return None; // in memory
    }
    let parent = Path::new(path).parent().map(Path::to_path_buf);
    Some(match parent {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => PathBuf::from("."),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_name() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let first = acquire(dir.path(), "halcytone up").unwrap_or_else(|e| panic!("{e}"));
        let err = acquire(dir.path(), "halcytone serve")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("in use by another Halcytone server"), "{err}");
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        assert!(err.contains("command halcytone up"), "{err}");
        drop(first);
        assert!(acquire(dir.path(), "halcytone serve").is_ok());
    }

    #[test]
    fn sqlite_urls_name_their_directory() {
        assert_eq!(
            sqlite_dir("sqlite://data/halcytone.db"),
            Some(PathBuf::from("data"))
        );
        assert_eq!(sqlite_dir("sqlite:x.db"), Some(PathBuf::from(".")));
        assert_eq!(sqlite_dir("sqlite::memory:"), None);
        assert_eq!(sqlite_dir("postgres://h/db"), None);
    }
}
