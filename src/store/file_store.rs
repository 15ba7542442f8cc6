//! A `TokenStore` in a JSON file, written atomically (temporary file, fsync, rename), so
//! a process killed mid-write leaves the old tokens or the new, never half of either.
//! For Rust programs, desktop tools and tests; apps use the Keychain or Keystore.

use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::store::refresh_lock::{FileRefreshLock, RefreshLock};
use crate::store::TokenStore;
use crate::types::error::StoreError;
use crate::types::tokens::Tokens;

/// Tokens in a JSON file, private to its owner, replaced atomically; processes sharing
/// the file refresh one at a time through a lock file beside it.
pub struct FileTokenStore {
    path: PathBuf,
    /// Serialises writers within this process; across processes, each writes a file of
    /// its own and rename is atomic.
    write_lock: Mutex<()>,
}

#[derive(Serialize, Deserialize)]
struct OnDisk {
    access_token: String,
    refresh_token: Option<String>,
    expires_at_ms: Option<u64>,
    /// Absent in files written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token_type: Option<String>,
}

impl FileTokenStore {
    /// A store at `path` (the file need not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileTokenStore { path: path.into(), write_lock: Mutex::new(()) }
    }

    /// A name no other writer uses: other stores on the same path, in this process or
    /// another, write their own temporary files, so a rename only ever moves a whole one.
    fn temporary_path(&self) -> PathBuf {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let unique = format!("{}.{}.{nanos}.tmp", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let mut name = self.path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(format!(".{unique}"));
        self.path.with_file_name(name)
    }
}

/// A new file only its owner can read: tokens are credentials.
fn create_private(path: &std::path::Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

fn failed(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Failed { detail: format!("{what}: {e}") }
}

impl TokenStore for FileTokenStore {
    fn load(&self) -> Result<Option<Tokens>, StoreError> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(failed("read", e)),
        };
        let disk: OnDisk = serde_json::from_slice(&bytes).map_err(|e| failed("parse", e))?;
        Ok(Some(Tokens {
            access_token: disk.access_token,
            refresh_token: disk.refresh_token,
            expires_at: disk.expires_at_ms.map(|ms| UNIX_EPOCH + Duration::from_millis(ms)),
            id_token: disk.id_token,
            scope: disk.scope,
            token_type: disk.token_type,
        }))
    }

    fn save(&self, tokens: Tokens) -> Result<(), StoreError> {
        let disk = OnDisk {
            expires_at_ms: tokens
                .expires_at
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_millis() as u64),
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            id_token: tokens.id_token,
            scope: tokens.scope,
            token_type: tokens.token_type,
        };
        let bytes = serde_json::to_vec(&disk).map_err(|e| failed("encode", e))?;
        let _guard = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        let tmp = self.temporary_path();
        let written = create_private(&tmp)
            .and_then(|mut file| file.write_all(&bytes).and_then(|_| file.sync_all()))
            .map_err(|e| failed("write", e))
            .and_then(|_| fs::rename(&tmp, &self.path).map_err(|e| failed("rename", e)));
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Makes the rename itself durable.
            let _ = fs::File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(())
    }

    /// A lock file beside the token file, so processes sharing it refresh one at a time.
    fn refresh_lock(&self) -> Option<Arc<dyn RefreshLock>> {
        let mut name = self.path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(".lock");
        Some(Arc::new(FileRefreshLock::new(self.path.with_file_name(name))))
    }

    fn clear(&self) -> Result<(), StoreError> {
        let _guard = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(failed("remove", e)),
        }
    }
}
