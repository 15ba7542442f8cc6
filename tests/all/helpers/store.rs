use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use refreshkit::{StoreError, TokenStore, Tokens};

/// An in-memory `TokenStore` whose load and save can be made to fail.
#[derive(Default)]
pub struct MemoryStore {
    tokens: Mutex<Option<Tokens>>,
    pub fail_load: AtomicBool,
    pub fail_save: AtomicBool,
    pub saves: AtomicU64,
    pub loads: AtomicU64,
    pub clears: AtomicU64,
}

impl MemoryStore {
    pub fn holding(tokens: Tokens) -> MemoryStore {
        MemoryStore { tokens: Mutex::new(Some(tokens)), ..Default::default() }
    }

    pub fn get(&self) -> Option<Tokens> {
        self.tokens.lock().unwrap().clone()
    }

    pub fn fail_load(&self, on: bool) {
        self.fail_load.store(on, Ordering::SeqCst);
    }

    pub fn fail_save(&self, on: bool) {
        self.fail_save.store(on, Ordering::SeqCst);
    }
}

impl TokenStore for MemoryStore {
    fn load(&self) -> Result<Option<Tokens>, StoreError> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        if self.fail_load.load(Ordering::SeqCst) {
            return Err(StoreError::Locked);
        }
        Ok(self.get())
    }

    fn save(&self, tokens: Tokens) -> Result<(), StoreError> {
        if self.fail_save.load(Ordering::SeqCst) {
            return Err(StoreError::Failed { detail: "disk full".into() });
        }
        self.saves.fetch_add(1, Ordering::SeqCst);
        *self.tokens.lock().unwrap() = Some(tokens);
        Ok(())
    }

    fn clear(&self) -> Result<(), StoreError> {
        self.clears.fetch_add(1, Ordering::SeqCst);
        *self.tokens.lock().unwrap() = None;
        Ok(())
    }

    fn refresh_lock(&self) -> Option<std::sync::Arc<dyn refreshkit::RefreshLock>> {
        None
    }
}

/// A gate a store call can be held at, from the test's side.
#[derive(Default)]
pub struct Gate {
    closed: std::sync::Mutex<bool>,
    changed: std::sync::Condvar,
    /// Calls waiting at the gate now.
    pub waiting: AtomicU64,
}

impl Gate {
    pub fn close(&self) {
        *self.closed.lock().unwrap() = true;
    }

    pub fn open(&self) {
        *self.closed.lock().unwrap() = false;
        self.changed.notify_all();
    }

    /// Blocks while the gate is closed: at most twice a test's patience, so a broken test
    /// cannot hang, and a test waiting for something while the gate holds gives up first.
    pub fn pass(&self) {
        let closed = self.closed.lock().unwrap();
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let _ = self.changed.wait_timeout_while(closed, 2 * super::PATIENCE, |c| *c).unwrap();
        self.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A memory store whose calls can be held at gates (a slow Keychain) or made to fail.
#[derive(Default)]
pub struct GatedStore {
    pub inner: MemoryStore,
    pub load_gate: Gate,
    pub save_gate: Gate,
    pub clear_gate: Gate,
    pub fail_clear: AtomicBool,
    /// The refresh lock it offers (none by default).
    pub refresh_lock: Option<std::sync::Arc<dyn refreshkit::RefreshLock>>,
}

impl TokenStore for GatedStore {
    fn load(&self) -> Result<Option<Tokens>, StoreError> {
        self.load_gate.pass();
        self.inner.load()
    }

    fn save(&self, tokens: Tokens) -> Result<(), StoreError> {
        self.save_gate.pass();
        self.inner.save(tokens)
    }

    fn clear(&self) -> Result<(), StoreError> {
        self.clear_gate.pass();
        if self.fail_clear.load(Ordering::SeqCst) {
            return Err(StoreError::Failed { detail: "keychain delete failed".into() });
        }
        self.inner.clear()
    }

    fn refresh_lock(&self) -> Option<std::sync::Arc<dyn refreshkit::RefreshLock>> {
        self.refresh_lock.clone()
    }
}
