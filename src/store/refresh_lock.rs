//! One refresh across processes. An app and its extensions (or an Android app's
//! processes) share one store; with rotating refresh tokens, two of them refreshing at
//! once spend one refresh token twice and the server signs the user out. A store that
//! offers a `RefreshLock` makes the session hold it from "read the store again" to "the
//! rotated tokens are saved": a process that waited for it finds the other's tokens in
//! the store and adopts them instead of refreshing.
//!
//! The lock is an advisory file lock (`flock`), which the OS releases when a process
//! dies, so a killed process never blocks the others. Every step under it is bounded:
//! acquiring (the refresh timeout), the store calls (the store timeout), the refresh call.

use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::types::error::StoreError;

/// A lock shared by every process (and `Session`) that uses one token store.
#[uniffi::export(with_foreign)]
pub trait RefreshLock: Send + Sync {
    /// Waits up to `timeoutMs` milliseconds for the lock. True when this caller now holds it; false
    /// when another holder kept it all that time.
    fn acquire(&self, timeout_ms: u64) -> Result<bool, StoreError>;
    /// Gives the lock up.
    fn release(&self) -> Result<(), StoreError>;
}

/// A `RefreshLock` on the file at `path` (created if missing, next to the tokens: for
/// iOS extensions in the App Group container, on Android in the app's files directory).
/// The Keychain and Keystore stores, and `FileTokenStore`, use it.
#[uniffi::export]
pub fn file_refresh_lock(path: String) -> Arc<dyn RefreshLock> {
    Arc::new(FileRefreshLock::new(path))
}

/// A `RefreshLock` on a lock file (`flock`), released by the OS if the process dies.
pub struct FileRefreshLock {
    path: PathBuf,
    /// The open, locked file while this object holds the lock. Also what makes two
    /// callers of one object wait for each other: `flock` alone would let a second
    /// caller through on the same open file.
    held: Mutex<Option<File>>,
}

/// How often a waiting caller tries again; refreshes are rare, so polling is cheap.
const POLL: Duration = Duration::from_millis(5);

impl FileRefreshLock {
    /// A lock on the file at `path`, created when first taken.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileRefreshLock { path: path.into(), held: Mutex::new(None) }
    }

    fn try_once(&self) -> Result<bool, StoreError> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if held.is_some() {
            return Ok(false);
        }
        let file = open_lock_file(&self.path).map_err(|e| failed("open the refresh lock", e))?;
        match file.try_lock() {
            Ok(()) => {
                *held = Some(file);
                Ok(true)
            }
            Err(std::fs::TryLockError::WouldBlock) => Ok(false),
            Err(std::fs::TryLockError::Error(e)) => Err(failed("lock the refresh lock", e)),
        }
    }
}

impl RefreshLock for FileRefreshLock {
    fn acquire(&self, timeout_ms: u64) -> Result<bool, StoreError> {
        let deadline = Instant::now() + Duration::from_millis(timeout_ms);
        loop {
            if self.try_once()? {
                return Ok(true);
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            std::thread::sleep(POLL);
        }
    }

    fn release(&self) -> Result<(), StoreError> {
        // Closing the file releases the lock.
        drop(self.held.lock().unwrap_or_else(|p| p.into_inner()).take());
        Ok(())
    }
}

fn open_lock_file(path: &std::path::Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

fn failed(what: &str, e: std::io::Error) -> StoreError {
    StoreError::Failed { detail: format!("{what}: {e}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_locks_on_one_file_exclude_each_other_until_released() {
        let path = std::env::temp_dir().join(format!("refreshkit-lock-{}", std::process::id()));
        let (first, second) = (FileRefreshLock::new(&path), FileRefreshLock::new(&path));

        assert_eq!(first.acquire(0), Ok(true));
        assert_eq!(second.acquire(20), Ok(false));
        assert_eq!(first.acquire(0), Ok(false), "one object is one holder");
        first.release().unwrap();
        assert_eq!(second.acquire(0), Ok(true));
        second.release().unwrap();
        std::fs::remove_file(path).unwrap();
    }
}
